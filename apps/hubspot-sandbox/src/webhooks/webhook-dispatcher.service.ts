import { Injectable, Logger, type OnApplicationShutdown } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import type { WebhookAttempt, WebhookDelivery } from '../control/control.types.js';
import { SettingsStore } from '../control/settings.store.js';
import { signedWebhookHeaders } from './signature.js';

/** HubSpot's Webhooks API policy (§2.3), assumed for custom channels: 10 attempts in all. */
export const MAX_ATTEMPTS = 10;
/** An answer slower than this (scaled) counts as a failure. */
export const ANSWER_TIMEOUT_MS = 5_000;
/** The scaled timeout never drops below this, so a compressed test clock does not fail healthy receivers. */
export const MIN_SCALED_TIMEOUT_MS = 200;

/** Delay before attempt `attempt + 1`: 1 min, 2 min, 4 min … (about 8.5 h for all ten), unscaled. */
export function retryDelayMs(attempt: number): number {
  return 60_000 * 2 ** (attempt - 1);
}

export interface WebhookEvent {
  readonly url: string;
  readonly clientSecret: string;
  readonly portalId: number;
  readonly channelId: string;
  readonly payload: Record<string, unknown>;
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
      eventType: String(event.payload.type),
      url: event.url,
      portalId: event.portalId,
      channelId: event.channelId,
      body: JSON.stringify(event.payload),
      state: 'PENDING',
      attempts: [],
    };
    this.deliveries.push(delivery);
    this.schedule(delivery, event.clientSecret, 0);
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

  private schedule(delivery: WebhookDelivery, secret: string, delayMs: number): void {
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      void this.attempt(delivery, secret);
    }, delayMs);
    this.timers.add(timer);
  }

  private async attempt(delivery: WebhookDelivery, secret: string): Promise<void> {
    const scale = this.settings.webhookTimeScale;
    const started = Date.now();
    const attemptNumber = delivery.attempts.length + 1;
    let outcome: Pick<WebhookAttempt, 'status' | 'error'>;
    try {
      const response = await fetch(delivery.url, {
        method: 'POST',
        headers: signedWebhookHeaders(secret, delivery.url, delivery.body),
        body: delivery.body,
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
    this.schedule(delivery, secret, retryDelayMs(attemptNumber) * scale);
  }
}
