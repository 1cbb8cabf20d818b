import { METRICS_REGISTRY } from '@inbox-bridge/service-kit';
import { Inject, Injectable } from '@nestjs/common';
import { Counter, type Registry } from 'prom-client';
import type { ProcessingOutcome } from './hubspot-webhook-event.repository.js';

const boundedLabel = (eventType: string): string =>
  /^[A-Z][A-Z0-9_]{0,63}$/.test(eventType) ? eventType : 'other';

export type WebhookOutcome = 'accepted' | 'duplicate' | 'ignored' | 'invalid' | 'unauthorized';
export type WebhookProcessingOutcome = ProcessingOutcome | 'retrying';

function counter<L extends string>(
  registry: Registry,
  name: string,
  help: string,
  labelNames: L[],
): Counter<L> {
  const existing = registry.getSingleMetric(name);
  return existing instanceof Counter
    ? existing
    : new Counter({ name, help, labelNames, registers: [registry] });
}

/**
 * `hubspot_webhooks_total{event_type,outcome}` (intake) and `hubspot_webhook_processing_total{event_type,outcome}`
 * (background processing) on the service's registry.
 */
@Injectable()
export class HubSpotWebhookMetrics {
  private readonly total: Counter<'event_type' | 'outcome'>;
  private readonly processing: Counter<'event_type' | 'outcome'>;

  constructor(@Inject(METRICS_REGISTRY) registry: Registry) {
    this.processing = counter(
      registry,
      'hubspot_webhook_processing_total',
      'Stored HubSpot webhooks processed in the background, by event type and outcome',
      ['event_type', 'outcome'],
    );
    this.total = counter(
      registry,
      'hubspot_webhooks_total',
      'HubSpot webhooks received, by event type and outcome',
      ['event_type', 'outcome'],
    );
  }

  /** Unknown types come from a verified HubSpot request, but the label is still bounded in shape and length. */
  count(eventType: string, outcome: WebhookOutcome): void {
    this.total.inc({ event_type: boundedLabel(eventType), outcome });
  }

  processed(eventType: string, outcome: WebhookProcessingOutcome): void {
    this.processing.inc({ event_type: boundedLabel(eventType), outcome });
  }
}
