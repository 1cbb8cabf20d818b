import { orderingKeyOf, parseEnvelope, type AnyMessageEnvelope } from '@inbox-bridge/shared';
import type { Channel, ChannelModel, ConfirmChannel, ConsumeMessage, Options } from 'amqplib';
import type { DataSource, EntityManager } from 'typeorm';
import type { AmqpConnection } from '../amqp-connection.js';
import { correlationContext, type CorrelationScope } from '../correlation-context.js';
import { classifyError, DeferredError, describeError } from '../errors.js';
import type { MessagingLogger } from '../logger.js';
import type { MessagingMetrics } from '../metrics.js';
import type { OutboxWriter } from '../outbox/outbox-writer.js';
import {
  ATTEMPT_HEADER,
  DEAD_LETTER_EXCHANGE,
  declareConsumerGroup,
  DEFER_UNTIL_HEADER,
  ERROR_CLASS_HEADER,
  ERROR_HEADER,
  FAILED_AT_HEADER,
  HELD_BACK_HEADER,
  ORIGINAL_QUEUE_HEADER,
  withoutHeaders,
  type ConsumerGroupTopology,
} from '../topology.js';
import { inConsumeSpan } from '../tracing/trace-context.js';
import { coalesceWrites } from '../write-coalescing.js';
import { closeChannel } from './close-channel.js';
import { KeyedSerializer } from './keyed-serializer.js';
import type { MessageContext, MessageHandler } from './message-context.js';
import { ShardOwnership } from './shard-ownership.js';
import { consumerTransactionSlots, type Semaphore } from './transaction-slots.js';

export interface ConsumerGroupRunnerOptions {
  readonly topology: ConsumerGroupTopology;
  readonly connection: AmqpConnection;
  readonly dataSource: DataSource;
  readonly schema: string;
  /** For the session that holds shard locks of ordered groups. */
  readonly databaseUrl: string;
  readonly rebalanceIntervalMs?: number;
  /** Transactions a batching group runs at once; keep it below the database pool size. */
  readonly maxConcurrentBatches?: number;
  readonly outbox: OutboxWriter;
  readonly resolveHandler: (type: string) => MessageHandler | undefined;
  readonly metrics: MessagingMetrics;
  readonly logger: MessagingLogger;
  /** In-flight deliveries per queue; keep it at or below the database pool size. */
  readonly prefetch?: number;
  /** Declare the group's topology on connect (the default), or only check that it exists. */
  readonly declareTopology?: boolean;
  /** A delivery still unfinished this long is logged with the step it is stuck in, once per step (30 s). */
  readonly stalledAfterMs?: number;
}

const STALLED_AFTER_MS = 30_000;
/** Set-ups of new channels after the broker closed one (0.1 s … 5 s apart) before the connection is restarted. */
const REOPEN_ATTEMPTS = 6;
/** A delivery that could not be moved waits for the database, probed 100 ms, 200 ms, … at most 2 s apart. */
const DATABASE_PROBE_FIRST_WAIT_MS = 100;
const DATABASE_PROBE_MAX_WAIT_MS = 2_000;

interface Progress {
  readonly messageId: string;
  readonly type: string;
  step: string;
  since: number;
  reported: boolean;
}

type Outcome =
  'processed' | 'duplicate' | 'retried' | 'deferred' | 'dead_lettered' | 'held_back' | 'requeued';

interface Work {
  readonly delivery: Delivery;
  readonly envelope: AnyMessageEnvelope;
  readonly handler: MessageHandler;
  readonly orderingKey: string | undefined;
}

interface BatchItem extends Work {
  readonly resolve: (outcome: Outcome) => void;
}

interface Delivery {
  readonly message: ConsumeMessage;
  readonly queue: string;
  readonly channel: Channel;
  readonly attempt: number;
}

class DeadLetter extends Error {
  constructor(
    readonly reason: 'contract' | 'no_handler' | 'permanent' | 'exhausted',
    message: string,
  ) {
    super(message);
  }
}

/**
 * Consumes one consumer group: inbox dedupe and the handler's effects in one transaction, ack after COMMIT,
 * transient failures through the retry tiers, permanent ones to the DLQ with the reason (engineering notes
 * §4.5–4.6). Ordered groups also keep per-key order through retries by parking later messages of a key
 * behind the one being retried.
 */
