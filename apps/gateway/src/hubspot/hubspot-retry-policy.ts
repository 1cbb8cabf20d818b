/** What one attempt at a HubSpot call produced. */
export type AttemptOutcome =
  | {
      readonly kind: 'response';
      readonly status: number;
      readonly retryAfterMs?: number;
      /** `policyName` of a 429 body (`TEN_SECONDLY_ROLLING`, `SECONDLY`, `DAILY`). */
      readonly policyName?: string;
    }
  | { readonly kind: 'timeout' }
  | { readonly kind: 'network' };

export type RetryDecision =
  | { readonly retry: false; readonly retryable: boolean }
  /** `pauseBucket`: the portal's shared bucket is paused for `delayMs` (a 429), not just this call. */
  | { readonly retry: true; readonly delayMs: number; readonly pauseBucket: boolean };

export interface RetryPolicySettings {
  readonly maxAttempts: number;
  readonly baseDelayMs: number;
  /** The rate window: how long a `TEN_SECONDLY_ROLLING` 429 pauses the portal when there is no Retry-After. */
  readonly rateIntervalMs: number;
}

const MAX_BACKOFF_MS = 30_000;
/** A 423 means a concurrent write holds the object; HubSpot's advice is to retry after about 2 s (§6.3). */
const LOCKED_RETRY_MS = 2_000;

/** Exponential backoff with full jitter: uniform in [base·2^(n-1)/2, base·2^(n-1)]. */
export function backoffMs(attempt: number, baseDelayMs: number, random: () => number = Math.random): number {
  const ceiling = Math.min(MAX_BACKOFF_MS, baseDelayMs * 2 ** (attempt - 1));
  return Math.round(ceiling / 2 + (random() * ceiling) / 2);
}

/** `Retry-After` as seconds or an HTTP date, in ms from `now`; undefined when absent or unreadable. */
export function parseRetryAfter(header: string | null, now: number = Date.now()): number | undefined {
  if (header === null || header.trim() === '') {
    return undefined;
  }
  const trimmed = header.trim();
  if (/^\d+(\.\d+)?$/.test(trimmed)) {
    return Math.round(Number(trimmed) * 1000);
  }
  const date = Date.parse(trimmed);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

/**
 * Whether HubSpot may have carried out the attempt although it failed: no answer came back (timeout, dropped
 * connection) or a 5xx did, which a proxy in front of HubSpot also sends for work that went through.
 */
export function outcomeIsUnknown(outcome: AttemptOutcome): boolean {
  return outcome.kind !== 'response' || outcome.status >= 500;
}

function isTransientStatus(status: number): boolean {
  return status >= 500 || status === 408 || status === 423 || status === 477;
}

/**
 * HubSpot's retry table (hubspot-api.md §6.3, engineering notes §6.4): 429 waits for Retry-After or its
 * policy's window and pauses the portal's bucket (`DAILY` is never retried); 5xx, 408, 423, 477, timeouts
 * and dropped connections back off exponentially with jitter, a 423 at least 2 s; other 4xx are not retried.
 * After `maxAttempts` the caller gets a retryable error.
 */
export function decideRetry(
  outcome: AttemptOutcome,
  attempt: number,
  settings: RetryPolicySettings,
  random: () => number = Math.random,
): RetryDecision {
  if (outcome.kind === 'response' && outcome.status === 429) {
    if (outcome.policyName === 'DAILY') {
      return { retry: false, retryable: true };
    }
    if (attempt >= settings.maxAttempts) {
      return { retry: false, retryable: true };
    }
    const policyWait = outcome.policyName === 'SECONDLY' ? 1_000 : settings.rateIntervalMs;
    const delayMs = outcome.retryAfterMs ?? policyWait;
    return { retry: true, delayMs: delayMs + Math.round(random() * 100), pauseBucket: true };
  }
  const transient = outcome.kind !== 'response' || isTransientStatus(outcome.status);
  if (!transient) {
    return { retry: false, retryable: false };
  }
  if (attempt >= settings.maxAttempts) {
    return { retry: false, retryable: true };
  }
  const retryAfter = outcome.kind === 'response' ? outcome.retryAfterMs : undefined;
  const delayMs = retryAfter ?? backoffMs(attempt, settings.baseDelayMs, random);
  const locked = outcome.kind === 'response' && outcome.status === 423;
  return { retry: true, delayMs: locked ? Math.max(LOCKED_RETRY_MS, delayMs) : delayMs, pauseBucket: false };
}
