import { RoutingKeys } from '@inbox-bridge/shared';
import { delay, expectEventually } from '@inbox-bridge/testing';
import { afterEach, describe, expect, it } from '@jest/globals';
import { DeferredError, TransientError, type Messaging } from '../src/index.js';
import {
  createTestBed,
  publishThroughOutbox,
  recordEffect,
  type TestBed,
  type TestHandler,
} from './fixtures.js';

const orderedGroup = {
  name: 'test.ordered',
  routingKeys: [RoutingKeys.ProviderMessageReceivedV1],
  ordered: { shards: 4 },
  retryDelaysMs: [300, 600, 1_200],
};

/** Publishes while nobody listens: the message comes back unroutable and waits for its retry. */
const publishUnroutable = async (
  bed: TestBed,
  producer: Messaging,
  conversationKey: string,
  text: string,
) => {
  await publishThroughOutbox(bed, producer, { conversationKey, text });
  await expectEventually(async () => {
    const [row] = await bed.db.dataSource.query<{ attempts: number }[]>(
      `SELECT attempts FROM "${bed.db.schema}".outbox`,
    );
    expect(row?.attempts).toBeGreaterThan(0);
  });
};

/** The ordered group, recording each message it handles, once it consumes. */
const startRecordingConsumer = async (bed: TestBed) => {
  const consumer = await bed.startService({
    groups: [orderedGroup],
    handlers: {
      [RoutingKeys.ProviderMessageReceivedV1]: async (_envelope, ctx) => {
        await recordEffect(ctx, 'consumer');
      },
    },
  });
  await expectEventually(() => consumer.status().consumerGroups['test.ordered']?.consuming === true);
};

describe('per-conversation order with several consumer instances', () => {
  let bed: TestBed;

  afterEach(async () => {
    await bed.dispose();
  });

  it('handles each conversation one message at a time, in publish order, across two replicas and retries', async () => {
    bed = await createTestBed('order');
    const active = new Set<string>();
    const overlaps: string[] = [];
    const failedOnce = new Set<string>();
    const handledBy = new Map<string, Set<number>>();

    const handlerFor =
      (replica: number): TestHandler =>
      async (envelope, ctx) => {
        const payload = envelope.payload as { conversationKey: string; text: string };
        const key = payload.conversationKey;
        if (active.has(key)) {
          overlaps.push(`${key}#${payload.text}`);
        }
        active.add(key);
        try {
          await delay(Math.random() * 4);
          // Every 7th message fails once: later messages of its conversation must wait behind it.
          if (Number(payload.text) % 7 === 0 && !failedOnce.has(envelope.messageId)) {
            failedOnce.add(envelope.messageId);
            throw new TransientError('provider timed out');
          }
          await recordEffect(ctx, `replica-${replica}`);
          handledBy.set(key, (handledBy.get(key) ?? new Set()).add(replica));
        } finally {
          active.delete(key);
        }
      };

    const replicas: Messaging[] = [];
    for (const replica of [1, 2]) {
      replicas.push(
        await bed.startService({
          groups: [orderedGroup],
          handlers: { [RoutingKeys.ProviderMessageReceivedV1]: handlerFor(replica) },
        }),
      );
    }
    const producer = replicas[0]!;
    await expectEventually(() =>
      replicas.every((r) => r.status().consumerGroups['test.ordered']?.consuming === true),
    );

    const conversations = 12;
    const perConversation = 25;
    for (let seq = 1; seq <= perConversation; seq += 1) {
      for (let c = 0; c < conversations; c += 1) {
        await publishThroughOutbox(bed, producer, { conversationKey: `conv-${c}`, text: String(seq) });
      }
    }

    const total = conversations * perConversation;
    await expectEventually(
      async () => {
        expect(await bed.effects()).toHaveLength(total);
      },
      {
        timeoutMs: 45_000,
      },
    );

    const effects = await bed.effects();
    const byConversation = new Map<string, number[]>();
    for (const effect of effects) {
      const key = effect.ordering_key ?? '';
      byConversation.set(key, [...(byConversation.get(key) ?? []), effect.seq ?? -1]);
    }
    const expected = Array.from({ length: perConversation }, (_, i) => i + 1);
    for (const [key, seqs] of byConversation) {
      expect({ key, seqs }).toEqual({ key, seqs: expected });
    }
    expect(overlaps).toEqual([]);
    expect(failedOnce.size).toBeGreaterThan(0);
    // Both replicas took part (single active consumer per shard spreads shards over instances).
    const replicasUsed = new Set(effects.map((e) => e.consumer));
    expect(replicasUsed.size).toBe(2);
    const parked: unknown[] = await bed.db.dataSource.query(`SELECT * FROM "${bed.db.schema}".ordering_park`);
    expect(parked).toEqual([]);
  });

  it('defers a message until the time its handler asks for, without using an attempt, its conversation waiting behind it', async () => {
    bed = await createTestBed('defer');
    const deferredGroup = { ...orderedGroup, name: 'test.deferred', retryDelaysMs: [200, 1_000, 5_000] };
    const seen: { text: string; attempt: number; deferredUntil: number | undefined; at: number }[] = [];
    let until = 0;
    const messaging = await bed.startService({
      groups: [deferredGroup],
      handlers: {
        [RoutingKeys.ProviderMessageReceivedV1]: async (envelope, ctx) => {
          const { text } = envelope.payload as { text: string };
          seen.push({ text, attempt: ctx.attempt, deferredUntil: ctx.deferredUntil, at: Date.now() });
          if (text === '1' && (ctx.deferredUntil ?? 0) === 0) {
            until = Date.now() + 1_500;
            throw new DeferredError('rate budget reserved for later', until);
          }
          if (ctx.deferredUntil !== undefined && Date.now() < ctx.deferredUntil) {
            throw new DeferredError('still early', ctx.deferredUntil);
          }
          await recordEffect(ctx, 'c1');
        },
      },
    });
    await expectEventually(() => messaging.status().consumerGroups['test.deferred']?.consuming === true);
    for (const text of ['1', '2', '3']) {
      await publishThroughOutbox(bed, messaging, { conversationKey: 'k', text });
    }
    await publishThroughOutbox(bed, messaging, { conversationKey: 'other', text: '9' });

    await expectEventually(
      async () => {
        expect(await bed.effects()).toHaveLength(4);
      },
      { timeoutMs: 20_000 },
    );
    const effects = await bed.effects();
    // The other conversation did not wait; this one kept its order.
    expect(effects.map((e) => e.seq)).toEqual([9, 1, 2, 3]);
    expect(effects.every((e) => e.attempt === 1)).toBe(true);
    const first = seen.filter((s) => s.text === '1');
    expect(first.at(-1)?.deferredUntil).toBe(until);
    expect(first.at(-1)?.at ?? 0).toBeGreaterThanOrEqual(until);
    const parked: unknown[] = await bed.db.dataSource.query(`SELECT * FROM "${bed.db.schema}".ordering_park`);
    expect(parked).toEqual([]);
    expect(
      (await messaging.metrics.retried.get()).values.some((v) =>
        String(v.labels.tier).startsWith('deferred-'),
      ),
    ).toBe(true);
  });
});

