import type { RoutingKey } from '@inbox-bridge/shared';
import { connect, type Channel } from 'amqplib';

export const EVENTS_EXCHANGE = 'inbox-bridge.events';
export const DEAD_LETTER_EXCHANGE = 'inbox-bridge.dlx';
/** Header carrying the ordering key; the consistent-hash exchange of an ordered group hashes on it. */
export const ORDERING_KEY_HEADER = 'x-ordering-key';
export const ATTEMPT_HEADER = 'x-attempt';
export const HELD_BACK_HEADER = 'x-held-back';
export const DEFER_UNTIL_HEADER = 'x-defer-until';
export const ERROR_HEADER = 'x-error';
export const ERROR_CLASS_HEADER = 'x-error-class';
export const ORIGINAL_QUEUE_HEADER = 'x-original-queue';
export const FAILED_AT_HEADER = 'x-failed-at';

/** A copy of message headers without the named ones (the others keep their order). */
export function withoutHeaders(
  headers: Readonly<Record<string, unknown>> | undefined,
  names: readonly string[],
): Record<string, unknown> {
  return Object.fromEntries(Object.entries(headers ?? {}).filter(([name]) => !names.includes(name)));
}

export const DEFAULT_RETRY_DELAYS_MS: readonly number[] = [1_000, 5_000, 30_000, 120_000, 600_000];
export const DEFAULT_DELIVERY_LIMIT = 10;

export interface ConsumerGroupSpec {
  /** `<service>.<purpose>`, e.g. `gateway.inbound`. A wire name: never rename it casually. */
  readonly name: string;
  readonly routingKeys: readonly RoutingKey[];
  /**
   * Per-ordering-key order across replicas: messages are spread by a consistent hash of their ordering key
   * over `shards` queues, each with a single active consumer. Omit for unordered competing consumers.
   */
  readonly ordered?: { readonly shards: number };
  /** Delays of the retry tiers, shortest first; after the last one a transient failure is dead-lettered. */
  readonly retryDelaysMs?: readonly number[];
  /**
   * Up to this many waiting messages share one transaction (and one commit). If any handler of a batch fails,
   * the batch is redone one message at a time, so a handler's external calls must be idempotent (HubSpot's
   * `integrationIdempotencyId`, for example). Default 1: a transaction per message.
   */
  readonly maxBatchSize?: number;
  /**
   * The handlers of one batch run at once instead of in turn, sharing its transaction (their statements queue
   * on its connection): for handlers that mostly wait on external calls. Messages of one ordering key are
   * never in the same batch, so per-key order holds. Default false.
   */
  readonly concurrentHandlers?: boolean;
  /**
   * Unacknowledged messages per work queue (per shard of an ordered group), when the service's default
   * (`AMQP_PREFETCH`) is too few to fill this group's batches. Default: the service's.
   */
  readonly prefetch?: number;
  /**
   * Batches (transactions) a batching group runs at once in one process. Fewer make fuller batches when messages
   * trickle in (each batch takes what arrived while the running ones ran), at the cost of less overlap. Default 4.
   */
  readonly concurrentBatches?: number;
  /** Broker-side guard against crash loops (a message that kills the process never reaches our catch). */
  readonly deliveryLimit?: number;
}

export interface ConsumerGroupTopology {
  readonly spec: ConsumerGroupSpec;
  /** Queues the group consumes: one, or one per shard. */
  readonly workQueues: readonly string[];
  readonly retryQueues: readonly { readonly name: string; readonly delayMs: number }[];
  readonly deadLetterQueue: string;
  /** Where an expired retry goes back to: the hash exchange of an ordered group, or the default exchange. */
  readonly hashExchange?: string;
}

export function formatDelay(ms: number): string {
  if (ms % 3_600_000 === 0) {
    return `${ms / 3_600_000}h`;
  }
  if (ms % 60_000 === 0) {
    return `${ms / 60_000}m`;
  }
  if (ms % 1_000 === 0) {
    return `${ms / 1_000}s`;
  }
  return `${ms}ms`;
}

export function describeConsumerGroup(spec: ConsumerGroupSpec): ConsumerGroupTopology {
  if (!/^[a-z][a-z0-9-]*(\.[a-z0-9-]+)+$/.test(spec.name)) {
    throw new Error(`consumer group name "${spec.name}" must look like <service>.<purpose>`);
  }
  const shards = spec.ordered?.shards;
  if (shards !== undefined && (!Number.isInteger(shards) || shards < 1 || shards > 64)) {
    throw new Error(`consumer group ${spec.name}: shards must be an integer between 1 and 64`);
  }
  const { prefetch } = spec;
  if (prefetch !== undefined && (!Number.isInteger(prefetch) || prefetch < 1 || prefetch > 65_535)) {
    throw new Error(`consumer group ${spec.name}: prefetch must be an integer between 1 and 65535`);
  }
  const { concurrentBatches } = spec;
  if (
    concurrentBatches !== undefined &&
    (!Number.isInteger(concurrentBatches) || concurrentBatches < 1 || concurrentBatches > 64)
  ) {
    throw new Error(`consumer group ${spec.name}: concurrentBatches must be an integer between 1 and 64`);
  }
  const delays = spec.retryDelaysMs ?? DEFAULT_RETRY_DELAYS_MS;
  if (delays.some((d, i) => !Number.isInteger(d) || d <= 0 || (i > 0 && d < (delays[i - 1] ?? 0)))) {
    throw new Error(`consumer group ${spec.name}: retry delays must be positive integers in ascending order`);
  }
  return {
    spec,
    workQueues:
      shards === undefined
        ? [spec.name]
        : Array.from({ length: shards }, (_, i) => `${spec.name}.shard-${i}`),
    retryQueues: delays.map((delayMs) => ({ name: `${spec.name}.retry.${formatDelay(delayMs)}`, delayMs })),
    deadLetterQueue: `${spec.name}.dlq`,
    ...(shards === undefined ? {} : { hashExchange: `${spec.name}.hash` }),
  };
}