export class ConsumerGroupRunner {
  private channel: Channel | undefined;
  private publishChannel: ConfirmChannel | undefined;
  /** Queues this replica should consume: all work queues, or the shards it owns in an ordered group. */
  private readonly wanted = new Set<string>();
  private readonly consumerTags = new Map<string, string>();
  private readonly inflight = new Map<string, Set<Promise<void>>>();
  private readonly serializer = new KeyedSerializer();
  private readonly closedChannels = new WeakSet<Channel>();
  private readonly shards: ShardOwnership | undefined;
  private stopping = false;
  private started = false;
  private readonly batchQueue: BatchItem[] = [];
  /** Work handlers asked to run before their transaction commits, by transaction. */
  private readonly commitHooks = new WeakMap<EntityManager, (() => Promise<void>)[]>();
  private batchesInFlight = 0;
  private readonly maxBatchSize: number;
  private readonly stalledAfterMs: number;
  private readonly maxConcurrentBatches: number;

  private readonly transactionSlots: Semaphore;
  private readonly progress = new Map<ConsumeMessage, Progress>();
  private stallWatch: NodeJS.Timeout | undefined;
  private databaseAnswers: Promise<void> | undefined;

  constructor(private readonly options: ConsumerGroupRunnerOptions) {
    this.transactionSlots = consumerTransactionSlots(options.dataSource);
    const { topology } = options;
    this.maxBatchSize = topology.spec.maxBatchSize ?? 1;
    this.stalledAfterMs = options.stalledAfterMs ?? STALLED_AFTER_MS;
    this.maxConcurrentBatches = options.topology.spec.concurrentBatches ?? options.maxConcurrentBatches ?? 4;
    if (topology.hashExchange) {
      this.shards = new ShardOwnership({
        databaseUrl: options.databaseUrl,
        schema: options.schema,
        group: topology.spec.name,
        shards: topology.workQueues.length,
        logger: options.logger,
        ...(options.rebalanceIntervalMs === undefined
          ? {}
          : { rebalanceIntervalMs: options.rebalanceIntervalMs }),
        acquire: (shard) => this.subscribe(this.workQueue(shard)),
        release: (shard) => this.unsubscribe(this.workQueue(shard)),
      });
    }
  }

  get name(): string {
    return this.options.topology.spec.name;
  }

  /** True when connected and consuming what this replica should (for an ordered group: its shard share). */
  get isConsuming(): boolean {
    if (this.stopping || this.channel === undefined) {
      return false;
    }
    if (this.shards && !this.shards.healthy) {
      return false;
    }
    return [...this.wanted].every((queue) => this.consumerTags.has(queue));
  }

  get inflightCount(): number {
    let count = 0;
    for (const set of this.inflight.values()) {
      count += set.size;
    }
    return count;
  }

  /** Shards of an ordered group this replica consumes now. */
  get ownedShards(): readonly number[] {
    return this.shards?.ownedShards ?? [];
  }

  start(): void {
    if (this.started) {
      return;
    }
    this.started = true;
    this.stallWatch = setInterval(() => {
      this.reportStalls();
    }, this.stalledAfterMs / 2).unref();
    if (this.shards) {
      this.shards.start();
    } else {
      for (const queue of this.options.topology.workQueues) {
        this.wanted.add(queue);
      }
    }
    this.options.connection.onConnected((model) => this.setUp(model));
  }

  /** Opens the group's channels on `model`, declares its topology and consumes what this replica should. */
  private async setUp(model: ChannelModel): Promise<void> {
    if (this.stopping) {
      return;
    }
    const channel = await model.createChannel();
    const publishChannel = await model.createConfirmChannel();
    for (const ch of [channel, publishChannel]) {
      ch.on('error', (error: Error) => {
        this.options.logger.warn('consumer channel error', { group: this.name, error: error.message });
      });
      ch.on('close', () => {
        this.closedChannels.add(ch);
        if (this.channel === ch || this.publishChannel === ch) {
          this.channel = undefined;
          this.publishChannel = undefined;
          this.consumerTags.clear();
          for (const sibling of [channel, publishChannel]) {
            if (sibling !== ch && !this.closedChannels.has(sibling)) {
              void sibling.close().catch(() => undefined);
            }
          }
          if (!this.stopping && this.options.connection.current === model) {
            this.reopen(model);
          }
        }
      });
    }
    try {
      if (this.options.declareTopology ?? true) {
        await declareConsumerGroup(channel, this.options.topology);
      } else {
        for (const queue of this.options.topology.workQueues) {
          await channel.checkQueue(queue);
        }
      }
      await channel.prefetch(this.options.topology.spec.prefetch ?? this.options.prefetch ?? 20);
    } catch (error) {
      await Promise.all([channel, publishChannel].map((ch) => ch.close().catch(() => undefined)));
      throw error;
    }
    this.channel = channel;
    this.publishChannel = publishChannel;
    for (const queue of this.wanted) {
      await this.consume(channel, queue);
    }
    this.shards?.nudge();
    this.options.logger.info('consuming', { group: this.name, queues: [...this.wanted] });
  }

