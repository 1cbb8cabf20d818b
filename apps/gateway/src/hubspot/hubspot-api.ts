import type { EntityManager } from 'typeorm';
/**
 * The one way gateway code calls HubSpot. Implementations add the credential, the shared per-portal rate
 * limit, retries (429 honouring Retry-After, 5xx and timeouts with backoff), one token refresh on a 401,
 * metrics and logs. Callers never build URLs with secrets or handle rate limiting themselves.
 */
export interface HubSpotRequest<T = unknown> {
  readonly method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  /** Path under the API base URL, e.g. `/conversations/v3/custom-channels/123/messages`. */
  readonly path: string;
  readonly query?: Readonly<Record<string, string | number | boolean | undefined>>;
  /** Serialised as JSON. */
  readonly body?: unknown;
  /** Overrides the default per-attempt timeout. */
  readonly timeoutMs?: number;
  /**
   * For a write HubSpot must not receive twice (a create without an idempotency key, a single-use staging
   * token). After an attempt whose outcome is unknown (a timeout, a dropped connection, a 5xx: HubSpot may
   * have done it), the write is not sent again blindly: after the back-off this looks for its result, which
   * becomes the call's answer (status 200), and only `undefined` (not done) sends the write again. Without it,
   * such attempts are repeated as they are (fine for reads and idempotent writes).
   */
  readonly findIfDone?: () => Promise<T | undefined>;
}

/** A multipart upload (Files API), streamed: the body is never held whole in memory. */
export interface HubSpotUpload {
  readonly path: string;
  readonly fields: Readonly<Record<string, string>>;
  readonly file: {
    readonly fileName: string;
    readonly mimeType: string;
    readonly content: NodeJS.ReadableStream;
    readonly sizeBytes?: number;
  };
}

export interface HubSpotResponse<T> {
  readonly status: number;
  readonly body: T;
}

/** Calls made with one portal's OAuth bearer token. */
export interface PortalHubSpotClient {
  readonly portalId: string;
  request<T = unknown>(request: HubSpotRequest<T>): Promise<HubSpotResponse<T>>;
  upload<T = unknown>(upload: HubSpotUpload): Promise<HubSpotResponse<T>>;
  /** Promises `calls` requests' worth of the portal's budget after every earlier promise; epoch ms of the turn. */
  reserve(calls: number): Promise<number>;
  /** The calls the portal's budget allows within `withinMs` if nobody else calls (see `PortalRateLimiter`). */
  tokensWithin(withinMs: number, manager: EntityManager): Promise<number>;
}

export interface PortalClientOptions {
  /** Longest one call waits for the portal's rate budget (default: HUBSPOT_MAX_RATE_WAIT_MS). */
  readonly maxRateWaitMs?: number;
}

/** Calls made with the developer API key (`hapikey` + `appId`): channel create/list/get/update/delete. */
export interface DeveloperHubSpotClient {
  request<T = unknown>(request: HubSpotRequest<T>): Promise<HubSpotResponse<T>>;
}

/** Nest injection token for {@link HubSpotApi}. */
export const HUBSPOT_API = Symbol('HUBSPOT_API');

export interface HubSpotApi {
  forPortal(portalId: string, options?: PortalClientOptions): PortalHubSpotClient;
  developer(): DeveloperHubSpotClient;
}

/**
 * Thrown after retries are exhausted or for a non-retryable answer. `category` and `hubspotMessage` come from
 * HubSpot's error body; `retryable` says whether trying again later can succeed (429, 5xx, timeouts,
 * a disconnected portal) or not (other 4xx).
 */
export class HubSpotApiError extends Error {
  constructor(
    message: string,
    readonly details: {
      readonly status?: number;
      readonly category?: string;
      readonly hubspotMessage?: string;
      readonly correlationId?: string;
      readonly retryable: boolean;
      /** The portal has no usable token: re-install needed. Traffic for it waits. */
      readonly portalDisconnected?: boolean;
      /**
       * An attempt of this call timed out, lost its connection or got a 5xx, and nothing later showed whether
       * HubSpot carried it out: a write may have happened although the call failed.
       */
      readonly outcomeUnknown?: boolean;
    },
  ) {
    super(message);
    this.name = 'HubSpotApiError';
  }
}
