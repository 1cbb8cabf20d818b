import type {
  DeliveryIdentifier,
  DeliveryStatus,
  GatewayOutboundMessageRequestedV1,
  Provider,
  ProviderCapabilities,
  ProviderCredentials,
  ProviderMessageReceivedV1,
} from '@inbox-bridge/shared';
import type { Readable } from 'node:stream';
import type { SendProgress } from '../outbound/send-progress.js';

/** A channel account as the connector stores it, credentials decrypted. */
export interface ConnectedAccount {
  readonly channelAccountId: string;
  readonly portalId: number;
  readonly provider: Provider;
  readonly credentials: ProviderCredentials;
  /** The secret the provider echoes on every webhook (Telegram `secret_token`); undefined for the others. */
  readonly webhookSecret: string | undefined;
  readonly active: boolean;
  readonly authorized: boolean;
}

export type CredentialCheck =
  | {
      readonly ok: true;
      readonly accountName: string;
      readonly deliveryIdentifier: DeliveryIdentifier;
    }
  | { readonly ok: false; readonly code: string; readonly message: string };

/** The raw webhook request, for signature checks over the exact bytes and the public URL the provider called. */
export interface InboundRequest {
  readonly rawBody: Buffer;
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  /** `CONNECTOR_PUBLIC_BASE_URL` + the path and query as received. */
  readonly publicUrl: string;
}

/** A customer message, normalised to the contract, with the key that makes a redelivery a duplicate. */
export interface NormalisedMessage {
  readonly dedupeKey: string;
  readonly message: ProviderMessageReceivedV1;
  /**
   * The message comes from an address a conversation may have moved to (a Telegram supergroup, which may have been
   * a group): its conversation key is the one the conversation had before it moved, when it did.
   */
  readonly conversationMayHaveMoved?: boolean;
}

/** A provider's report about a message the connector sent. */
export interface ProviderStatusReport {
  readonly providerMessageId: string;
  readonly status: DeliveryStatus;
  readonly failureReason?: string;
  readonly providerErrorCode?: string;
  readonly occurredAt: string;
  /** The provider reports nothing more about the message (Twilio `delivered`, `undelivered`, `failed`). */
  readonly final?: boolean;
}

/** A message's status read from the provider; `final` without a report: it has nothing more to say about it. */
export interface FetchedStatus {
  readonly report?: ProviderStatusReport;
  readonly final: boolean;
}

export type InboundEvent =
  | { readonly kind: 'message'; readonly normalised: NormalisedMessage }
  | { readonly kind: 'status'; readonly report: ProviderStatusReport }
  /** The provider gave the conversation at `from` a new address, `to` (a Telegram group became a supergroup). */
  | { readonly kind: 'conversation-moved'; readonly from: string; readonly to: string }
  /** Not a message, counted and logged on purpose (e.g. the customer blocked the bot). */
  | { readonly kind: 'ignored'; readonly reason: string };

/** The bytes of a provider media file, streamed. */
export interface MediaStream {
  readonly body: Readable;
  readonly contentType: string;
  readonly contentLength?: number;
}

/** An attachment of an outbound message, ready to stream from the gateway. */
export interface OutboundFile {
  readonly kind: GatewayOutboundMessageRequestedV1['attachments'][number]['kind'];
  readonly mimeType: string;
  readonly fileName: string;
  readonly sizeBytes: number | undefined;
  /** Internal signed link to the gateway's `/internal/files` (streams the HubSpot file). */
  readonly internalUrl: string;
  /** Short-lived public link to the connector's `/public/media` (for providers that fetch media themselves). */
  readonly publicUrl: string;
}

/** Where the provider has a reply's conversation, and how the adapter reports that the provider moved it. */
export interface ConversationAddress {
  /** The conversation key, or the address the conversation moved to. */
  readonly current: string;
  /** The provider answered that the conversation is at `address` now: later replies go there at once. */
  moved(address: string): Promise<void>;
}

export interface OutboundMessage {
  readonly request: GatewayOutboundMessageRequestedV1;
  readonly address: ConversationAddress;
  readonly files: readonly OutboundFile[];
  /** Parts of this reply sent by earlier attempts: skip them, record new ones. */
  readonly progress: SendProgress;
}

/**
 * Why a send failed: `transient` (the provider is down, rate-limited or slow: retried with backoff, after
 * `retryAfterMs` when the provider named it) or `permanent` (reported to the agent at once with `reason`).
 */
export class SendFailure extends Error {
  override readonly name = 'SendFailure';
  constructor(
    readonly kind: 'transient' | 'permanent',
    /** Shown to the agent in HubSpot: plain words, no provider jargon. */
    readonly reason: string,
    readonly providerErrorCode?: string,
    readonly retryAfterMs?: number,
    /** The provider refused the account's credentials: no reply of this account can be sent until it is reconnected. */
    readonly credentialsRejected = false,
  ) {
    super(reason);
  }

  static credentialsRejected(reason: string, providerErrorCode: string): SendFailure {
    return new SendFailure('permanent', reason, providerErrorCode, undefined, true);
  }
}