  /**
   * A channel the broker closed while the connection lives (an ack it refused, a queue check it failed): the group
   * opens new channels on the same connection, so the other groups and the relay sharing it carry on undisturbed.
   * Its unacknowledged messages are back in their queues and come again. While the new set-up keeps failing (with
   * back-off), and after the last attempt, the connection is restarted as a whole.
   */
  private reopen(model: ChannelModel): void {
    this.options.logger.warn('the broker closed a consumer channel; opening new ones', { group: this.name });
    void (async () => {
      for (let attempt = 0; attempt < REOPEN_ATTEMPTS; attempt += 1) {
        await new Promise((resolve) => setTimeout(resolve, Math.min(5_000, 100 * 2 ** attempt)).unref());
        if (this.stopping || this.options.connection.current !== model || this.channel !== undefined) {
          return;
        }
        try {
          await this.setUp(model);
          return;
        } catch (error) {
          this.options.logger.warn('could not open the consumer channels again yet', {
            group: this.name,
            attempt: attempt + 1,
            error: describeError(error),
          });
        }
      }
      if (!this.stopping && this.options.connection.current === model) {
        void model.close().catch(() => undefined);
      }
    })();
  }

  /** Stops new deliveries, waits for in-flight work up to the deadline, then closes the channels. */
  async stop(deadlineMs: number): Promise<void> {
    this.stopping = true;
    clearInterval(this.stallWatch);
    const channel = this.channel;
    if (channel && !this.closedChannels.has(channel)) {
      await Promise.all(
        [...this.consumerTags.values()].map((tag) => channel.cancel(tag).catch(() => undefined)),
      );
    }
    this.consumerTags.clear();
    const all = [...this.inflight.values()].flatMap((set) => [...set]);
    const drained = await Promise.race([
      Promise.allSettled(all).then(() => true),
      new Promise<false>((resolve) =>
        setTimeout(() => {
          resolve(false);
        }, deadlineMs).unref(),
      ),
    ]);
    if (!drained) {
      this.options.logger.warn('drain deadline reached; unfinished messages go back to the queue', {
        group: this.name,
        inflight: this.inflightCount,
      });
    }
    await this.shards?.stop();
    if (this.channel !== undefined) {
      await closeChannel(this.channel);
    }
    if (this.publishChannel !== undefined) {
      await closeChannel(this.publishChannel);
    }
    this.channel = undefined;
    this.publishChannel = undefined;
  }

  private workQueue(shard: number): string {
    const queue = this.options.topology.workQueues[shard];
    if (queue === undefined) {
      throw new Error(`${this.name} has no shard ${shard}`);
    }
    return queue;
  }

  private async subscribe(queue: string): Promise<void> {
    this.wanted.add(queue);
    const channel = this.channel;
    if (channel && !this.closedChannels.has(channel) && !this.stopping) {
      await this.consume(channel, queue);
    }
  }

  private async unsubscribe(queue: string): Promise<void> {
    this.wanted.delete(queue);
    const tag = this.consumerTags.get(queue);
    this.consumerTags.delete(queue);
    const channel = this.channel;
    if (tag && channel && !this.closedChannels.has(channel)) {
      await channel.cancel(tag).catch(() => undefined);
    }
    // Ownership moves only after this replica finished what it received from the queue.
    await Promise.allSettled([...(this.inflight.get(queue) ?? [])]);
  }

  private async consume(channel: Channel, queue: string): Promise<void> {
    if (this.consumerTags.has(queue)) {
      return;
    }
    const { consumerTag } = await channel.consume(
      queue,
      (message) => {
        if (message) {
          this.track(queue, this.onDelivery(channel, queue, message));
        } else {
          // Only the broker cancels with a null delivery (a cancel of ours is not reported).
          this.consumerCancelled(channel, queue);
        }
      },
      { noAck: false },
    );
    // The channel closed while the broker was answering: its consumer is gone, and a tag kept for it would make
    // the queue look consumed on the channel that replaced it.
    if (this.channel === channel && !this.closedChannels.has(channel)) {
      this.consumerTags.set(queue, consumerTag);
    }
  }

