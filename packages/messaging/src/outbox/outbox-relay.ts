import type { ConfirmChannel } from 'amqplib';
import pg from 'pg';
import type { DataSource } from 'typeorm';
import type { AmqpConnection } from '../amqp-connection.js';
import { closeChannel } from '../consumer/close-channel.js';
import { describeError } from '../errors.js';
import type { MessagingLogger } from '../logger.js';
import type { MessagingMetrics } from '../metrics.js';
import { outboxChannel } from '../persistence/messaging-tables.migration.js';
import { EVENTS_EXCHANGE, ORDERING_KEY_HEADER } from '../topology.js';
import { coalesceWrites } from '../write-coalescing.js';

export interface OutboxRelayOptions {
  readonly dataSource: DataSource;
  readonly schema: string;
  /** For the dedicated session that holds the leader lock and LISTENs (a pooled connection cannot). */
  readonly databaseUrl: string;
  readonly connection: AmqpConnection;
  readonly metrics: MessagingMetrics;
  readonly logger: MessagingLogger;
  readonly batchSize?: number;
  /** Fallback poll; notifications wake the relay sooner, but are lost while its session is down. */
  readonly pollIntervalMs?: number;
  readonly confirmTimeoutMs?: number;
  /** Inbox rows older than this are pruned (longer than any redelivery horizon: HubSpot retries for 24 h). */
  readonly inboxRetentionMs?: number;
  readonly appId?: string;
}

interface OutboxRow {
  id: string;
  message_id: string;
  routing_key: string;
  ordering_key: string;
  body: string;
  headers: Record<string, unknown>;
  created_at: Date;
  attempts: number;
}

type PublishOutcome = { row: OutboxRow; ok: true } | { row: OutboxRow; ok: false; reason: string };

const FAILURE_BACKOFF_MAX_MS = 300_000;

/**
 * Publishes outbox rows to RabbitMQ with pipelined publisher confirms, then deletes them. One relay per
 * service schema is active at a time (a PostgreSQL advisory lock), which keeps the publish order equal to
 * the outbox order; other replicas stand by and take over when the leader's session ends.
 */
export class OutboxRelay {
  private stopping = false;
  private loop: Promise<void> | undefined;
  private leaderClient: pg.Client | undefined;
  private isLeader = false;
  private channel: ConfirmChannel | undefined;
  private wake: (() => void) | undefined;
  private woken = false;
  private lastHousekeeping = 0;
  private lastGauge = 0;
  private readonly batchSize: number;
  private readonly pollIntervalMs: number;
  private readonly confirmTimeoutMs: number;

  constructor(private readonly options: OutboxRelayOptions) {
    this.batchSize = options.batchSize ?? 500;
    this.pollIntervalMs = options.pollIntervalMs ?? 1_000;
    this.confirmTimeoutMs = options.confirmTimeoutMs ?? 10_000;
    options.connection.on('connected', () => {
      this.wakeUp();
    });
    options.connection.on('disconnected', () => {
      this.channel = undefined;
    });
  }

  get leader(): boolean {
    return this.isLeader;
  }

  start(): void {
    this.stopping = false;
    this.loop ??= this.run().finally(() => {
      this.loop = undefined;
    });
  }

  /** Stops after the current batch; publishes what is pending until `flushDeadlineMs` if it can. */
  async stop(flushDeadlineMs = 5_000): Promise<void> {
    this.stopping = true;
    this.wakeUp();
    await this.loop;
    const deadline = Date.now() + flushDeadlineMs;
    try {
      while (this.isLeader && Date.now() < deadline) {
        const channel = await this.confirmChannel();
        if (!channel || (await this.publishBatch(channel)) === 0) {
          break;
        }
      }
    } catch (error) {
      this.options.logger.warn('outbox flush on shutdown interrupted', { error: String(error) });
    }
    await this.releaseLeadership();
    if (this.channel !== undefined) {
      await closeChannel(this.channel);
    }
    this.channel = undefined;
  }

  /** Test and benchmark helper: resolves when the outbox is empty. */
  async pendingCount(): Promise<number> {
    const rows: { n: string }[] = await this.options.dataSource.query(
      `SELECT count(*) AS n FROM "${this.options.schema}".outbox`,
    );
    return Number(rows[0]?.n ?? 0);
  }

