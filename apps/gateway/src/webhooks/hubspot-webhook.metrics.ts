import { METRICS_REGISTRY } from '@inbox-bridge/service-kit';
import { Inject, Injectable } from '@nestjs/common';
import { Counter, type Registry } from 'prom-client';

export type WebhookOutcome = 'accepted' | 'duplicate' | 'ignored' | 'invalid' | 'unauthorized';

/** `hubspot_webhooks_total{event_type,outcome}` on the service's registry. */
@Injectable()
export class HubSpotWebhookMetrics {
  private readonly total: Counter<'event_type' | 'outcome'>;

  constructor(@Inject(METRICS_REGISTRY) registry: Registry) {
    const existing = registry.getSingleMetric('hubspot_webhooks_total');
    this.total =
      existing instanceof Counter
        ? existing
        : new Counter({
            name: 'hubspot_webhooks_total',
            help: 'HubSpot webhooks received, by event type and outcome',
            labelNames: ['event_type', 'outcome'],
            registers: [registry],
          });
  }

  /** Unknown types come from a verified HubSpot request, but the label is still bounded in shape and length. */
  count(eventType: string, outcome: WebhookOutcome): void {
    const label = /^[A-Z][A-Z0-9_]{0,63}$/.test(eventType) ? eventType : 'other';
    this.total.inc({ event_type: label, outcome });
  }
}
