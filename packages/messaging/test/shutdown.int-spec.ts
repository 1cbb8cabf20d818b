import { RoutingKeys } from '@inbox-bridge/shared';
import { delay, expectEventually } from '@inbox-bridge/testing';
import { afterEach, describe, expect, it } from '@jest/globals';
import { createTestBed, publishThroughOutbox, recordEffect, type TestBed } from './fixtures.js';

const group = { name: 'test.drain', routingKeys: [RoutingKeys.ProviderMessageReceivedV1] };

describe('graceful shutdown', () => {
  let bed: TestBed;

  afterEach(async () => {
    await bed.dispose();
  });

  it('stops taking messages, finishes the ones in flight and acks them before closing', async () => {
    bed = await createTestBed('drain');
    let started = 0;
    const consumer = await bed.startService({
      groups: [group],
      handlers: {
        [RoutingKeys.ProviderMessageReceivedV1]: async (_e, ctx) => {
          started += 1;
          await delay(700);
          await recordEffect(ctx, 'c1');
        },
      },
    });
    const producer = await bed.startService({});
    for (let i = 1; i <= 5; i += 1) {
      await publishThroughOutbox(bed, producer, { conversationKey: `k${i}`, text: String(i) });
    }
    await expectEventually(() => started === 5, { description: 'all five in flight' });
    for (let i = 6; i <= 8; i += 1) {
      await publishThroughOutbox(bed, producer, { conversationKey: `k${i}`, text: String(i) });
    }

    const stoppedAt = Date.now();
    await consumer.stop();
    expect(Date.now() - stoppedAt).toBeGreaterThanOrEqual(300);
    expect(consumer.status().draining).toBe(true);

    // The five in flight committed; whatever was not started stays queued for another instance.
    const effects = await bed.effects();
    expect(effects.length).toBeGreaterThanOrEqual(5);
    const raw = await bed.raw();
    const channel = await raw.createChannel();
    await expectEventually(async () => {
      const q = await channel.checkQueue('test.drain');
      expect(q.messageCount + effects.length).toBe(8);
    });

    const successor = await bed.startService({
      groups: [group],
      handlers: { [RoutingKeys.ProviderMessageReceivedV1]: (_e, ctx) => recordEffect(ctx, 'c2') },
    });
    await expectEventually(async () => {
      expect(await bed.effects()).toHaveLength(8);
    });
    const ids = (await bed.effects()).map((e) => e.message_id);
    expect(new Set(ids).size).toBe(8);
    await successor.stop();
  });

  it('flushes the outbox on stop when the broker is reachable', async () => {
    bed = await createTestBed('flush');
    const consumer = await bed.startService({
      groups: [group],
      handlers: { [RoutingKeys.ProviderMessageReceivedV1]: (_e, ctx) => recordEffect(ctx, 'c1') },
    });
    await expectEventually(() => consumer.status().consumerGroups['test.drain']?.consuming === true);
    await consumer.relay.stop(0);
    // No notifications and a one-minute poll: only the flush in stop() can publish these rows in time.
    await bed.db.dataSource.query(`ALTER TABLE "${bed.db.schema}".outbox DISABLE TRIGGER outbox_notify`);
    const producer = await bed.startService({ overrides: { relay: { pollIntervalMs: 60_000 } } });
    await expectEventually(() => producer.relay.leader);
    await delay(300);
    for (let i = 1; i <= 3; i += 1) {
      await publishThroughOutbox(bed, producer, { conversationKey: 'k', text: String(i) });
    }
    await delay(300);
    expect(await producer.relay.pendingCount()).toBe(3);
    await producer.stop();
    expect(await producer.relay.pendingCount()).toBe(0);
    await expectEventually(async () => {
      expect(await bed.effects()).toHaveLength(3);
    });
  });
});