  /**
   * The broker cancelled a consumer (its queue was deleted, or a queue replica was lost): without this the group
   * would silently stop taking that queue's messages until its connection happened to restart. The group's
   * topology is declared again (bringing back the queue and its bindings) and the queue consumed again, with
   * back-off while the broker refuses; the channel and the group's other queues carry on meanwhile.
   */
  private consumerCancelled(channel: Channel, queue: string): void {
    if (this.channel !== channel) {
      return;
    }
    this.consumerTags.delete(queue);
    this.options.logger.warn('the broker cancelled a consumer; declaring its queue again', {
      group: this.name,
      queue,
    });
    void (async () => {
      for (let attempt = 0; ; attempt += 1) {
        if (this.stopping || this.channel !== channel || this.closedChannels.has(channel)) {
          return;
        }
        try {
          if (this.options.declareTopology ?? true) {
            await declareConsumerGroup(channel, this.options.topology);
          } else {
            await channel.checkQueue(queue);
          }
          if (this.wanted.has(queue)) {
            await this.consume(channel, queue);
          }
          return;
        } catch (error) {
          this.options.logger.warn('could not consume a cancelled queue again yet', {
            group: this.name,
            queue,
            error: describeError(error),
          });
          await new Promise((resolve) => setTimeout(resolve, Math.min(30_000, 250 * 2 ** attempt)).unref());
        }
      }
    })();
  }

  private track(queue: string, work: Promise<void>): void {
    let set = this.inflight.get(queue);
    if (!set) {
      set = new Set();
      this.inflight.set(queue, set);
    }
    set.add(work);
    void work.finally(() => set.delete(work));
  }

  private async onDelivery(channel: Channel, queue: string, message: ConsumeMessage): Promise<void> {
    const started = process.hrtime.bigint();
    const delivery: Delivery = { message, queue, channel, attempt: attemptOf(message) };
    let type = 'unknown';
    let outcome: Outcome;
    try {
      const envelope = this.decode(message);
      type = envelope.type;
      this.progress.set(message, {
        messageId: envelope.messageId,
        type,
        step: 'waiting behind earlier messages of its ordering key',
        since: Date.now(),
        reported: false,
      });
      const handler = this.options.resolveHandler(envelope.type);
      if (!handler) {
        throw new DeadLetter('no_handler', `no handler for ${envelope.type} in consumer group ${this.name}`);
      }
      const ordered = this.options.topology.hashExchange !== undefined;
      const orderingKey = ordered ? orderingKeyOf(envelope) : undefined;
      const work = { delivery, envelope, handler, orderingKey };
      outcome =
        orderingKey === undefined
          ? await this.process(work)
          : await this.serializer.run(orderingKey, () => this.process(work));
    } catch (error) {
      outcome = await this.fail(delivery, error, undefined);
    } finally {
      this.progress.delete(message);
    }
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    this.options.metrics.consumed.inc({ queue: this.name, type, outcome });
    this.options.metrics.handlerDuration.observe({ queue: this.name, type, outcome }, seconds);
  }

  /** One message alone in its transaction, or queued to share one with others (`maxBatchSize` > 1). */
  private process(work: Work): Promise<Outcome> {
    if (this.closedChannels.has(work.delivery.channel)) {
      // Its channel closed while it waited behind its conversation: the broker has already put it back, in
      // order with the messages after it, and handling it here would race that redelivery.
      return Promise.resolve('requeued');
    }
    if (this.maxBatchSize <= 1) {
      return this.processAlone(work);
    }
    return new Promise<Outcome>((resolve) => {
      this.batchQueue.push({ ...work, resolve });
      this.pumpBatches();
    });
  }

  private processAlone(work: Work): Promise<Outcome> {
    return work.orderingKey === undefined
      ? this.handle(work.delivery, work.envelope, work.handler)
      : this.handleOrdered(work.delivery, work.envelope, work.handler, work.orderingKey);
  }

  /**
   * Batches form only from what is already waiting while earlier batches run, so a quiet queue sees no
   * added latency, and a busy one shares the commit among many messages.
   */
  private pumpBatches(): void {
    while (this.batchesInFlight < this.maxConcurrentBatches && this.batchQueue.length > 0) {
      const items = this.batchQueue.splice(0, this.maxBatchSize);
      this.batchesInFlight += 1;
      void this.runBatch(items).finally(() => {
        this.batchesInFlight -= 1;
        this.pumpBatches();
      });
    }
  }

