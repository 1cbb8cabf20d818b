/** Wire types of the `/__sandbox/*` control API, shared by the controller and the typed client. */

export type Availability = 'available' | 'away';

export interface SeedUserRequest {
  readonly id: number;
  readonly email: string;
  readonly firstName?: string;
  readonly lastName?: string;
  /** The user's owner id (generated when absent). */
  readonly ownerId?: string;
  /** Team ids; the first is the primary team. */
  readonly teamIds?: readonly string[];
  /** A seat with inbox access (default true); assignment requires one. */
  readonly seat?: boolean;
  /** `hs_availability_status` (default `available`). */
  readonly availability?: Availability;
}

/** An owner without a HubSpot user (a queue, a former rep). */
export interface SeedOwnerRequest {
  readonly id?: string;
  readonly email: string;
  readonly firstName?: string;
  readonly lastName?: string;
  readonly type?: 'PERSON' | 'QUEUE';
  readonly teamIds?: readonly string[];
  readonly archived?: boolean;
}

export interface SeedContactRequest {
  readonly id?: string;
  /** Contact properties, e.g. `email`, `firstname`, `phone`, `hubspot_owner_id` (an owner id). */
  readonly properties: Readonly<Record<string, string>>;
}

export interface SeedPortalRequest {
  readonly hubId: number;
  readonly domain?: string;
  readonly teams?: readonly { id: string; name: string }[];
  readonly users?: readonly SeedUserRequest[];
  readonly owners?: readonly SeedOwnerRequest[];
  readonly contacts?: readonly SeedContactRequest[];
  readonly inboxes?: readonly { id: string; name: string; helpDesk?: boolean }[];
}

export interface UserChangeRequest {
  readonly availability?: Availability;
  readonly seat?: boolean;
  /** false deactivates the user: its owner's `userId` becomes null. */
  readonly active?: boolean;
}

export interface RegisterAppRequest {
  readonly appId: number;
  readonly name?: string;
  readonly clientId: string;
  readonly clientSecret: string;
  readonly developerApiKeys: readonly string[];
  readonly redirectUris: readonly string[];
  readonly scopes: readonly string[];
}

export interface IssueTokenRequest {
  readonly appId: number;
  readonly userId: number;
  readonly scopes: readonly string[];
}

export interface IssuedTokens {
  readonly access_token: string;
  readonly refresh_token: string;
  readonly expires_in: number;
  readonly token_type: 'bearer';
}

export interface RateLimitSettings {
  /** 0 = unlimited (no 429s and no rate-limit headers). */
  readonly max: number;
  readonly intervalMs: number;
}

/**
 * A fault rule: matches requests by method (optional) and path prefix; the first matching rule that is not
 * used up applies. Per request at most one of drop, timeout, error, lost answer and late answer fires (checked
 * in that order).
 */
export interface FaultRule {
  readonly method?: string;
  readonly pathPrefix: string;
  /** Probability 0..1 of answering `status` instead of serving the request. */
  readonly errorRate?: number;
  readonly status?: number;
  /** Added before the request is served (or failed). */
  readonly latencyMs?: number;
  /** Probability 0..1 of holding the request without an answer for `holdMs`, then destroying the socket. */
  readonly timeoutRate?: number;
  /** How long a timeout or late-answer fault holds the socket (default 30 000 ms); needs either rate. */
  readonly holdMs?: number;
  /** Probability 0..1 of destroying the socket at once, without an HTTP response. */
  readonly dropRate?: number;
  /**
   * Probability 0..1 of serving the request (whatever it writes is stored) and then destroying the socket
   * instead of sending the answer: the client cannot tell whether its write happened.
   */
  readonly lostAnswerRate?: number;
  /**
   * Probability 0..1 of serving the request (whatever it writes is stored) and holding its answer for `holdMs`
   * before sending it: a client with a shorter timeout gives up although its write happened.
   */
  readonly lateAnswerRate?: number;
  /** The rule applies to at most this many requests (those it delays or fails), then is ignored. */
  readonly times?: number;
}

/**
 * The fault a recorded call got: an injected error answer, a held (timed-out) or a dropped connection, or a
 * served request whose answer was lost or sent late.
 */
export type InjectedFault = 'error' | 'timeout' | 'drop' | 'lost-answer' | 'late-answer';

export interface WebhookSettings {
  readonly timeScale: number;
}

