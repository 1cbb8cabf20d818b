/** Wire types of the `/__sandbox/*` control API, shared by the controller and the typed client. */

export interface SeedPortalRequest {
  readonly hubId: number;
  readonly domain?: string;
  readonly users?: readonly { id: number; email: string; firstName?: string; lastName?: string }[];
  readonly inboxes?: readonly { id: string; name: string; helpDesk?: boolean }[];
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
  readonly max: number;
  readonly intervalMs: number;
}

/** A fault rule: matches requests by method (optional) and path prefix. */
export interface FaultRule {
  readonly method?: string;
  readonly pathPrefix: string;
  /** Probability 0..1 of answering `status` instead of serving the request. */
  readonly errorRate?: number;
  readonly status?: number;
  /** Added before the request is served (or failed). */
  readonly latencyMs?: number;
}

export interface WebhookSettings {
  readonly timeScale: number;
}

export interface SandboxSettings {
  readonly rateLimit: RateLimitSettings;
  readonly faults: readonly FaultRule[];
  readonly webhooks: WebhookSettings;
}

export interface RecordedCall {
  readonly at: string;
  readonly method: string;
  readonly path: string;
  readonly query: Record<string, unknown>;
  readonly portalId?: number;
  readonly appId?: number;
  readonly status: number;
  readonly durationMs: number;
  readonly body?: unknown;
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
  readonly eventType: string;
  readonly url: string;
  readonly portalId: number;
  readonly channelId: string;
  readonly body: string;
  state: 'PENDING' | 'DELIVERED' | 'GAVE_UP';
  readonly attempts: WebhookAttempt[];
}