  private async runBatch(waiting: BatchItem[]): Promise<void> {
    const items: BatchItem[] = [];
    for (const item of waiting) {
      if (this.closedChannels.has(item.delivery.channel)) {
        item.resolve('requeued');
      } else {
        items.push(item);
      }
    }
    if (items.length === 0) {
      return;
    }
    if (items.length === 1) {
      const [only] = items as [BatchItem];
      only.resolve(await this.processAlone(only));
      return;
    }
    const { schema } = this.options;
    let alone: BatchItem[] = [];
    let together: BatchItem[] = items;
    let outcomes: ('processed' | 'duplicate')[];
    for (const item of items) {
      this.step(item.delivery, 'waiting for a transaction slot (batch)');
    }
    try {
      outcomes = await this.transactionSlots.run(() =>
        this.options.dataSource.transaction((manager) =>
          this.withinTransaction(manager, async () => {
            const keys = items.flatMap((i) => (i.orderingKey === undefined ? [] : [i.orderingKey]));
            if (keys.length > 0) {
              // A key with parked messages needs the ordering checks of the one-by-one path.
              const parked: { ordering_key: string }[] = await manager.query(
                `SELECT DISTINCT ordering_key FROM "${schema}".ordering_park WHERE consumer = $1 AND ordering_key = ANY($2)`,
                [this.name, keys],
              );
              const blocked = new Set(parked.map((p) => p.ordering_key));
              alone = items.filter((i) => i.orderingKey !== undefined && blocked.has(i.orderingKey));
              together = items.filter((i) => !alone.includes(i));
            }
            const claimed: { message_id: string }[] = await manager.query(
              `INSERT INTO "${schema}".inbox (consumer, message_id) SELECT $1, unnest($2::text[])
           ON CONFLICT DO NOTHING RETURNING message_id`,
              [this.name, together.map((i) => i.envelope.messageId)],
            );
            const unclaimed = new Set(claimed.map((c) => c.message_id));
            const handle = (item: BatchItem): Promise<'processed' | 'duplicate'> =>
              unclaimed.delete(item.envelope.messageId)
                ? correlationContext.run(this.scopeOf(item.delivery, item.envelope), () =>
                    this.invoke(item.handler, item.delivery, item.envelope, manager),
                  )
                : Promise.resolve('duplicate');
            if (this.options.topology.spec.concurrentHandlers === true) {
              // Every handler settles before the transaction ends, so none queries a released connection.
              const settled = await Promise.allSettled(together.map(handle));
              const failed = settled.find((result) => result.status === 'rejected');
              if (failed !== undefined) {
                throw failed.reason;
              }
              return settled.map((result) => (result.status === 'fulfilled' ? result.value : 'duplicate'));
            }
            const results: ('processed' | 'duplicate')[] = [];
            for (const item of together) {
              results.push(await handle(item));
            }
            return results;
          }),
        ),
      );
    } catch {
      // A handler or the commit failed and nothing of the batch committed: take the messages one by one,
      // so only the failing one is retried or dead-lettered.
      for (const item of items) {
        item.resolve(await this.processAlone(item));
      }
      return;
    }
    this.options.metrics.batchSize.observe({ queue: this.name }, together.length);
    together.forEach((item, index) => {
      this.ack(item.delivery);
      item.resolve(outcomes[index] ?? 'processed');
    });
    for (const item of alone) {
      item.resolve(await this.processAlone(item));
    }
  }

  private decode(message: ConsumeMessage): AnyMessageEnvelope {
    let body: unknown;
    try {
      body = JSON.parse(message.content.toString('utf8'));
    } catch {
      throw new DeadLetter('contract', 'body is not JSON');
    }
    const parsed = parseEnvelope(body);
    if (!parsed.ok) {
      throw new DeadLetter('contract', `contract violation: ${parsed.issues.join('; ')}`);
    }
    return parsed.value;
  }

  private async handle(
    delivery: Delivery,
    envelope: AnyMessageEnvelope,
    handler: MessageHandler,
  ): Promise<Outcome> {
    try {
      const outcome = await this.inTransaction(delivery, envelope, async (manager) => {
        return (await this.claimInbox(manager, envelope))
          ? this.invoke(handler, delivery, envelope, manager)
          : 'duplicate';
      });
      this.ack(delivery);
      return outcome;
    } catch (error) {
      return this.fail(delivery, error, undefined);
    }
  }