export interface FileSettings {
  readonly maxUploadBytes: number;
}

export interface CallLogSettings {
  /** Calls kept (the newest); 0 = none recorded. */
  readonly max: number;
  /** Whether recorded calls keep the request body. */
  readonly bodies: boolean;
}

export interface SandboxSettings {
  readonly rateLimit: RateLimitSettings;
  readonly searchRateLimit: RateLimitSettings;
  readonly faults: readonly FaultRule[];
  readonly webhooks: WebhookSettings;
  readonly files: FileSettings;
  readonly callLog: CallLogSettings;
}

export interface RecordedCall {
  readonly at: string;
  readonly method: string;
  readonly path: string;
  readonly query: Record<string, unknown>;
  readonly portalId?: number;
  readonly appId?: number;
  /**
   * 0 when the connection was held or dropped before the request was served (`timeout`, `drop`); for
   * `lost-answer` and `late-answer`, the status of the answer the request was served with.
   */
  readonly status: number;
  readonly durationMs: number;
  readonly body?: unknown;
  /** Set when an injected fault decided the outcome. */
  readonly fault?: InjectedFault;
}

export interface StagingTokenRequest {
  readonly portalId: number;
  readonly channelId: string;
  readonly inboxId: string;
  readonly userId: number;
}

export interface AgentReplyRequest {
  readonly userId: number;
  readonly text: string;
  readonly richText?: string;
  /** Files of the portal the rep attaches (sent as FILE attachments in OUTGOING_CHANNEL_MESSAGE_CREATED). */
  readonly fileIds?: readonly string[];
}

export interface WebhookAttempt {
  readonly attempt: number;
  readonly at: string;
  readonly status?: number;
  readonly error?: string;
  readonly durationMs: number;
}

export interface WebhookDelivery {
  readonly id: string;
  /** `CUSTOM_CHANNEL`: one §2.2 object to the channel's `webhookUrl`; `WEBHOOKS_API`: a §2.6 array to the app's target URL. */
  readonly kind: 'CUSTOM_CHANNEL' | 'WEBHOOKS_API';
  /** The custom-channel `type`, or the Webhooks API `subscriptionType`s of the batch joined by `,`. */
  readonly eventType: string;
  readonly url: string;
  readonly portalId: number;
  /** Custom-channel events only. */
  readonly channelId?: string;
  readonly appId?: number;
  /** The body of the first attempt (Webhooks API retries differ only in `attemptNumber`). */
  readonly body: string;
  state: 'PENDING' | 'DELIVERED' | 'GAVE_UP';
  readonly attempts: WebhookAttempt[];
}

/** A Webhooks API subscription of an app (§2.6); `propertyName` only for `conversation.propertyChange`. */
export interface WebhookSubscription {
  readonly id: number;
  readonly subscriptionType: ConversationSubscriptionType;
  readonly propertyName?: 'assignedTo' | 'status' | 'isArchived';
  readonly active: boolean;
}

export type ConversationSubscriptionType =
  | 'conversation.creation'
  | 'conversation.deletion'
  | 'conversation.privacyDeletion'
  | 'conversation.newMessage'
  | 'conversation.propertyChange';

/** An app's Webhooks API settings: where the event arrays go and what is subscribed. */
export interface AppWebhookSettings {
  readonly targetUrl: string;
  /** Events per POST (HubSpot: up to 100). */
  readonly maxEventsPerRequest: number;
  readonly subscriptions: readonly WebhookSubscription[];
}

export interface AppWebhookSettingsRequest {
  readonly targetUrl: string;
  readonly maxEventsPerRequest?: number;
  readonly subscriptions: readonly {
    subscriptionType: ConversationSubscriptionType;
    propertyName?: 'assignedTo' | 'status' | 'isArchived';
    active?: boolean;
  }[];
}

/** One Webhooks API conversation event as delivered (§2.6). */
export interface ConversationWebhookEvent {
  readonly eventId: number;
  readonly subscriptionId: number;
  readonly portalId: number;
  readonly appId: number;
  readonly occurredAt: number;
  readonly subscriptionType: ConversationSubscriptionType;
  readonly attemptNumber: number;
  readonly objectId: number;
  readonly propertyName?: string;
  readonly propertyValue?: string;
  readonly messageId?: string;
  readonly messageType?: 'MESSAGE' | 'COMMENT';
}