/**
 * A read from the provider (a comparison, a status) refused the account's credentials: the same verdict as a
 * reply's `SendFailure.credentialsRejected`, so the account is deauthorized without waiting for a reply.
 */
export class CredentialsRejectedError extends Error {
  override readonly name = 'CredentialsRejectedError';
  constructor(
    readonly reason: string,
    readonly providerErrorCode: string,
  ) {
    super(reason);
  }
}

/** The media file is larger than the provider lets us download (→ 413). */
export class MediaTooLargeError extends Error {
  override readonly name = 'MediaTooLargeError';
  constructor(readonly limitBytes: number) {
    super(`the file is larger than the provider's ${limitBytes}-byte download limit`);
  }
}

/** The media reference names nothing the provider can serve (→ 404). */
export class MediaNotFoundError extends Error {
  override readonly name = 'MediaNotFoundError';
}

/** The webhook's signature or secret token is missing or wrong (→ 401). */
export class InboundUnauthorizedError extends Error {
  override readonly name = 'InboundUnauthorizedError';
}

/** The provider's ids of a sent reply. */
export interface SentReply {
  /** Its first message: the id HubSpot's status events name. */
  readonly providerMessageId: string;
  /**
   * Its later messages, where the provider reports each one's status on its own (Twilio: a reply longer than one SMS
   * body); their statuses are the reply's too.
   */
  readonly laterPartIds?: readonly string[];
}

/**
 * One messaging provider, behind the same port: the connector's services never call a provider API directly.
 * Adapters take their API origin from configuration, so production talks to the real provider and tests to
 * the provider sandbox with the same code.
 */
export interface ProviderAdapter {
  readonly provider: Provider;
  readonly capabilities: ProviderCapabilities;
  /**
   * Checks credentials with the provider (never throws for a provider "no": answers `ok: false`); `channelAccountId`
   * when they are new ones for that connected account.
   */
  validateCredentials(credentials: ProviderCredentials, channelAccountId?: string): Promise<CredentialCheck>;
  /** Points the provider's webhooks at the connector (Telegram setWebhook, Twilio SmsUrl). */
  connect(account: ConnectedAccount): Promise<void>;
  /** Removes what `connect` set up, best effort (the account is being purged). */
  disconnect(account: ConnectedAccount): Promise<void>;
  /** Verifies a webhook request and normalises it; throws `InboundUnauthorizedError` or a 400 validation error. */
  parseInbound(
    account: ConnectedAccount,
    request: InboundRequest,
    path: 'message' | 'status',
  ): InboundEvent[];
  /** Streams a media file named by the provider-specific part of a `downloadRef`. */
  resolveMedia(account: ConnectedAccount, mediaKey: string): Promise<MediaStream>;
  /** Sends a rep's reply; returns the provider's message ids or throws `SendFailure`. */
  send(account: ConnectedAccount, message: OutboundMessage): Promise<SentReply>;
  /**
   * Whether the provider can have given this conversation another address (a Telegram basic group upgraded to a
   * supergroup), so a reply first looks the move up. Absent: never.
   */
  mayHaveMoved?(conversationKey: string): boolean;
  /**
   * The inbound messages the provider holds that it received in [from, until), oldest first, normalised as their
   * webhooks would be. Only for providers that keep messages and do not redeliver a failed webhook (Twilio).
   */
  listInbound?(account: ConnectedAccount, from: Date, until: Date): Promise<InboundEvent[]>;
  /**
   * The current status of a sent message, read from the provider, for one whose status callbacks may have been
   * lost (refused while its credentials were out of date, or sent while the connector was unreachable). Only for
   * providers that report delivery by callbacks they do not redeliver (Twilio). Throws when the provider cannot
   * answer; a message it no longer has is final with no report.
   */
  fetchStatus?(account: ConnectedAccount, providerMessageId: string): Promise<FetchedStatus>;
  /**
   * How the provider sees the account's webhook, for providers that keep one webhook per account (Telegram
   * `getWebhookInfo`, a Twilio number's `sms_url`); `connect` sets it again. Throws `CredentialsRejectedError` when
   * the provider refuses the credentials.
   */
  readWebhook?(account: ConnectedAccount): Promise<WebhookState>;
}

/** The provider's view of an account's webhook. */
export interface WebhookState {
  /** Whether it is set, to the connector's URL for this account. */
  readonly pointsHere: boolean;
  /** The URL it is set to ('' when none). */
  readonly url: string;
  /** Updates the provider holds for the webhook, not delivered yet (where it says). */
  readonly pendingUpdates?: number;
  /** The provider's last failure to deliver to the webhook, in its own words. */
  readonly lastError?: { readonly at: Date; readonly message: string };
  /**
   * Set when something other than the account's own webhook decides where its messages go (a Twilio number's TwiML
   * App or Messaging Service), so `connect` cannot point them here: `url` is that owner's. `reason` says what to set.
   */
  readonly owner?: { readonly kind: string; readonly sid: string; readonly reason: string };
}