  private async handleOrdered(
    delivery: Delivery,
    envelope: AnyMessageEnvelope,
    handler: MessageHandler,
    orderingKey: string,
  ): Promise<Outcome> {
    const { schema } = this.options;
    let holdTier = -1;
    try {
      const outcome = await this.inTransaction(delivery, envelope, async (manager) => {
        const parked: { message_id: string; tier: number }[] = await manager.query(
          `SELECT message_id, tier FROM "${schema}".ordering_park
            WHERE consumer = $1 AND ordering_key = $2 ORDER BY seq`,
          [this.name, orderingKey],
        );
        const head = parked[0];
        if (head && head.message_id !== envelope.messageId) {
          holdTier = head.tier;
          await manager.query(
            `INSERT INTO "${schema}".ordering_park (consumer, ordering_key, message_id, tier)
             VALUES ($1, $2, $3, $4) ON CONFLICT (consumer, message_id) DO UPDATE SET tier = EXCLUDED.tier`,
            [this.name, orderingKey, envelope.messageId, head.tier],
          );
          return 'held_back' as const;
        }
        if (head) {
          await manager.query(
            `DELETE FROM "${schema}".ordering_park WHERE consumer = $1 AND message_id = $2`,
            [this.name, envelope.messageId],
          );
        }
        return (await this.claimInbox(manager, envelope))
          ? this.invoke(handler, delivery, envelope, manager)
          : 'duplicate';
      });
      if (outcome === 'held_back') {
        // An earlier message of this key waits in a retry tier: queue behind it in the same tier.
        await this.republishToRetry(delivery, holdTier, delivery.attempt, true);
        return 'held_back';
      }
      this.ack(delivery);
      return outcome;
    } catch (error) {
      return this.fail(delivery, error, orderingKey);
    }
  }

  private inTransaction<T>(
    delivery: Delivery,
    envelope: AnyMessageEnvelope,
    work: (manager: EntityManager) => Promise<T>,
  ): Promise<T> {
    this.step(delivery, 'waiting for a transaction slot');
    return correlationContext.run(this.scopeOf(delivery, envelope), () =>
      this.transactionSlots.run(() => {
        this.step(delivery, 'in its transaction');
        return this.options.dataSource.transaction((manager) =>
          this.withinTransaction(manager, () => work(manager)),
        );
      }),
    );
  }

  private step(delivery: Delivery, step: string): void {
    const progress = this.progress.get(delivery.message);
    if (progress !== undefined) {
      progress.step = step;
      progress.since = Date.now();
      progress.reported = false;
    }
  }

  /** Names what an unfinished delivery waits for, so a stuck conversation can be found from the logs. */
  private reportStalls(): void {
    const now = Date.now();
    for (const progress of this.progress.values()) {
      if (!progress.reported && now - progress.since >= this.stalledAfterMs) {
        progress.reported = true;
        this.options.logger.warn('message handling stalled', {
          group: this.name,
          messageId: progress.messageId,
          messageType: progress.type,
          step: progress.step,
          stalledForMs: now - progress.since,
        });
      }
    }
  }

  private scopeOf(delivery: Delivery, envelope: AnyMessageEnvelope): CorrelationScope {
    return {
      correlationId: envelope.correlationId,
      messageId: envelope.messageId,
      causationId: envelope.causationId,
      portalId: envelope.portalId,
      messageType: envelope.type,
      attempt: delivery.attempt,
    };
  }

  private async claimInbox(manager: EntityManager, envelope: AnyMessageEnvelope): Promise<boolean> {
    const inserted: unknown[] = await manager.query(
      `INSERT INTO "${this.options.schema}".inbox (consumer, message_id) VALUES ($1, $2)
       ON CONFLICT DO NOTHING RETURNING 1`,
      [this.name, envelope.messageId],
    );
    return inserted.length > 0;
  }

  /**
   * A consumer transaction's work, then the work its handlers asked to run before the commit (`beforeCommit`, in the
   * order asked), with every event published meanwhile written by one INSERT at the end.
   */
  private withinTransaction<T>(manager: EntityManager, work: () => Promise<T>): Promise<T> {
    return this.options.outbox.collecting(manager, async () => {
      const hooks: (() => Promise<void>)[] = [];
      this.commitHooks.set(manager, hooks);
      try {
        const result = await work();
        for (let index = 0; index < hooks.length; index += 1) {
          await hooks[index]?.();
        }
        return result;
      } finally {
        this.commitHooks.delete(manager);
      }
    });
  }

  private async invoke(
    handler: MessageHandler,
    delivery: Delivery,
    envelope: AnyMessageEnvelope,
    manager: EntityManager,
  ): Promise<'processed'> {
    const context: MessageContext = {
      envelope,
      manager,
      queue: delivery.queue,
      attempt: delivery.attempt,
      redelivered: delivery.message.fields.redelivered,
      deferredUntil: deferredUntilOf(delivery.message),
      publish: (type, payload, options) =>
        this.options.outbox.publish(manager, type, payload, { portalId: envelope.portalId, ...options }),
      beforeCommit: (hook) => {
        const hooks = this.commitHooks.get(manager);
        if (hooks === undefined) {
          throw new Error('beforeCommit must be called while the handler runs, inside its transaction');
        }
        hooks.push(hook);
      },
    };
    this.step(delivery, 'in its handler');
    await inConsumeSpan(
      delivery.message.properties.headers,
      `${envelope.type} process`,
      {
        'messaging.system': 'rabbitmq',
        'messaging.operation.type': 'process',
        'messaging.destination.name': delivery.queue,
        'messaging.message.id': envelope.messageId,
        'messaging.message.conversation_id': envelope.correlationId,
        'inbox_bridge.portal_id': envelope.portalId,
      },
      () => handler(envelope, context),
    );
    this.step(delivery, 'committing');
    return 'processed';
  }

