import { RoutingKeys } from '@inbox-bridge/shared';
import { expectEventually } from '@inbox-bridge/testing';
import { afterEach, describe, expect, it } from '@jest/globals';
import { createTestBed, receivedPayload, recordEffect, type TestBed } from './fixtures.js';

describe('consumer transactions under database pool pressure', () => {
  let bed: TestBed;

  afterEach(async () => {
    await bed.dispose();
  });

  it('never lets in-flight deliveries hold every pool connection while handlers need one more', async () => {
    bed = await createTestBed('poolpressure');
    // 4 shards × prefetch 20 = 80 deliveries in flight against a pool of 20 connections; each handler needs a
    // second connection while its transaction is open (as a rate limiter or token read does).
    await bed.startService({
      groups: [
        {
          name: 'test.pressure',
          routingKeys: [RoutingKeys.ProviderMessageReceivedV1],
          ordered: { shards: 4 },
        },
      ],
      handlers: {
        [RoutingKeys.ProviderMessageReceivedV1]: async (_envelope, ctx) => {
          await bed.db.dataSource.query('SELECT pg_sleep(0.005)');
          await recordEffect(ctx, 'c1');
        },
      },
    });
    await expectEventually(
      () => bed.services[0]!.status().consumerGroups['test.pressure']?.consuming === true,
    );
    const messaging = bed.services[0]!;
    await bed.db.dataSource.transaction((manager) =>
      messaging.outbox.publishMany(
        manager,
        Array.from({ length: 400 }, (_, i) => ({
          type: RoutingKeys.ProviderMessageReceivedV1,
          payload: receivedPayload({ conversationKey: `k${i % 200}`, text: String(i + 1) }),
          options: { portalId: 1 },
        })),
      ),
    );
    await expectEventually(
      async () => {
        expect(await bed.effects()).toHaveLength(400);
      },
      { timeoutMs: 45_000 },
    );
  });
});