describe('per-conversation order across a failed publish', () => {
  let bed: TestBed;

  afterEach(async () => {
    await bed.dispose();
  });

  it('holds a conversation behind its message that found no queue, until that one is published', async () => {
    bed = await createTestBed('order_unroutable');
    // Nobody listens yet: the first message comes back unroutable and waits for its retry.
    const producer = await bed.startService({});
    await expectEventually(() => producer.relay.leader);
    await publishUnroutable(bed, producer, 'early', '1');
    // Its retry comes after the others are published, whatever the time the consumer takes to start.
    await bed.db.dataSource.query(
      `UPDATE "${bed.db.schema}".outbox SET available_at = now() + interval '3 seconds'`,
    );

    // The group starts listening; the conversation's later messages must not overtake its first.
    await startRecordingConsumer(bed);
    for (const text of ['2', '3']) {
      await publishThroughOutbox(bed, producer, { conversationKey: 'early', text });
    }
    await publishThroughOutbox(bed, producer, { conversationKey: 'other', text: '9' });

    await expectEventually(
      async () => {
        expect(await bed.effects()).toHaveLength(4);
      },
      { timeoutMs: 20_000 },
    );
    const effects = await bed.effects();
    expect(effects.filter((e) => e.ordering_key === 'early').map((e) => e.seq)).toEqual([1, 2, 3]);
    // Another conversation is not held by it.
    expect(effects[0]).toMatchObject({ ordering_key: 'other', seq: 9 });
    expect(await producer.relay.pendingCount()).toBe(0);
  });

  it('publishes the held messages as soon as the one holding them is published, not at the next poll', async () => {
    bed = await createTestBed('order_release');
    const pollIntervalMs = 6_000;
    const producer = await bed.startService({ overrides: { relay: { pollIntervalMs } } });
    await expectEventually(() => producer.relay.leader);
    await publishUnroutable(bed, producer, 'early', '1');
    await startRecordingConsumer(bed);
    for (const text of ['2', '3']) {
      await publishThroughOutbox(bed, producer, { conversationKey: 'early', text });
    }

    const handled = await expectEventually(
      async () => {
        const rows = await bed.db.dataSource.query<{ seq: number; handled_ms: number }[]>(
          `SELECT seq, (extract(epoch FROM handled_at) * 1000)::float8 AS handled_ms
             FROM "${bed.db.schema}".effects ORDER BY id`,
        );
        expect(rows.map((row) => row.seq)).toEqual([1, 2, 3]);
        return rows;
      },
      { timeoutMs: 30_000 },
    );
    // Released by the publish of 1, 2 and 3 go out in the same pass; waiting for the poll would take 6 s more.
    expect((handled[1]?.handled_ms ?? Infinity) - (handled[0]?.handled_ms ?? 0)).toBeLessThan(
      pollIntervalMs / 2,
    );
  });
});