  private async fail(delivery: Delivery, error: unknown, orderingKey: string | undefined): Promise<Outcome> {
    const reason = describeError(error);
    this.step(delivery, 'moving to a retry tier or the dead-letter queue');
    try {
      if (error instanceof DeadLetter) {
        await this.deadLetter(delivery, error.reason, error.message, orderingKey);
        return 'dead_lettered';
      }
      if (error instanceof DeferredError) {
        await this.defer(delivery, error, orderingKey);
        return 'deferred';
      }
      const errorClass = classifyError(error);
      const tier = delivery.attempt - 1;
      if (errorClass === 'permanent') {
        await this.deadLetter(delivery, 'permanent', reason, orderingKey);
        return 'dead_lettered';
      }
      if (tier >= this.options.topology.retryQueues.length) {
        await this.deadLetter(
          delivery,
          'exhausted',
          `gave up after ${delivery.attempt} attempts: ${reason}`,
          orderingKey,
        );
        return 'dead_lettered';
      }
      this.options.logger.warn('message failed; retrying later', {
        group: this.name,
        attempt: delivery.attempt,
        error: reason,
      });
      if (orderingKey !== undefined) {
        await this.park(delivery, orderingKey, tier);
      }
      await this.republishToRetry(delivery, tier, delivery.attempt + 1, false, reason);
      this.options.metrics.retried.inc({ queue: this.name, tier: String(tier) });
      return 'retried';
    } catch (handlingError) {
      // Could not move the message (broker or database down): give it back; it will be redelivered.
      this.options.logger.error('could not retry or dead-letter a message; requeueing it', {
        group: this.name,
        error: describeError(handlingError),
        original: reason,
      });
      // Given back at once, it would come straight back and fail again, every few milliseconds while the database
      // is away, and each return counts towards the queue's delivery limit (RabbitMQ before 4.3 counts every
      // return): a few seconds of outage dead-lettered valid messages. So it is held until the database answers.
      await this.untilDatabaseAnswers();
      if (orderingKey === undefined) {
        this.reject(delivery);
      } else {
        // Requeuing it alone would let the later messages of its conversation, already delivered here, overtake
        // it. Closing the channel gives back every unacknowledged message of the channel in queue order, and
        // the ones waiting here are skipped (see `process`).
        this.closedChannels.add(delivery.channel);
        await closeChannel(delivery.channel);
      }
      return 'requeued';
    }
  }

  /**
   * Into the longest delay tier that ends before the requested time (the shortest when none does), same attempt;
   * a handler that is still early when it comes back defers again for the rest.
   */
  private async defer(
    delivery: Delivery,
    error: DeferredError,
    orderingKey: string | undefined,
  ): Promise<void> {
    const waitMs = error.untilMs - Date.now();
    const tiers = this.options.topology.retryQueues;
    let tier = 0;
    tiers.forEach((candidate, index) => {
      if (candidate.delayMs <= waitMs) {
        tier = index;
      }
    });
    if (orderingKey !== undefined) {
      await this.park(delivery, orderingKey, tier);
    }
    await this.republishToRetry(delivery, tier, delivery.attempt, false, describeError(error), error.untilMs);
    this.options.metrics.retried.inc({ queue: this.name, tier: `deferred-${tier}` });
  }

  private async park(delivery: Delivery, orderingKey: string, tier: number): Promise<void> {
    const envelopeId = String(delivery.message.properties.messageId ?? '');
    await this.options.dataSource.query(
      `INSERT INTO "${this.options.schema}".ordering_park (consumer, ordering_key, message_id, tier)
       VALUES ($1, $2, $3, $4) ON CONFLICT (consumer, message_id) DO UPDATE SET tier = EXCLUDED.tier`,
      [this.name, orderingKey, envelopeId, tier],
    );
  }

