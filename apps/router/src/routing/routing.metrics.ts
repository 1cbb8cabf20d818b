import { METRICS_REGISTRY, registeredMetric } from '@inbox-bridge/service-kit';
import { Inject, Injectable } from '@nestjs/common';
import { Counter, Gauge, type Registry } from 'prom-client';
import type { AuditEntry } from './routing.repository.js';

/**
 * `router_decisions_total{action}` (audited decisions as they are made; a transaction that is rolled back and
 * retried counts again) and `router_waiting_conversations` (the queue, all portals, refreshed by every poller
 * pass).
 */
@Injectable()
export class RoutingMetrics {
  private readonly decisions: Counter<'action'>;
  private readonly waiting: Gauge;

  constructor(@Inject(METRICS_REGISTRY) registry: Registry) {
    this.decisions = registeredMetric(
      registry,
      'router_decisions_total',
      () =>
        new Counter({
          name: 'router_decisions_total',
          help: 'Routing decisions and outcomes recorded in the audit trail, by action',
          labelNames: ['action'],
          registers: [registry],
        }),
    );
    this.waiting = registeredMetric(
      registry,
      'router_waiting_conversations',
      () =>
        new Gauge({
          name: 'router_waiting_conversations',
          help: 'Conversations waiting in the queue for an agent',
          registers: [registry],
        }),
    );
  }

  decided(action: AuditEntry['action']): void {
    this.decisions.inc({ action });
  }

  queueLength(count: number): void {
    this.waiting.set(count);
  }
}
