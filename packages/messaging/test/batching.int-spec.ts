import { RoutingKeys } from '@inbox-bridge/shared';
import { delay, expectEventually } from '@inbox-bridge/testing';
import { afterEach, describe, expect, it } from '@jest/globals';
import { TransientError } from '../src/index.js';
import { createTestBed, receivedPayload, recordEffect, type Effect, type TestBed } from './fixtures.js';

async function publishBurst(bed: TestBed, count: number, keyOf: (i: number) => string): Promise<void> {
  const messaging = bed.services[0]!;
  await bed.db.dataSource.transaction((manager) =>
    messaging.outbox.publishMany(
      manager,
      Array.from({ length: count }, (_, i) => ({
        type: RoutingKeys.ProviderMessageReceivedV1,
        payload: receivedPayload({ conversationKey: keyOf(i), text: String(i + 1) }),
        options: { portalId: 1 },
      })),
    ),
  );
}

/** Counts the handlers running at once (`most`: the highest count seen). */
function overlapCounter() {
  const counter = {
    running: 0,
    most: 0,
    async around(work: () => Promise<void>): Promise<void> {
      counter.running += 1;
      counter.most = Math.max(counter.most, counter.running);
      try {
        await work();
      } finally {
        counter.running -= 1;
      }
    },
  };
  return counter;
}

async function transactionsUsed(bed: TestBed): Promise<number> {
  const rows: { n: string }[] = await bed.db.dataSource.query(
    `SELECT count(DISTINCT txid) AS n FROM "${bed.db.schema}".effects`,
  );
  return Number(rows[0]?.n);
}

function expectEachConversationInOrder(effects: readonly Effect[]): void {
  const byConversation = new Map<string, number[]>();
  for (const effect of effects) {
    const key = effect.ordering_key ?? '';
    byConversation.set(key, [...(byConversation.get(key) ?? []), effect.seq ?? -1]);
  }
  for (const [key, seqs] of byConversation) {
    expect({ key, seqs }).toEqual({ key, seqs: [...seqs].sort((a, b) => a - b) });
  }
}