  private async run(): Promise<void> {
    while (!this.stopping) {
      try {
        if (!this.isLeader && !(await this.tryBecomeLeader())) {
          await this.idle(this.pollIntervalMs * 2);
          continue;
        }
        await this.housekeeping();
        const channel = await this.confirmChannel();
        if (!channel || this.options.connection.isBlocked) {
          await this.idle(this.pollIntervalMs);
          continue;
        }
        const published = await this.publishBatch(channel);
        if (published < this.batchSize) {
          await this.idle(this.pollIntervalMs);
        }
      } catch (error) {
        this.options.logger.warn('outbox relay iteration failed; retrying', { error: String(error) });
        await this.idle(this.pollIntervalMs);
      }
    }
  }

  private async publishBatch(channel: ConfirmChannel): Promise<number> {
    const { dataSource, schema } = this.options;
    // A row whose publish failed holds the later rows of its key and routing key until it is published, also
    // while it is tried again: published with it, they could be accepted where it is refused once more (a group
    // that began listening between the two, a queue that had room again) and reach the key's consumers first.
    const rows: OutboxRow[] = await dataSource.query(
      `SELECT id, message_id, routing_key, ordering_key, body, headers, created_at, attempts
         FROM "${schema}".outbox o
        WHERE available_at <= now()
          AND NOT EXISTS (SELECT 1 FROM "${schema}".outbox failed
                           WHERE failed.attempts > 0 AND failed.routing_key = o.routing_key
                             AND failed.ordering_key = o.ordering_key AND failed.id < o.id)
        ORDER BY id LIMIT $1`,
      [this.batchSize],
    );
    if (rows.length === 0) {
      return 0;
    }
    const outcomes = await this.publishWithConfirms(channel, rows);
    const succeeded = outcomes.filter((o) => o.ok).map((o) => o.row);
    const failed = outcomes.filter((o): o is Extract<PublishOutcome, { ok: false }> => !o.ok);
    if (succeeded.length > 0) {
      await dataSource.query(`DELETE FROM "${schema}".outbox WHERE id = ANY($1::bigint[])`, [
        succeeded.map((r) => r.id),
      ]);
      if (succeeded.some((row) => row.attempts > 0)) {
        // The rows it held are free now: publish them without waiting for the next poll.
        this.wakeUp();
      }
      const now = Date.now();
      for (const row of succeeded) {
        this.options.metrics.published.inc({ routing_key: row.routing_key });
        this.options.metrics.outboxPublishLatency.observe((now - new Date(row.created_at).getTime()) / 1000);
      }
    }
    for (const { row, reason } of failed) {
      const backoffMs = Math.min(FAILURE_BACKOFF_MAX_MS, 1_000 * 2 ** Math.min(row.attempts, 12));
      this.options.metrics.publishFailures.inc({ reason: reason.split(':')[0] ?? reason });
      this.options.logger.error('outbox publish failed; will retry', {
        messageId: row.message_id,
        routingKey: row.routing_key,
        reason,
        attempts: row.attempts + 1,
      });
      await dataSource.query(
        `UPDATE "${schema}".outbox
            SET attempts = attempts + 1, last_error = $2, available_at = now() + ($3 || ' milliseconds')::interval
          WHERE id = $1`,
        [row.id, reason, String(backoffMs)],
      );
    }
    return rows.length;
  }

  private async publishWithConfirms(channel: ConfirmChannel, rows: OutboxRow[]): Promise<PublishOutcome[]> {
    const returned = new Set<string>();
    const onReturn = (message: { properties: { messageId?: unknown } }): void => {
      returned.add(String(message.properties.messageId));
    };
    channel.on('return', onReturn);
    try {
      const confirms: Promise<PublishOutcome>[] = [];
      for (const row of rows) {
        confirms.push(
          new Promise<PublishOutcome>((resolve) => {
            const accepted = channel.publish(
              EVENTS_EXCHANGE,
              row.routing_key,
              Buffer.from(row.body),
              {
                persistent: true,
                mandatory: true,
                contentType: 'application/json',
                messageId: row.message_id,
                type: row.routing_key,
                timestamp: Math.floor(new Date(row.created_at).getTime() / 1000),
                ...(this.options.appId ? { appId: this.options.appId } : {}),
                headers: { ...row.headers, [ORDERING_KEY_HEADER]: row.ordering_key },
              },
              (error: unknown) => {
                if (error) {
                  resolve({ row, ok: false, reason: `nack: ${describeError(error)}` });
                } else if (returned.has(row.message_id)) {
                  resolve({
                    row,
                    ok: false,
                    reason: `unroutable: no queue is bound for routing key ${row.routing_key}`,
                  });
                } else {
                  resolve({ row, ok: true });
                }
              },
            );
            if (!accepted) {
              // Flow control: the socket buffer is full; later publishes queue in memory until 'drain'.
              this.options.logger.debug('AMQP write buffer full');
            }
          }),
        );
      }
      coalesceWrites(channel.connection);
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<'timeout'>((resolve) => {
        timer = setTimeout(() => {
          resolve('timeout');
        }, this.confirmTimeoutMs);
      });
      const all = Promise.all(confirms);
      const result = await Promise.race([all, timeout]);
      clearTimeout(timer);
      if (result === 'timeout') {
        // Unconfirmed rows stay in the outbox and are published again (consumers dedupe on messageId).
        this.options.metrics.publishFailures.inc({ reason: 'confirm_timeout' }, rows.length);
        this.options.logger.warn('publisher confirms timed out; reopening the channel', {
          rows: rows.length,
        });
        this.channel = undefined;
        await closeChannel(channel);
        return [];
      }
      return result;
    } finally {
      channel.off('return', onReturn);
    }
  }

