import { Injectable, Logger, type OnApplicationShutdown } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import type { WebhookAttempt, WebhookDelivery } from '../control/control.types.js';
import { SettingsStore } from '../control/settings.store.js';
import { signedWebhookHeaders, signedWebhooksApiHeaders } from './signature.js';

/** HubSpot's Webhooks API policy (§2.3), assumed for custom channels: 10 attempts in all. */
export const MAX_ATTEMPTS = 10;
/** An answer slower than this (scaled) counts as a failure. */
export const ANSWER_TIMEOUT_MS = 5_000;
/**
 * The scaled timeout never drops below this, so a compressed test clock does not fail healthy receivers (200 ms
 * failed a fresh gateway's first answer on a loaded two-core machine).
 */
export const MIN_SCALED_TIMEOUT_MS = 1_000;

/** Delay before attempt `attempt + 1`: 1 min, 2 min, 4 min … (about 8.5 h for all ten), unscaled. */
export function retryDelayMs(attempt: number): number {
  return 60_000 * 2 ** (attempt - 1);
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

/** POSTs signed custom-channel events to `webhookUrl`, retrying on failure, non-2xx or a slow answer. */
@Injectable()
export class WebhookDispatcher implements OnApplicationShutdown {
  private readonly logger = new Logger(WebhookDispatcher.name);
  private readonly deliveries: WebhookDelivery[] = [];
  private readonly timers = new Set<NodeJS.Timeout>();

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
  }

  private schedule(delivery: WebhookDelivery, event: WebhookEvent, delayMs: number): void {
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      void this.attempt(delivery, event);
    }, delayMs);
    this.timers.add(timer);
  }

  private async attempt(delivery: WebhookDelivery, event: WebhookEvent): Promise<void> {
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
