import { Counter, Gauge, Histogram, Registry } from 'prom-client';

function metric<T>(registry: Registry, name: string, create: () => T): T {
  return (registry.getSingleMetric(name) as T | undefined) ?? create();
}

/** Messaging metrics, registered once per registry (one registry per service). */
export class MessagingMetrics {
  readonly published: Counter<'routing_key'>;
  readonly publishFailures: Counter<'reason'>;
  readonly consumed: Counter<'queue' | 'type' | 'outcome'>;
  readonly retried: Counter<'queue' | 'tier'>;
  readonly deadLettered: Counter<'queue' | 'reason'>;
  readonly handlerDuration: Histogram<'queue' | 'type' | 'outcome'>;
  readonly batchSize: Histogram<'queue'>;
  readonly outboxPending: Gauge;
  readonly outboxLagSeconds: Gauge;
  readonly outboxPublishLatency: Histogram;

  constructor(readonly registry: Registry = new Registry()) {
    const registers = [registry];
    this.published = metric(
      registry,
      'messages_published_total',
      () =>
        new Counter({
          name: 'messages_published_total',
          help: 'Messages published by the outbox relay and confirmed by the broker',
          labelNames: ['routing_key'],
          registers,
        }),
    );
    this.publishFailures = metric(
      registry,
      'outbox_publish_failures_total',
      () =>
        new Counter({
          name: 'outbox_publish_failures_total',
          help: 'Outbox rows whose publish failed (nack, unroutable, timeout, broker down) and will be retried',
          labelNames: ['reason'],
          registers,
        }),
    );
    this.consumed = metric(
      registry,
      'messages_consumed_total',
      () =>
        new Counter({
          name: 'messages_consumed_total',
          help: 'Deliveries handled, by outcome (processed, duplicate, retried, dead_lettered, held_back)',
          labelNames: ['queue', 'type', 'outcome'],
          registers,
        }),
    );
    this.retried = metric(
      registry,
      'messages_retried_total',
      () =>
        new Counter({
          name: 'messages_retried_total',
          help: 'Messages parked in a retry tier after a transient failure',
          labelNames: ['queue', 'tier'],
          registers,
        }),
    );
    this.deadLettered = metric(
      registry,
      'messages_dead_lettered_total',
      () =>
        new Counter({
          name: 'messages_dead_lettered_total',
          help: 'Messages moved to a dead-letter queue',
          labelNames: ['queue', 'reason'],
          registers,
        }),
    );
    this.handlerDuration = metric(
      registry,
      'message_handle_duration_seconds',
      () =>
        new Histogram({
          name: 'message_handle_duration_seconds',
          help: 'Time from delivery to ack, including the database transaction',
          labelNames: ['queue', 'type', 'outcome'],
          buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
          registers,
        }),
    );
    this.batchSize = metric(
      registry,
      'message_batch_size',
      () =>
        new Histogram({
          name: 'message_batch_size',
          help: 'Messages committed together by consumer groups that batch (maxBatchSize > 1)',
          labelNames: ['queue'],
          buckets: [1, 2, 5, 10, 20, 50, 100],
          registers,
        }),
    );
    this.outboxPending = metric(
      registry,
      'outbox_pending',
      () => new Gauge({ name: 'outbox_pending', help: 'Outbox rows not yet published', registers }),
    );
    this.outboxLagSeconds = metric(
      registry,
      'outbox_lag_seconds',
      () =>
        new Gauge({
          name: 'outbox_lag_seconds',
          help: 'Age of the oldest unpublished outbox row (0 when empty)',
          registers,
        }),
    );
    this.outboxPublishLatency = metric(
      registry,
      'outbox_publish_latency_seconds',
      () =>
        new Histogram({
          name: 'outbox_publish_latency_seconds',
          help: 'Time from outbox insert to broker confirm',
          buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 5, 30, 300],
          registers,
        }),
    );
  }
}
