import { Registry } from 'prom-client';
import type { DataSource } from 'typeorm';
import { AmqpConnection } from './amqp-connection.js';
import { ConsumerGroupRunner } from './consumer/consumer-group-runner.js';
import type { MessageHandler } from './consumer/message-context.js';
import { silentLogger, type MessagingLogger } from './logger.js';
import { MessagingMetrics } from './metrics.js';
import { OutboxRelay } from './outbox/outbox-relay.js';
import { OutboxWriter } from './outbox/outbox-writer.js';
import { describeConsumerGroup, type ConsumerGroupSpec } from './topology.js';

export interface MessagingOptions {
  /** Names the AMQP connection and the relay's app id. */
  readonly serviceName: string;
  readonly amqpUrl: string;
  /** The service's DataSource: outbox, inbox and handler effects share its transactions. */
  readonly dataSource: DataSource;
  readonly databaseUrl: string;
  readonly schema: string;
  readonly consumerGroups?: readonly ConsumerGroupSpec[];
  readonly prefetch?: number;
  readonly drainTimeoutMs?: number;
  readonly registry?: Registry;
  readonly logger?: MessagingLogger;
  readonly relay?: {
    readonly batchSize?: number;
    readonly pollIntervalMs?: number;
    readonly confirmTimeoutMs?: number;
  };
  readonly reconnect?: { readonly initialDelayMs?: number; readonly maxDelayMs?: number };
  /** A delivery unfinished this long is logged once per step it waits in (default 30 s). */
  readonly stalledAfterMs?: number;
}

/** Health of the messaging side of a service, for readiness and diagnostics. */
export interface MessagingStatus {
  readonly connected: boolean;
  readonly blocked: boolean;
  readonly draining: boolean;
  readonly relayLeader: boolean;
  readonly consumerGroups: Record<string, { consuming: boolean; inflight: number }>;
}

/**
 * A service's messaging runtime: one AMQP connection, the outbox writer and relay, and a runner per
 * consumer group. Start publishing with `start()`, attach handlers with `startConsumers()`, and `stop()`
 * on shutdown: consumers drain first, then the relay flushes, then the connection closes.
 */
export class Messaging {
  readonly connection: AmqpConnection;
  readonly outbox: OutboxWriter;
  readonly relay: OutboxRelay;
  readonly metrics: MessagingMetrics;
  private runners: ConsumerGroupRunner[] = [];
  private draining = false;
  private readonly logger: MessagingLogger;

  constructor(private readonly options: MessagingOptions) {
    this.logger = options.logger ?? silentLogger;
    this.metrics = new MessagingMetrics(options.registry ?? new Registry());
    this.connection = new AmqpConnection({
      url: options.amqpUrl,
      connectionName: options.serviceName,
      logger: this.logger,
      ...(options.reconnect?.initialDelayMs === undefined
        ? {}
        : { reconnectInitialDelayMs: options.reconnect.initialDelayMs }),
      ...(options.reconnect?.maxDelayMs === undefined
        ? {}
        : { reconnectMaxDelayMs: options.reconnect.maxDelayMs }),
    });
    this.outbox = new OutboxWriter(options.schema);
    this.relay = new OutboxRelay({
      dataSource: options.dataSource,
      schema: options.schema,
      databaseUrl: options.databaseUrl,
      connection: this.connection,
      metrics: this.metrics,
      logger: this.logger,
      appId: options.serviceName,
      ...options.relay,
    });
  }

  /** Connects (retrying in the background while the broker is down) and starts the outbox relay. */
  async start(): Promise<void> {
    this.draining = false;
    this.relay.start();
    await this.connection.start();
  }

  /** Starts consuming every configured consumer group, dispatching by message type. */
  startConsumers(resolveHandler: (type: string) => MessageHandler | undefined): void {
    for (const spec of this.options.consumerGroups ?? []) {
      const runner = new ConsumerGroupRunner({
        topology: describeConsumerGroup(spec),
        connection: this.connection,
        dataSource: this.options.dataSource,
        schema: this.options.schema,
        databaseUrl: this.options.databaseUrl,
        outbox: this.outbox,
        resolveHandler,
        metrics: this.metrics,
        logger: this.logger,
        prefetch: this.options.prefetch ?? 20,
        ...(this.options.stalledAfterMs === undefined ? {} : { stalledAfterMs: this.options.stalledAfterMs }),
      });
      runner.start();
      this.runners.push(runner);
    }
  }

  status(): MessagingStatus {
    return {
      connected: this.connection.isConnected,
      blocked: this.connection.isBlocked,
      draining: this.draining,
      relayLeader: this.relay.leader,
      consumerGroups: Object.fromEntries(
        this.runners.map((r) => [r.name, { consuming: r.isConsuming, inflight: r.inflightCount }]),
      ),
    };
  }

  /** A readiness check in the service kit's shape: throws with the reason when not ready. */
  readinessCheck(): { name: string; check(): Promise<void> } {
    return {
      name: 'messaging',
      check: () => {
        const status = this.status();
        if (status.draining) {
          return Promise.reject(new Error('draining'));
        }
        if (!status.connected) {
          return Promise.reject(new Error('not connected to RabbitMQ'));
        }
        const idle = Object.entries(status.consumerGroups).filter(([, g]) => !g.consuming);
        if (idle.length > 0) {
          return Promise.reject(new Error(`not consuming: ${idle.map(([name]) => name).join(', ')}`));
        }
        return Promise.resolve();
      },
    };
  }

  /** Graceful drain (engineering notes §4.8): consumers, then the relay, then the connection. */
  async stop(): Promise<void> {
    if (this.draining) {
      return;
    }
    this.draining = true;
    const deadline = this.options.drainTimeoutMs ?? 20_000;
    const started = Date.now();
    await Promise.all(this.runners.map((runner) => runner.stop(deadline)));
    await this.relay.stop(Math.max(1_000, deadline - (Date.now() - started)));
    await this.connection.close();
    this.runners = [];
    this.logger.info('messaging stopped', { tookMs: Date.now() - started });
  }
}
