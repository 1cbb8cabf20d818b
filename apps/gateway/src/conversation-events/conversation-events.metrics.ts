import { METRICS_REGISTRY } from '@inbox-bridge/service-kit';
import { Inject, Injectable } from '@nestjs/common';
import { Counter, type Registry } from 'prom-client';

export type ConversationEventOutcome = 'accepted' | 'duplicate' | 'invalid' | 'unauthorized';

/** `hubspot_conversation_events_total{subscription_type,outcome}`. */
@Injectable()
export class ConversationEventMetrics {
  private readonly total: Counter<'subscription_type' | 'outcome'>;

  constructor(@Inject(METRICS_REGISTRY) registry: Registry) {
    this.total =
      (registry.getSingleMetric('hubspot_conversation_events_total') as
        Counter<'subscription_type' | 'outcome'> | undefined) ??
      new Counter({
        name: 'hubspot_conversation_events_total',
        help: 'HubSpot Webhooks API conversation events received, by subscription type and outcome',
        labelNames: ['subscription_type', 'outcome'],
        registers: [registry],
      });
  }

  count(subscriptionType: string, outcome: ConversationEventOutcome): void {
    const label = /^[a-z][a-zA-Z.]{0,63}$/.test(subscriptionType) ? subscriptionType : 'other';
    this.total.inc({ subscription_type: label, outcome });
  }
}