const quorum = { 'x-queue-type': 'quorum' } as const;

/**
 * Declares the whole durable topology of one consumer group. Idempotent: every service may run it at boot;
 * arguments are fixed by the spec, so two declarations never disagree.
 */
export async function declareConsumerGroup(channel: Channel, topology: ConsumerGroupTopology): Promise<void> {
  const { spec } = topology;
  await declareExchanges(channel);
  await channel.assertQueue(topology.deadLetterQueue, { durable: true, arguments: { ...quorum } });
  await channel.bindQueue(topology.deadLetterQueue, DEAD_LETTER_EXCHANGE, spec.name);

  const workQueueArguments: Record<string, unknown> = {
    ...quorum,
    'x-delivery-limit': spec.deliveryLimit ?? DEFAULT_DELIVERY_LIMIT,
    'x-dead-letter-exchange': DEAD_LETTER_EXCHANGE,
    'x-dead-letter-routing-key': spec.name,
  };
  if (topology.hashExchange) {
    await channel.assertExchange(topology.hashExchange, 'x-consistent-hash', {
      durable: true,
      arguments: { 'hash-header': ORDERING_KEY_HEADER },
    });
    for (const queue of topology.workQueues) {
      await channel.assertQueue(queue, {
        durable: true,
        arguments: { ...workQueueArguments, 'x-single-active-consumer': true },
      });
      // The binding key of a consistent-hash exchange is the shard's weight.
      await channel.bindQueue(queue, topology.hashExchange, '1');
    }
    // Events reach the hash exchange only once every shard is bound: a ring that grew while messages flowed
    // would send one conversation's earlier messages to one shard and its later ones to another.
    for (const key of spec.routingKeys) {
      await channel.bindExchange(topology.hashExchange, EVENTS_EXCHANGE, key);
    }
  } else {
    const [queue] = topology.workQueues;
    if (queue === undefined) {
      throw new Error(`consumer group ${spec.name} has no work queue`);
    }
    await channel.assertQueue(queue, { durable: true, arguments: workQueueArguments });
    for (const key of spec.routingKeys) {
      await channel.bindQueue(queue, EVENTS_EXCHANGE, key);
    }
  }

  for (const retry of topology.retryQueues) {
    await channel.assertQueue(retry.name, {
      durable: true,
      arguments: {
        ...quorum,
        'x-message-ttl': retry.delayMs,
        // Expiry is dead-lettering: back to the group only, never through the topic exchange (which would
        // hand the retry to every other subscriber again). Ordered groups re-hash to the same shard.
        'x-dead-letter-exchange': topology.hashExchange ?? '',
        ...(topology.hashExchange ? {} : { 'x-dead-letter-routing-key': topology.workQueues[0] }),
        'x-dead-letter-strategy': 'at-least-once',
        'x-overflow': 'reject-publish',
      },
    });
  }
}

export async function declareExchanges(channel: Channel): Promise<void> {
  await channel.assertExchange(EVENTS_EXCHANGE, 'topic', { durable: true });
  await channel.assertExchange(DEAD_LETTER_EXCHANGE, 'direct', { durable: true });
}

/**
 * Declares the topology of every given consumer group over a short-lived connection of its own: the deployment
 * step (`db:migrate`, the migration Job) that makes each group's queues and bindings exist before any service
 * of the release starts. A group that declared its own queues only when it first connected would miss what
 * producers published before then, wherever another group had already made that routing key routable.
 */
export async function declareTopology(
  amqpUrl: string,
  specs: readonly ConsumerGroupSpec[],
  options: { readonly connectionName?: string; readonly timeoutMs?: number } = {},
): Promise<readonly ConsumerGroupTopology[]> {
  // Validate every spec before touching the broker: a bad one must not leave the others half declared.
  const topologies = specs.map((spec) => describeConsumerGroup(spec));
  const model = await connect(amqpUrl, {
    timeout: options.timeoutMs ?? 10_000,
    clientProperties: { connection_name: options.connectionName ?? 'declare-topology' },
  });
  try {
    const channel = await model.createChannel();
    await declareExchanges(channel);
    for (const topology of topologies) {
      await declareConsumerGroup(channel, topology);
    }
    await channel.close();
  } finally {
    await model.close().catch(() => undefined);
  }
  return topologies;
}
