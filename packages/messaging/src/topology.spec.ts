import { RoutingKeys } from '@inbox-bridge/shared';
import { describe, expect, it } from '@jest/globals';
import type { Channel } from 'amqplib';
import {
  declareConsumerGroup,
  DEFAULT_RETRY_DELAYS_MS,
  describeConsumerGroup,
  EVENTS_EXCHANGE,
  formatDelay,
  withoutHeaders,
  type ConsumerGroupSpec,
} from './topology.js';

function spec(overrides: Partial<ConsumerGroupSpec> = {}): ConsumerGroupSpec {
  return { name: 'gateway.inbound', routingKeys: [RoutingKeys.ProviderMessageReceivedV1], ...overrides };
}

/** A channel that only records the declarations asked of it, in order. */
function recordingChannel(): { channel: Channel; calls: string[] } {
  const calls: string[] = [];
  const record =
    (method: string) =>
    (...args: unknown[]): Promise<void> => {
      calls.push(`${method} ${args.filter((arg) => typeof arg === 'string').join(' ')}`);
      return Promise.resolve();
    };
  const channel = {
    assertExchange: record('assertExchange'),
    assertQueue: record('assertQueue'),
    bindQueue: record('bindQueue'),
    bindExchange: record('bindExchange'),
  } as unknown as Channel;
  return { channel, calls };
}

describe('formatDelay', () => {
  it.each([
    [1_000, '1s'],
    [5_000, '5s'],
    [30_000, '30s'],
    [120_000, '2m'],
    [600_000, '10m'],
    [3_600_000, '1h'],
    [7_200_000, '2h'],
    [250, '250ms'],
    [1_500, '1500ms'],
    [90_000, '90s'],
    [5_400_000, '90m'],
  ])('%i ms is "%s"', (ms, label) => {
    expect(formatDelay(ms)).toBe(label);
  });
});