describe('batched consumer transactions', () => {
  let bed: TestBed;

  afterEach(async () => {
    await bed.dispose();
  });

  it('shares commits among waiting messages and retries only the one that failed', async () => {
    bed = await createTestBed('batch');
    const failing = '57';
    await bed.startService({
      groups: [
        {
          name: 'test.batched',
          routingKeys: [RoutingKeys.ProviderMessageReceivedV1],
          maxBatchSize: 25,
          retryDelaysMs: [300],
        },
      ],
      handlers: {
        [RoutingKeys.ProviderMessageReceivedV1]: async (envelope, ctx) => {
          if ((envelope.payload as { text?: string }).text === failing && ctx.attempt === 1) {
            throw new TransientError('provider timed out');
          }
          await recordEffect(ctx, 'c1');
        },
      },
    });
    await expectEventually(
      () => bed.services[0]!.status().consumerGroups['test.batched']?.consuming === true,
    );

    await publishBurst(bed, 300, (i) => `k${i % 30}`);

    await expectEventually(
      async () => {
        expect(await bed.effects()).toHaveLength(300);
      },
      { timeoutMs: 30_000 },
    );
    const effects = await bed.effects();
    expect(new Set(effects.map((e) => e.message_id)).size).toBe(300);
    expect(effects.find((e) => String(e.seq) === failing)?.attempt).toBe(2);
    expect(effects.filter((e) => e.attempt !== 1)).toHaveLength(1);
    // Fewer commits than messages: the burst was handled in shared transactions.
    expect(await transactionsUsed(bed)).toBeLessThan(300);
  });

  it('keeps per-conversation order in ordered groups while batching, through retries', async () => {
    bed = await createTestBed('batchord');
    const failedOnce = new Set<string>();
    await bed.startService({
      groups: [
        {
          name: 'test.batchord',
          routingKeys: [RoutingKeys.ProviderMessageReceivedV1],
          ordered: { shards: 2 },
          maxBatchSize: 20,
          retryDelaysMs: [200, 400],
        },
      ],
      handlers: {
        [RoutingKeys.ProviderMessageReceivedV1]: async (envelope, ctx) => {
          const seq = Number((envelope.payload as { text?: string }).text);
          if (seq % 11 === 0 && !failedOnce.has(envelope.messageId)) {
            failedOnce.add(envelope.messageId);
            throw new TransientError('HubSpot answered 502');
          }
          await recordEffect(ctx, 'c1');
        },
      },
    });
    await expectEventually(
      () => bed.services[0]!.status().consumerGroups['test.batchord']?.consuming === true,
    );

    // 10 conversations × 20 messages, published in conversation-interleaved order.
    const conversations = 10;
    await publishBurst(bed, 200, (i) => `conv-${i % conversations}`);

    await expectEventually(
      async () => {
        expect(await bed.effects()).toHaveLength(200);
      },
      { timeoutMs: 30_000 },
    );
    expectEachConversationInOrder(await bed.effects());
    expect(failedOnce.size).toBeGreaterThan(0);
    expect(await transactionsUsed(bed)).toBeLessThan(200);
  });

  it('overlaps the handlers of a batch, keeps each conversation in order and redoes a failed batch alone', async () => {
    bed = await createTestBed('batchconc');
    const overlap = overlapCounter();
    const failedOnce = new Set<string>();
    await bed.startService({
      groups: [
        {
          name: 'test.batchconc',
          routingKeys: [RoutingKeys.ProviderMessageReceivedV1],
          ordered: { shards: 2 },
          maxBatchSize: 20,
          concurrentHandlers: true,
          retryDelaysMs: [200, 400],
        },
      ],
      handlers: {
        [RoutingKeys.ProviderMessageReceivedV1]: (envelope, ctx) =>
          overlap.around(async () => {
            // Stands for the external call a handler waits on.
            await delay(20);
            const seq = Number((envelope.payload as { text?: string }).text);
            if (seq % 13 === 0 && !failedOnce.has(envelope.messageId)) {
              failedOnce.add(envelope.messageId);
              throw new TransientError('HubSpot answered 502');
            }
            await recordEffect(ctx, 'c1');
          }),
      },
    });
    await expectEventually(
      () => bed.services[0]!.status().consumerGroups['test.batchconc']?.consuming === true,
    );

    await publishBurst(bed, 200, (i) => `conv-${i % 20}`);

    await expectEventually(
      async () => {
        expect(await bed.effects()).toHaveLength(200);
      },
      { timeoutMs: 30_000 },
    );
    const effects = await bed.effects();
    expect(new Set(effects.map((e) => e.message_id)).size).toBe(200);
    expectEachConversationInOrder(effects);
    expect(failedOnce.size).toBeGreaterThan(0);
    // More than the 4 batches a group runs at once: the handlers inside a batch overlapped.
    expect(overlap.most).toBeGreaterThan(4);
    expect(await transactionsUsed(bed)).toBeLessThan(200);
  });

  it('holds as many unacknowledged messages as its own prefetch says, not the service default', async () => {
    bed = await createTestBed('prefetch');
    const overlap = overlapCounter();
    let release: () => void = () => undefined;
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    await bed.startService({
      groups: [
        { name: 'test.prefetched', routingKeys: [RoutingKeys.ProviderMessageReceivedV1], prefetch: 3 },
      ],
      handlers: {
        [RoutingKeys.ProviderMessageReceivedV1]: (_envelope, ctx) =>
          overlap.around(async () => {
            await gate;
            await recordEffect(ctx, 'prefetched');
          }),
      },
      overrides: { prefetch: 50 },
    });
    await publishBurst(bed, 12, (i) => `conv-${i}`);
    await expectEventually(() => overlap.running === 3);
    // Held there: nothing more arrives while three are unacknowledged.
    await delay(300);
    expect(overlap.running).toBe(3);
    release();
    await expectEventually(async () => {
      expect(await bed.effects()).toHaveLength(12);
    });
    expect(overlap.most).toBe(3);
  });

  it('runs one batch at a time with concurrentBatches 1, each taking what arrived meanwhile', async () => {
    bed = await createTestBed('one_batch');
    const overlap = overlapCounter();
    await bed.startService({
      groups: [
        {
          name: 'test.one-batch',
          routingKeys: [RoutingKeys.ProviderMessageReceivedV1],
          maxBatchSize: 10,
          concurrentBatches: 1,
        },
      ],
      handlers: {
        [RoutingKeys.ProviderMessageReceivedV1]: (_envelope, ctx) =>
          overlap.around(async () => {
            await delay(10);
            await recordEffect(ctx, 'one-batch');
          }),
      },
    });
    await publishBurst(bed, 30, (i) => `conv-${i}`);
    await expectEventually(async () => {
      expect(await bed.effects()).toHaveLength(30);
    });
    // Handlers of one batch run in turn, so two handlers at once would mean two batches at once.
    expect(overlap.most).toBe(1);
    expect(await transactionsUsed(bed)).toBeLessThan(30);
  });
});
