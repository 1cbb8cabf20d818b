import { exampleGatewayMessagePublishedV1, RoutingKeys, type AnyMessageEnvelope } from '@inbox-bridge/shared';
import { expectEventually, TcpProxy, testAmqpUrl } from '@inbox-bridge/testing';
import { afterEach, describe, expect, it } from '@jest/globals';
import type { Channel, ConsumeMessage } from 'amqplib';
import { randomUUID } from 'node:crypto';
import { correlationContext, EVENTS_EXCHANGE, ORDERING_KEY_HEADER, TransientError } from '../src/index.js';
import {
  createTestBed,
  publishThroughOutbox,
  receivedPayload,
  recordEffect,
  type TestBed,
} from './fixtures.js';

const group = { name: 'test.inbound', routingKeys: [RoutingKeys.ProviderMessageReceivedV1] };

describe('outbox → RabbitMQ → inbox consumer', () => {
  let bed: TestBed;

  afterEach(async () => {
    await bed.dispose();
  });

  it('publishes an event committed with its state change and handles it once', async () => {
    bed = await createTestBed('deliver');
    const messaging = await bed.startService({
      groups: [group],
      handlers: { [RoutingKeys.ProviderMessageReceivedV1]: (_e, ctx) => recordEffect(ctx, 'c1') },
    });

    const messageId = await publishThroughOutbox(bed, messaging, { conversationKey: 'conv-1', text: '1' });

    await expectEventually(async () => {
      expect(await bed.effects()).toHaveLength(1);
    });
    const [effect] = await bed.effects();
    expect(effect).toMatchObject({ message_id: messageId, attempt: 1 });
    await expectEventually(async () => {
      expect(await messaging.relay.pendingCount()).toBe(0);
    });
  });

  it('carries the correlation id across hops and records what caused each message', async () => {
    bed = await createTestBed('correlate');
    const seen: AnyMessageEnvelope[] = [];
    const scopes: (string | undefined)[] = [];
    const messaging = await bed.startService({
      groups: [
        {
          name: 'test.chain',
          routingKeys: [RoutingKeys.ProviderMessageReceivedV1, RoutingKeys.GatewayMessagePublishedV1],
        },
      ],
      handlers: {
        [RoutingKeys.ProviderMessageReceivedV1]: async (envelope, ctx) => {
          seen.push(envelope);
          scopes.push(correlationContext.current()?.correlationId);
          await ctx.publish(RoutingKeys.GatewayMessagePublishedV1, exampleGatewayMessagePublishedV1());
        },
        [RoutingKeys.GatewayMessagePublishedV1]: (envelope) => {
          seen.push(envelope);
          scopes.push(correlationContext.current()?.correlationId);
          return Promise.resolve();
        },
      },
    });

    // As an HTTP request would: the request's correlation scope is open while the service commits.
    const firstId = await correlationContext.run({ correlationId: 'req-7f3a' }, () =>
      publishThroughOutbox(bed, messaging, { conversationKey: 'k', text: '1' }, 77),
    );

    await expectEventually(() => seen.length === 2);
    const [first, second] = seen;
    expect(first).toMatchObject({
      messageId: firstId,
      correlationId: 'req-7f3a',
      causationId: null,
      portalId: 77,
    });
    expect(second).toMatchObject({ correlationId: 'req-7f3a', causationId: firstId, portalId: 77 });
    // Handlers run inside the message's scope, so their logs carry the same id.
    expect(scopes).toEqual(['req-7f3a', 'req-7f3a']);
  });

  it('publishes nothing when the producing transaction rolls back', async () => {
    bed = await createTestBed('rollback');
    const messaging = await bed.startService({
      groups: [group],
      handlers: { [RoutingKeys.ProviderMessageReceivedV1]: (_e, ctx) => recordEffect(ctx, 'c1') },
    });

    await expect(
      bed.db.dataSource.transaction(async (manager) => {
        await messaging.outbox.publish(
          manager,
          RoutingKeys.ProviderMessageReceivedV1,
          receivedPayload({ conversationKey: 'c', text: '1' }),
          { portalId: 1 },
        );
        throw new Error('business rule failed');
      }),
    ).rejects.toThrow('business rule failed');
    const committed = await publishThroughOutbox(bed, messaging, { conversationKey: 'c', text: '2' });

    await expectEventually(async () => {
      expect(await bed.effects()).toHaveLength(1);
    });
    expect((await bed.effects())[0]?.message_id).toBe(committed);
    const notes: unknown[] = await bed.db.dataSource.query(`SELECT * FROM "${bed.db.schema}".notes`);
    expect(notes).toHaveLength(1);
  });

  it('refuses to publish a payload that violates its contract', async () => {
    bed = await createTestBed('contract');
    const messaging = await bed.startService({});
    await expect(
      bed.db.dataSource.transaction((manager) =>
        messaging.outbox.publish(
          manager,
          RoutingKeys.ProviderMessageReceivedV1,
          { ...receivedPayload({ conversationKey: 'c', text: '1' }), channelAccountId: '' },
          { portalId: 1 },
        ),
      ),
    ).rejects.toThrow(/payload\.channelAccountId/);
    expect(await messaging.relay.pendingCount()).toBe(0);
  });

  it('handles a message delivered twice (same messageId) exactly once', async () => {
    bed = await createTestBed('dupe');
    const messaging = await bed.startService({
      groups: [group],
      handlers: { [RoutingKeys.ProviderMessageReceivedV1]: (_e, ctx) => recordEffect(ctx, 'c1') },
    });
    await messaging.connection.waitUntilConnected(5_000);
    await expectEventually(() => messaging.status().consumerGroups['test.inbound']?.consuming === true);

    const envelope = {
      messageId: randomUUID(),
      correlationId: 'corr-dupe',
      causationId: null,
      occurredAt: new Date().toISOString(),
      portalId: 7,
      type: RoutingKeys.ProviderMessageReceivedV1,
      payload: receivedPayload({ conversationKey: 'dupe', text: '1' }),
    };
    const raw = await bed.raw();
    const channel = await raw.createConfirmChannel();
    for (let i = 0; i < 2; i += 1) {
      channel.publish(EVENTS_EXCHANGE, envelope.type, Buffer.from(JSON.stringify(envelope)), {
        persistent: true,
        messageId: envelope.messageId,
        headers: { [ORDERING_KEY_HEADER]: 'dupe' },
      });
    }
    await channel.waitForConfirms();

    await expectEventually(async () => {
      const q = await channel.checkQueue('test.inbound');
      expect(q.messageCount).toBe(0);
      expect(messaging.metrics.consumed.get()).toBeDefined();
      const outcomes = (await messaging.metrics.consumed.get()).values.map((v) => v.labels['outcome']);
      expect(outcomes).toEqual(expect.arrayContaining(['processed', 'duplicate']));
    });
    expect(await bed.effects()).toHaveLength(1);
  });

  it('redelivers a message whose consumer lost its connection before the ack, with one effect', async () => {
    bed = await createTestBed('killed');
    const proxy = await new TcpProxy('127.0.0.1', Number(new URL(testAmqpUrl).port || 5672)).start();
    try {
      let releaseFirst: () => void = () => undefined;
      const firstAttemptBlocked = new Promise<void>((resolve) => {
        releaseFirst = resolve;
      });
      let deliveries = 0;
      let handlerEntered: () => void = () => undefined;
      const entered = new Promise<void>((resolve) => {
        handlerEntered = resolve;
      });
      const consumer = await bed.startService({
        amqpUrl: proxy.via(bed.vhost.url),
        groups: [group],
        handlers: {
          [RoutingKeys.ProviderMessageReceivedV1]: async (_e, ctx) => {
            deliveries += 1;
            await recordEffect(ctx, 'c1');
            if (deliveries === 1) {
              handlerEntered();
              await firstAttemptBlocked;
            }
          },
        },
      });
      const producer = await bed.startService({});
      await expectEventually(() => consumer.status().consumerGroups['test.inbound']?.consuming === true);

      await publishThroughOutbox(bed, producer, { conversationKey: 'k', text: '1' });
      await entered;
      proxy.cut(); // the consumer's connection dies while the handler runs: no ack can reach the broker
      proxy.restore();
      releaseFirst(); // the first attempt commits its effect, then cannot ack

      // The redelivery reaches the consumer again but the inbox recognises it: no second effect.
      await expectEventually(
        async () => {
          const outcomes = (await consumer.metrics.consumed.get()).values.map((v) => v.labels['outcome']);
          return outcomes.includes('duplicate');
        },
        { description: 'redelivery after reconnect' },
      );
      await expectEventually(async () => {
        const raw = await bed.raw();
        const ch = await raw.createChannel();
        const q = await ch.checkQueue('test.inbound');
        await ch.close();
        return q.messageCount === 0 && consumer.status().consumerGroups['test.inbound']?.inflight === 0;
      });
      expect(await bed.effects()).toHaveLength(1);
    } finally {
      await proxy.stop();
    }
  });

  it('consumes again after its queue was deleted under it (the broker cancels the consumer): the queue and its bindings come back and the next message is handled', async () => {
    bed = await createTestBed('cancelled');
    const consumer = await bed.startService({
      groups: [group],
      handlers: { [RoutingKeys.ProviderMessageReceivedV1]: (_e, ctx) => recordEffect(ctx, 'c1') },
    });
    await expectEventually(() => consumer.status().consumerGroups['test.inbound']?.consuming === true);
    const producer = await bed.startService({});
    await publishThroughOutbox(bed, producer, { conversationKey: 'k', text: 'before' });
    await expectEventually(async () => {
      expect(await bed.effects()).toHaveLength(1);
    });

    const raw = await bed.raw();
    const admin = await raw.createChannel();
    await admin.deleteQueue('test.inbound');
    await expectEventually(
      async () => {
        const probe = await raw.createChannel();
        // Checking a queue that is not there yet closes the channel with 404.
        probe.on('error', () => undefined);
        try {
          expect((await probe.checkQueue('test.inbound')).consumerCount).toBe(1);
        } finally {
          await probe.close().catch(() => undefined);
        }
      },
      { description: 'the queue declared again and consumed' },
    );
    await admin.close().catch(() => undefined);

    await publishThroughOutbox(bed, producer, { conversationKey: 'k', text: 'after' });
    await expectEventually(async () => {
      expect(await bed.effects()).toHaveLength(2);
    });
  });

  it('opens new channels on the same connection when the broker closes a consumer channel: the other groups and the relay are not disturbed', async () => {
    bed = await createTestBed('channel');
    const other = { name: 'test.other', routingKeys: [RoutingKeys.GatewayMessagePublishedV1] };
    const consumer = await bed.startService({
      groups: [group, other],
      handlers: {
        [RoutingKeys.ProviderMessageReceivedV1]: (_e, ctx) => recordEffect(ctx, 'c1'),
        [RoutingKeys.GatewayMessagePublishedV1]: (_e, ctx) => recordEffect(ctx, 'other'),
      },
    });
    await expectEventually(() => consumer.status().consumerGroups['test.other']?.consuming === true);
    await expectEventually(() => consumer.status().consumerGroups['test.inbound']?.consuming === true);
    // The runners' channels are private: reached here to do what a handler bug would (ack a tag the broker does
    // not know), which makes the broker close that channel with 406 PRECONDITION_FAILED.
    const runners = (consumer as unknown as { runners: { name: string; channel?: Channel }[] }).runners;
    const channelOf = (name: string) => runners.find((runner) => runner.name === name)?.channel;
    const connectionBefore = consumer.connection.current;
    const otherChannelBefore = channelOf('test.other');
    const closedChannel = channelOf('test.inbound');
    expect(closedChannel).toBeDefined();
    closedChannel?.ack({ fields: { deliveryTag: 987_654 } } as unknown as ConsumeMessage);

    await expectEventually(() => {
      const reopened = channelOf('test.inbound');
      expect(reopened).toBeDefined();
      expect(reopened).not.toBe(closedChannel);
      expect(consumer.status().consumerGroups['test.inbound']?.consuming).toBe(true);
    });
    expect(consumer.connection.current).toBe(connectionBefore);
    expect(channelOf('test.other')).toBe(otherChannelBefore);

    const producer = await bed.startService({});
    await publishThroughOutbox(bed, producer, { conversationKey: 'k', text: 'after the close' });
    await expectEventually(async () => {
      expect(await bed.effects()).toEqual([expect.objectContaining({ consumer: 'c1', ordering_key: 'k' })]);
    });
  });

  it('publishes events committed while the broker is unreachable once it returns, losing none', async () => {
    bed = await createTestBed('outage');
    const proxy = await new TcpProxy('127.0.0.1', Number(new URL(testAmqpUrl).port || 5672)).start();
    try {
      const consumer = await bed.startService({
        groups: [group],
        handlers: { [RoutingKeys.ProviderMessageReceivedV1]: (_e, ctx) => recordEffect(ctx, 'c1') },
      });
      await expectEventually(() => consumer.status().consumerGroups['test.inbound']?.consuming === true);
      // The consumer's own relay must not publish for this test: stop it, the producer has the broker cut.
      await consumer.relay.stop(0);
      const producer = await bed.startService({ amqpUrl: proxy.via(bed.vhost.url) });
      await producer.connection.waitUntilConnected(5_000);
      await expectEventually(() => producer.relay.leader);

      proxy.cut();
      const ids: string[] = [];
      for (let i = 0; i < 50; i += 1) {
        ids.push(
          await publishThroughOutbox(bed, producer, { conversationKey: `c${i % 5}`, text: String(i + 1) }),
        );
      }
      expect(await producer.relay.pendingCount()).toBe(50);
      expect(await bed.effects()).toHaveLength(0);

      proxy.restore();
      await expectEventually(
        async () => {
          expect(await bed.effects()).toHaveLength(50);
        },
        { timeoutMs: 30_000 },
      );
      const handled = (await bed.effects()).map((e) => e.message_id).sort();
      expect(handled).toEqual([...ids].sort());
      await expectEventually(async () => {
        expect(await producer.relay.pendingCount()).toBe(0);
      });
    } finally {
      await proxy.stop();
    }
  });

  it('retries a transient failure after the tier delay, then succeeds once', async () => {
    bed = await createTestBed('transient');
    const attempts: { attempt: number; at: number }[] = [];
    const messaging = await bed.startService({
      groups: [{ ...group, retryDelaysMs: [1_000, 2_000] }],
      handlers: {
        [RoutingKeys.ProviderMessageReceivedV1]: async (_e, ctx) => {
          attempts.push({ attempt: ctx.attempt, at: Date.now() });
          if (ctx.attempt === 1) {
            throw new TransientError('HubSpot answered 503');
          }
          await recordEffect(ctx, 'c1');
        },
      },
    });
    await publishThroughOutbox(bed, messaging, { conversationKey: 'k', text: '1' });

    await expectEventually(async () => {
      expect(await bed.effects()).toHaveLength(1);
    });
    expect(attempts.map((a) => a.attempt)).toEqual([1, 2]);
    const waited = (attempts[1]?.at ?? 0) - (attempts[0]?.at ?? 0);
    expect(waited).toBeGreaterThanOrEqual(950);
    expect(waited).toBeLessThan(4_000);
    expect((await messaging.metrics.retried.get()).values[0]?.value).toBe(1);
  });
});