  private async confirmChannel(): Promise<ConfirmChannel | undefined> {
    if (this.channel) {
      return this.channel;
    }
    const model = this.options.connection.current;
    if (!model) {
      return undefined;
    }
    const channel = await model.createConfirmChannel();
    channel.on('error', (error: Error) => {
      this.options.logger.warn('outbox relay channel error', { error: error.message });
    });
    channel.on('close', () => {
      if (this.channel === channel) {
        this.channel = undefined;
      }
    });
    this.channel = channel;
    return channel;
  }

  private async tryBecomeLeader(): Promise<boolean> {
    try {
      if (!this.leaderClient) {
        const client = new pg.Client({
          connectionString: this.options.databaseUrl,
          application_name: `outbox-relay:${this.options.schema}`,
        });
        client.on('error', (error) => {
          this.options.logger.warn('outbox relay leader session error', { error: error.message });
          void this.dropLeaderSession(client);
        });
        client.on('end', () => {
          void this.dropLeaderSession(client);
        });
        client.on('notification', () => {
          this.wakeUp();
        });
        await client.connect();
        this.leaderClient = client;
      }
      const result = await this.leaderClient.query<{ locked: boolean }>(
        'SELECT pg_try_advisory_lock(hashtext($1)) AS locked',
        [`inbox-bridge.outbox-relay.${this.options.schema}`],
      );
      if (result.rows[0]?.locked) {
        await this.leaderClient.query(`LISTEN "${outboxChannel(this.options.schema)}"`);
        this.isLeader = true;
        this.options.logger.info('outbox relay is the leader for its schema', {
          schema: this.options.schema,
        });
      }
      return this.isLeader;
    } catch (error) {
      this.options.logger.warn('outbox relay could not reach the database', { error: String(error) });
      if (this.leaderClient) {
        await this.dropLeaderSession(this.leaderClient);
      }
      return false;
    }
  }

  private async dropLeaderSession(client: pg.Client): Promise<void> {
    if (this.leaderClient !== client) {
      return;
    }
    this.leaderClient = undefined;
    this.isLeader = false;
    await client.end().catch(() => undefined);
  }

  private async releaseLeadership(): Promise<void> {
    const client = this.leaderClient;
    if (client) {
      await this.dropLeaderSession(client);
    }
  }

  private async housekeeping(): Promise<void> {
    const now = Date.now();
    const { dataSource, schema, metrics } = this.options;
    if (now - this.lastGauge > 5_000) {
      this.lastGauge = now;
      const rows: { n: string; lag: string | null }[] = await dataSource.query(
        `SELECT count(*) AS n, extract(epoch FROM now() - min(created_at)) AS lag FROM "${schema}".outbox`,
      );
      metrics.outboxPending.set(Number(rows[0]?.n ?? 0));
      metrics.outboxLagSeconds.set(Number(rows[0]?.lag ?? 0));
    }
    if (now - this.lastHousekeeping > 600_000) {
      this.lastHousekeeping = now;
      const retentionMs = this.options.inboxRetentionMs ?? 14 * 24 * 3_600_000;
      await dataSource.query(
        `DELETE FROM "${schema}".inbox WHERE processed_at < now() - ($1 || ' milliseconds')::interval`,
        [String(retentionMs)],
      );
    }
  }

  private wakeUp(): void {
    const wake = this.wake;
    this.wake = undefined;
    if (wake) {
      wake();
    } else {
      // Rows committed while the relay was busy: skip the next idle.
      this.woken = true;
    }
  }

  private idle(ms: number): Promise<void> {
    if (this.stopping || this.woken) {
      this.woken = false;
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.wake = undefined;
        resolve();
      }, ms);
      this.wake = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  }
}
