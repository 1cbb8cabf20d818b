import { Injectable, Logger, type OnApplicationShutdown } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import type { WebhookAttempt, WebhookDelivery } from '../control/control.types.js';
import { SettingsStore } from '../control/settings.store.js';
import { signedWebhookHeaders, signedWebhooksApiHeaders } from './signature.js';

/** HubSpot's Webhooks API policy (§2.3), assumed for custom channels: the first attempt and up to 10 retries. */
export const MAX_ATTEMPTS = 11;
/** ... spread over 24 h: the ten nominal delays between them add up to a day (unscaled). */
const RETRY_SPAN_MS = 24 * 3_600_000;
/** At most 10 concurrent requests per installing account (§2.3); the others wait for a free one. */
export const MAX_CONCURRENT_PER_ACCOUNT = 10;
/** An answer slower than this (scaled) counts as a failure. */
export const ANSWER_TIMEOUT_MS = 5_000;
/**
 * The scaled timeout never drops below this, so a compressed test clock does not fail healthy receivers (200 ms
 * failed a fresh gateway's first answer on a loaded two-core machine).
 */
export const MIN_SCALED_TIMEOUT_MS = 1_000;

/**
 * The range of the delay before attempt `attempt + 1`, unscaled: the nominal delays double from about 84 s and
 * the ten add up to 24 h; HubSpot randomises them, so each is drawn between half its nominal value and all of it
 * (the ten retries then always fall within a day, each at least as late after the previous one as the one before).
 */
export function retryDelayRangeMs(attempt: number): { readonly minMs: number; readonly maxMs: number } {
  const maxMs = (RETRY_SPAN_MS * 2 ** (attempt - 1)) / (2 ** (MAX_ATTEMPTS - 1) - 1);
  return { minMs: maxMs / 2, maxMs };
}

/** A randomised delay before attempt `attempt + 1`, unscaled (see {@link retryDelayRangeMs}). */
export function retryDelayMs(attempt: number, random: () => number = Math.random): number {
  const { minMs, maxMs } = retryDelayRangeMs(attempt);
  return minMs + random() * (maxMs - minMs);
}

export interface WebhookEvent {
  readonly url: string;
  readonly clientSecret: string;
  readonly portalId: number;
  /** Custom-channel events (one object, v3-signed) or Webhooks API events (an array, v1 + v3 headers). */
  readonly kind: 'CUSTOM_CHANNEL' | 'WEBHOOKS_API';
  readonly eventType: string;
  readonly channelId?: string;
  readonly appId?: number;
  /** The body of attempt `n` (1-based): Webhooks API events carry their `attemptNumber`. */
  readonly render: (attempt: number) => string;
}

/**
 * POSTs signed events to the app's URLs, retrying on failure, non-2xx or a slow answer, at most
 * {@link MAX_CONCURRENT_PER_ACCOUNT} requests at once per installing account (app and portal).
 */
@Injectable()
export class WebhookDispatcher implements OnApplicationShutdown {
  private readonly logger = new Logger(WebhookDispatcher.name);
  private readonly deliveries: WebhookDelivery[] = [];
  private readonly timers = new Set<NodeJS.Timeout>();
  /** Requests on their way per installing account, and the attempts waiting for one of them to end. */
  private readonly accounts = new Map<string, { sending: number; waiting: (() => void)[] }>();
  /** Attempts that were waiting when the dispatcher was reset or shut down are dropped, not sent. */
  private generation = 0;

  constructor(private readonly settings: SettingsStore) {}

  dispatch(event: WebhookEvent): WebhookDelivery {
    const delivery: WebhookDelivery = {
      id: randomUUID(),
      kind: event.kind,
      eventType: event.eventType,
      url: event.url,
      portalId: event.portalId,
      ...(event.channelId === undefined ? {} : { channelId: event.channelId }),
      ...(event.appId === undefined ? {} : { appId: event.appId }),
      body: event.render(1),
      state: 'PENDING',
      attempts: [],
    };
    this.deliveries.push(delivery);
    this.schedule(delivery, event, 0);
    return delivery;
  }

  list(): WebhookDelivery[] {
    return [...this.deliveries];
  }

  reset(): void {
    this.cancelTimers();
    this.deliveries.length = 0;
  }

  onApplicationShutdown(): void {
    this.cancelTimers();
  }

  private cancelTimers(): void {
    for (const timer of this.timers) {
      clearTimeout(timer);
    }
    this.timers.clear();
    this.generation += 1;
    for (const { waiting } of this.accounts.values()) {
      for (const wake of waiting.splice(0)) {
        wake();
      }
    }
    this.accounts.clear();
  }

  /** Waits for one of the account's request places; `false` when the dispatcher was reset meanwhile. */
  private async sendingSlot(account: string): Promise<boolean> {
    const generation = this.generation;
    const state = this.accounts.get(account) ?? { sending: 0, waiting: [] };
    this.accounts.set(account, state);
    if (state.sending < MAX_CONCURRENT_PER_ACCOUNT) {
      state.sending += 1;
      return true;
    }
    // The place is handed over by `release`, which leaves `sending` as it is.
    await new Promise<void>((resolve) => state.waiting.push(resolve));
    return generation === this.generation;
  }

  private release(account: string): void {
    const state = this.accounts.get(account);
    if (state === undefined) {
      return;
    }
    const next = state.waiting.shift();
    if (next !== undefined) {
      next();
      return;
    }
    state.sending -= 1;
    if (state.sending === 0) {
      this.accounts.delete(account);
    }
  }

  private schedule(delivery: WebhookDelivery, event: WebhookEvent, delayMs: number): void {
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      void this.attempt(delivery, event);
    }, delayMs);
    this.timers.add(timer);
  }

  private async attempt(delivery: WebhookDelivery, event: WebhookEvent): Promise<void> {
    const account = `${event.appId ?? '-'}:${event.portalId}`;
    if (!(await this.sendingSlot(account))) {
      return;
    }
    const generation = this.generation;
    const scale = this.settings.webhookTimeScale;
    const started = Date.now();
    const attemptNumber = delivery.attempts.length + 1;
    const body = attemptNumber === 1 ? delivery.body : event.render(attemptNumber);
    const sign = event.kind === 'WEBHOOKS_API' ? signedWebhooksApiHeaders : signedWebhookHeaders;
    let outcome: Pick<WebhookAttempt, 'status' | 'error'>;
    try {
      const response = await fetch(delivery.url, {
        method: 'POST',
        headers: sign(event.clientSecret, delivery.url, body),
        body,
        signal: AbortSignal.timeout(Math.max(MIN_SCALED_TIMEOUT_MS, ANSWER_TIMEOUT_MS * scale)),
      });
      await response.arrayBuffer().catch(() => undefined);
      outcome = response.ok
        ? { status: response.status }
        : { status: response.status, error: `HTTP ${response.status}` };
    } catch (error) {
      outcome = { error: error instanceof Error ? `${error.name}: ${error.message}` : String(error) };
    } finally {
      if (generation === this.generation) {
        this.release(account);
      }
    }
    delivery.attempts.push({
      attempt: attemptNumber,
      at: new Date(started).toISOString(),
      durationMs: Date.now() - started,
      ...outcome,
    });
    if (outcome.error === undefined) {
      delivery.state = 'DELIVERED';
      return;
    }
    if (attemptNumber >= MAX_ATTEMPTS) {
      delivery.state = 'GAVE_UP';
      this.logger.warn({ deliveryId: delivery.id, url: delivery.url }, 'webhook delivery gave up');
      return;
    }
    this.schedule(delivery, event, retryDelayMs(attemptNumber) * scale);
  }
}