  private async republishToRetry(
    delivery: Delivery,
    tier: number,
    nextAttempt: number,
    heldBack: boolean,
    error?: string,
    deferUntil?: number,
  ): Promise<void> {
    const retryQueue = this.options.topology.retryQueues[tier];
    if (!retryQueue) {
      throw new Error(`no retry tier ${tier} in ${this.name}`);
    }
    const headers: Record<string, unknown> = {
      ...withoutHeaders(delivery.message.properties.headers, [HELD_BACK_HEADER, DEFER_UNTIL_HEADER]),
      [ATTEMPT_HEADER]: nextAttempt,
    };
    if (deferUntil !== undefined) {
      headers[DEFER_UNTIL_HEADER] = deferUntil;
    }
    if (heldBack) {
      headers[HELD_BACK_HEADER] = true;
    }
    if (error !== undefined) {
      headers[ERROR_HEADER] = error;
    }
    await this.confirmSend('', retryQueue.name, delivery, headers);
    this.ack(delivery);
  }

  private async deadLetter(
    delivery: Delivery,
    reason: DeadLetter['reason'],
    error: string,
    orderingKey: string | undefined,
  ): Promise<void> {
    this.options.logger.error('message dead-lettered', {
      group: this.name,
      reason,
      error,
      attempt: delivery.attempt,
    });
    const headers: Record<string, unknown> = {
      ...withoutHeaders(delivery.message.properties.headers, [HELD_BACK_HEADER]),
      [ERROR_HEADER]: error,
      [ERROR_CLASS_HEADER]: reason,
      [ORIGINAL_QUEUE_HEADER]: delivery.queue,
      [FAILED_AT_HEADER]: new Date().toISOString(),
      [ATTEMPT_HEADER]: delivery.attempt,
    };
    await this.confirmSend(DEAD_LETTER_EXCHANGE, this.name, delivery, headers);
    if (orderingKey !== undefined && delivery.message.properties.messageId) {
      // A dead message no longer blocks its conversation.
      await this.options.dataSource.query(
        `DELETE FROM "${this.options.schema}".ordering_park WHERE consumer = $1 AND message_id = $2`,
        [this.name, String(delivery.message.properties.messageId)],
      );
    }
    this.ack(delivery);
    this.options.metrics.deadLettered.inc({ queue: this.name, reason });
  }

  private confirmSend(
    exchange: string,
    routingKey: string,
    delivery: Delivery,
    headers: Record<string, unknown>,
  ): Promise<void> {
    const channel = this.publishChannel;
    if (!channel) {
      return Promise.reject(new Error('publish channel unavailable'));
    }
    const { properties } = delivery.message;
    const options: Options.Publish = {
      persistent: true,
      mandatory: false,
      contentType: properties.contentType as string | undefined,
      messageId: properties.messageId as string | undefined,
      type: properties.type as string | undefined,
      timestamp: properties.timestamp as number | undefined,
      appId: properties.appId as string | undefined,
      headers,
    };
    return new Promise((resolve, reject) => {
      channel.publish(exchange, routingKey, delivery.message.content, options, (error: unknown) => {
        if (error) {
          reject(error instanceof Error ? error : new Error(describeError(error)));
        } else {
          resolve();
        }
      });
    });
  }

  private ack(delivery: Delivery): void {
    // The delivery tag belongs to the channel it came on; after a reconnection the broker has already
    // requeued it and the inbox will swallow the redelivery.
    if (!this.closedChannels.has(delivery.channel)) {
      delivery.channel.ack(delivery.message);
      coalesceWrites(delivery.channel.connection);
    }
  }

  /** Resolves once the database answers a query (or the group stops); one probe serves every waiting delivery. */
  private untilDatabaseAnswers(): Promise<void> {
    this.databaseAnswers ??= (async () => {
      for (let waitMs = DATABASE_PROBE_FIRST_WAIT_MS; !this.stopping;) {
        try {
          await this.options.dataSource.query('SELECT 1');
          return;
        } catch {
          await new Promise((resolve) => setTimeout(resolve, waitMs).unref());
          waitMs = Math.min(waitMs * 2, DATABASE_PROBE_MAX_WAIT_MS);
        }
      }
    })().finally(() => {
      this.databaseAnswers = undefined;
    });
    return this.databaseAnswers;
  }

  private reject(delivery: Delivery): void {
    if (!this.closedChannels.has(delivery.channel)) {
      // reject (not nack) so that the quorum delivery limit counts it (engineering notes §3.5).
      delivery.channel.reject(delivery.message, true);
    }
  }
}

function deferredUntilOf(message: ConsumeMessage): number | undefined {
  const value = Number(message.properties.headers?.[DEFER_UNTIL_HEADER]);
  return Number.isFinite(value) && value > 0 ? value : undefined;
}

function attemptOf(message: ConsumeMessage): number {
  const value = Number(message.properties.headers?.[ATTEMPT_HEADER] ?? 1);
  return Number.isInteger(value) && value >= 1 ? value : 1;
}