describe('describeConsumerGroup', () => {
  it('gives an unordered group one work queue, the default retry tiers and a DLQ', () => {
    const topology = describeConsumerGroup(spec());
    expect(topology.workQueues).toEqual(['gateway.inbound']);
    expect(topology.retryQueues).toEqual([
      { name: 'gateway.inbound.retry.1s', delayMs: 1_000 },
      { name: 'gateway.inbound.retry.5s', delayMs: 5_000 },
      { name: 'gateway.inbound.retry.30s', delayMs: 30_000 },
      { name: 'gateway.inbound.retry.2m', delayMs: 120_000 },
      { name: 'gateway.inbound.retry.10m', delayMs: 600_000 },
    ]);
    expect(topology.retryQueues.map((q) => q.delayMs)).toEqual(DEFAULT_RETRY_DELAYS_MS);
    expect(topology.deadLetterQueue).toBe('gateway.inbound.dlq');
    expect(topology.hashExchange).toBeUndefined();
    expect('hashExchange' in topology).toBe(false);
  });

  it('keeps the spec it was built from', () => {
    const input = spec();
    expect(describeConsumerGroup(input).spec).toBe(input);
  });

  it('gives an ordered group one queue per shard and a hash exchange', () => {
    const topology = describeConsumerGroup(spec({ name: 'router.assignments', ordered: { shards: 4 } }));
    expect(topology.workQueues).toEqual([
      'router.assignments.shard-0',
      'router.assignments.shard-1',
      'router.assignments.shard-2',
      'router.assignments.shard-3',
    ]);
    expect(topology.hashExchange).toBe('router.assignments.hash');
    expect(topology.deadLetterQueue).toBe('router.assignments.dlq');
    expect(topology.retryQueues[0]?.name).toBe('router.assignments.retry.1s');
  });

  it('accepts the shard bounds 1 and 64', () => {
    expect(describeConsumerGroup(spec({ ordered: { shards: 1 } })).workQueues).toEqual([
      'gateway.inbound.shard-0',
    ]);
    const wide = describeConsumerGroup(spec({ ordered: { shards: 64 } })).workQueues;
    expect(wide).toHaveLength(64);
    expect(wide[63]).toBe('gateway.inbound.shard-63');
  });

  it('names custom retry tiers by their delay', () => {
    const topology = describeConsumerGroup(spec({ retryDelaysMs: [250, 1_000, 3_600_000] }));
    expect(topology.retryQueues).toEqual([
      { name: 'gateway.inbound.retry.250ms', delayMs: 250 },
      { name: 'gateway.inbound.retry.1s', delayMs: 1_000 },
      { name: 'gateway.inbound.retry.1h', delayMs: 3_600_000 },
    ]);
  });

  it.each(['router.events.v1', 'a-b.c-d', 'connector2.delivery-status'])('accepts the name "%s"', (name) => {
    expect(describeConsumerGroup(spec({ name })).workQueues).toEqual([name]);
  });

  it.each([
    'gateway',
    'Gateway.inbound',
    'gateway.Inbound',
    '1gateway.inbound',
    'gateway.',
    '.inbound',
    'gateway inbound',
    'gateway..inbound',
    'gateway.in_bound',
    '',
  ])('rejects the name "%s"', (name) => {
    expect(() => describeConsumerGroup(spec({ name }))).toThrow(
      `consumer group name "${name}" must look like <service>.<purpose>`,
    );
  });

  it.each([0, 65_536, 2.5, -1, Number.NaN])('rejects a prefetch of %p', (prefetch) => {
    expect(() => describeConsumerGroup(spec({ prefetch }))).toThrow(
      'consumer group gateway.inbound: prefetch must be an integer between 1 and 65535',
    );
  });

  it.each([0, 65, 1.5])('rejects %p concurrent batches', (concurrentBatches) => {
    expect(() => describeConsumerGroup(spec({ concurrentBatches }))).toThrow(
      'consumer group gateway.inbound: concurrentBatches must be an integer between 1 and 64',
    );
  });

  it('keeps a prefetch of its own between 1 and 65535', () => {
    expect(describeConsumerGroup(spec({ prefetch: 1 })).spec.prefetch).toBe(1);
    expect(describeConsumerGroup(spec({ prefetch: 65_535 })).spec.prefetch).toBe(65_535);
  });

  it.each([0, 65, 1.5, -1, Number.NaN])('rejects %p shards', (shards) => {
    expect(() => describeConsumerGroup(spec({ ordered: { shards } }))).toThrow(
      'consumer group gateway.inbound: shards must be an integer between 1 and 64',
    );
  });

  it.each([
    ['descending', [5_000, 1_000]],
    ['descending later on', [1_000, 30_000, 5_000]],
    ['zero', [0, 1_000]],
    ['negative', [-1_000]],
    ['fractional', [1_000, 1_500.5]],
  ])('rejects %s retry delays', (_label, retryDelaysMs) => {
    expect(() => describeConsumerGroup(spec({ retryDelaysMs }))).toThrow(
      'consumer group gateway.inbound: retry delays must be positive integers in ascending order',
    );
  });
});

describe('withoutHeaders', () => {
  it('drops the named headers and keeps the others in order', () => {
    const headers = { 'x-attempt': 3, 'x-ordering-key': 'conv-1', 'x-held-back': true, 'x-error': 'boom' };
    const stripped = withoutHeaders(headers, ['x-held-back', 'x-error']);
    expect(stripped).toEqual({ 'x-attempt': 3, 'x-ordering-key': 'conv-1' });
    expect(Object.keys(stripped)).toEqual(['x-attempt', 'x-ordering-key']);
  });

  it('leaves its input untouched', () => {
    const headers = { 'x-held-back': true };
    withoutHeaders(headers, ['x-held-back']);
    expect(headers).toEqual({ 'x-held-back': true });
  });

  it('treats missing headers as none', () => {
    expect(withoutHeaders(undefined, ['x-held-back'])).toEqual({});
  });
});

describe('declareConsumerGroup', () => {
  it('routes events to an ordered group only once every shard is bound to its hash exchange', async () => {
    const { channel, calls } = recordingChannel();
    await declareConsumerGroup(channel, describeConsumerGroup(spec({ ordered: { shards: 3 } })));
    const shardBindings = calls.filter((call) => call.startsWith('bindQueue gateway.inbound.shard-'));
    expect(shardBindings).toHaveLength(3);
    const eventsBinding = calls.indexOf(
      `bindExchange gateway.inbound.hash ${EVENTS_EXCHANGE} ${RoutingKeys.ProviderMessageReceivedV1}`,
    );
    expect(eventsBinding).toBeGreaterThan(calls.indexOf(shardBindings[2] ?? ''));
  });
});
