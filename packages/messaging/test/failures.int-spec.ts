import { exampleGatewayMessagePublishedV1, RoutingKeys } from '@inbox-bridge/shared';
import { delay, expectEventually, TcpProxy } from '@inbox-bridge/testing';
import { afterEach, describe, expect, it } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import { DataSource } from 'typeorm';
import {
  EVENTS_EXCHANGE,
  listDeadLetters,
  PermanentError,
  replayDeadLetters,
  TransientError,
  type MessagingLogger,
} from '../src/index.js';
import { createTestBed, publishThroughOutbox, recordEffect, type TestBed } from './fixtures.js';

const group = {
  name: 'test.poison',
  routingKeys: [RoutingKeys.ProviderMessageReceivedV1],
  retryDelaysMs: [200, 400],
};

describe('failures: retry tiers, dead letters and replay', () => {
  let bed: TestBed;

  afterEach(async () => {
    await bed.dispose();
  });

  it('dead-letters a message that keeps failing after the last tier, with the reason, and replays it', async () => {
    bed = await createTestBed('poison');
    let broken = true;
    const attempts: number[] = [];
    const messaging = await bed.startService({
      groups: [group],
      handlers: {
        [RoutingKeys.ProviderMessageReceivedV1]: async (_e, ctx) => {
          attempts.push(ctx.attempt);
          if (broken) {
            throw new TransientError('HubSpot answered 503 Service Unavailable');
          }
          await recordEffect(ctx, 'c1');
        },
      },
    });
    const messageId = await publishThroughOutbox(bed, messaging, { conversationKey: 'k', text: '1' });

    const raw = await bed.raw();
    const dead = await expectEventually(async () => {
      const channel = await raw.createChannel();
      const letters = await listDeadLetters(channel, group.name);
      await channel.close();
      expect(letters).toHaveLength(1);
      return letters[0];
    });
    expect(attempts).toEqual([1, 2, 3]);
    expect(dead).toMatchObject({
      messageId,
      errorClass: 'exhausted',
      originalQueue: 'test.poison',
      attempts: 3,
    });
    expect(dead?.error).toContain('HubSpot answered 503');
    expect(await bed.effects()).toHaveLength(0);
    expect((await messaging.metrics.deadLettered.get()).values[0]).toMatchObject({
      value: 1,
      labels: { queue: 'test.poison', reason: 'exhausted' },
    });

    broken = false;
    const replayChannel = await raw.createConfirmChannel();
    const result = await replayDeadLetters(replayChannel, group.name);
    expect(result).toEqual({ replayed: [messageId], kept: 0 });

    await expectEventually(async () => {
      expect(await bed.effects()).toHaveLength(1);
    });
    expect((await bed.effects())[0]).toMatchObject({ message_id: messageId, attempt: 1 });
    const check = await raw.createChannel();
    expect((await check.checkQueue('test.poison.dlq')).messageCount).toBe(0);
  });

  it('dead-letters a message that keeps crashing its consumer once the delivery limit is reached', async () => {
    bed = await createTestBed('crashloop');
    const crashing = { ...group, name: 'test.crashloop', deliveryLimit: 2 };
    const messaging = await bed.startService({ groups: [crashing] });
    await expectEventually(() => messaging.status().consumerGroups['test.crashloop']?.consuming === true);
    await messaging.stop(); // the topology stays; a raw consumer now plays a process that dies mid-message
    const producer = await bed.startService({});
    const messageId = await publishThroughOutbox(bed, producer, { conversationKey: 'k', text: '1' });

    const raw = await bed.raw();
    const channel = await raw.createChannel();
    let deliveries = 0;
    await expectEventually(
      async () => {
        const message = await channel.get('test.crashloop', { noAck: false });
        if (message) {
          deliveries += 1;
          channel.reject(message, true); // what the broker does when the consumer's connection dies
        }
        const listing = await raw.createChannel();
        const letters = await listDeadLetters(listing, 'test.crashloop');
        await listing.close();
        expect(letters).toHaveLength(1);
        return letters;
      },
      { intervalMs: 50 },
    ).then((letters) => {
      expect(letters[0]).toMatchObject({ messageId, errorClass: 'broker:delivery_limit' });
    });
    expect(deliveries).toBeGreaterThanOrEqual(2);
  });

  it('holds a message it could not move while the database is away, instead of cycling it through the broker to its delivery limit', async () => {
    bed = await createTestBed('dbaway');
    const target = new URL(bed.db.url);
    const postgres = await new TcpProxy(target.hostname, Number(target.port || 5432)).start();
    // The consumer's transactions reach PostgreSQL through the proxy; its shard sessions and the producer do not.
    const consumerDataSource = new DataSource({
      type: 'postgres',
      url: postgres.via(bed.db.url),
      schema: bed.db.schema,
      extra: { max: 10, options: `-c search_path=${bed.db.schema},public` },
    });
    await consumerDataSource.initialize();
    try {
      const ordered = {
        name: 'test.dbaway',
        routingKeys: [RoutingKeys.ProviderMessageReceivedV1],
        ordered: { shards: 1 },
        retryDelaysMs: [200, 400],
        deliveryLimit: 3,
      };
      // Started first, the producer's relay (on the direct connection) is the schema's leader and publishes.
      const producer = await bed.startService({});
      await expectEventually(() => producer.status().relayLeader);
      const consumer = await bed.startService({
        groups: [ordered],
        handlers: {
          [RoutingKeys.ProviderMessageReceivedV1]: async (_envelope, ctx) => {
            await recordEffect(ctx, 'c1');
          },
        },
        overrides: { dataSource: consumerDataSource },
      });
      await expectEventually(() => consumer.status().consumerGroups['test.dbaway']?.consuming === true);

      postgres.cut();
      const messageIds = [
        await publishThroughOutbox(bed, producer, { conversationKey: 'k', text: '1' }),
        await publishThroughOutbox(bed, producer, { conversationKey: 'k', text: '2' }),
      ];
      // Away for longer than a failing delivery takes to come back many times over.
      await delay(3_000);
      postgres.restore();

      await expectEventually(async () => {
        expect((await bed.effects()).map((effect) => effect.message_id)).toEqual(messageIds);
      });
      const raw = await bed.raw();
      const channel = await raw.createChannel();
      expect(await listDeadLetters(channel, ordered.name)).toEqual([]);
    } finally {
      await bed.services[1]?.stop();
      await consumerDataSource.destroy();
      await postgres.stop();
    }
  });

  it('dead-letters a permanent failure at once, without retrying', async () => {
    bed = await createTestBed('permanent');
    const attempts: number[] = [];
    const messaging = await bed.startService({
      groups: [group],
      handlers: {
        [RoutingKeys.ProviderMessageReceivedV1]: (_e, ctx) => {
          attempts.push(ctx.attempt);
          return Promise.reject(
            new PermanentError('unknown channel account ca-1', 'UNKNOWN_CHANNEL_ACCOUNT'),
          );
        },
      },
    });
    await publishThroughOutbox(bed, messaging, { conversationKey: 'k', text: '1' });

    const raw = await bed.raw();
    const [letter] = await expectEventually(async () => {
      const channel = await raw.createChannel();
      const letters = await listDeadLetters(channel, group.name);
      await channel.close();
      expect(letters).toHaveLength(1);
      return letters;
    });
    expect(attempts).toEqual([1]);
    expect(letter).toMatchObject({ errorClass: 'permanent' });
    expect(letter?.error).toContain('unknown channel account ca-1');
  });

  it('dead-letters bodies that break the contract and types nobody handles, naming the problem', async () => {
    bed = await createTestBed('contract');
    const messaging = await bed.startService({
      groups: [
        {
          ...group,
          routingKeys: [RoutingKeys.ProviderMessageReceivedV1, RoutingKeys.GatewayMessagePublishedV1],
        },
      ],
      handlers: { [RoutingKeys.ProviderMessageReceivedV1]: (_e, ctx) => recordEffect(ctx, 'c1') },
    });
    await expectEventually(() => messaging.status().consumerGroups['test.poison']?.consuming === true);
    const raw = await bed.raw();
    const channel = await raw.createConfirmChannel();
    const send = (routingKey: string, body: string, messageId: string): void => {
      channel.publish(EVENTS_EXCHANGE, routingKey, Buffer.from(body), { persistent: true, messageId });
    };
    send(RoutingKeys.ProviderMessageReceivedV1, '{not json', 'm-not-json');
    send(
      RoutingKeys.ProviderMessageReceivedV1,
      JSON.stringify({
        messageId: randomUUID(),
        correlationId: 'c',
        causationId: null,
        occurredAt: new Date().toISOString(),
        portalId: 1,
        type: RoutingKeys.ProviderMessageReceivedV1,
        payload: { channelAccountId: 'ca-1' },
      }),
      'm-bad-payload',
    );
    const unhandled = {
      messageId: randomUUID(),
      correlationId: 'c',
      causationId: null,
      occurredAt: new Date().toISOString(),
      portalId: 1,
      type: RoutingKeys.GatewayMessagePublishedV1,
      payload: exampleGatewayMessagePublishedV1(),
    };
    send(RoutingKeys.GatewayMessagePublishedV1, JSON.stringify(unhandled), 'm-unhandled');
    await channel.waitForConfirms();

    const letters = await expectEventually(async () => {
      const ch = await raw.createChannel();
      const found = await listDeadLetters(ch, group.name);
      await ch.close();
      expect(found).toHaveLength(3);
      return found;
    });
    const byId = new Map(letters.map((l) => [l.messageId, l]));
    expect(byId.get('m-not-json')).toMatchObject({ errorClass: 'contract', error: 'body is not JSON' });
    expect(byId.get('m-bad-payload')?.errorClass).toBe('contract');
    expect(byId.get('m-bad-payload')?.error).toMatch(/payload\.conversationKey/);
    expect(byId.get('m-unhandled')?.errorClass).toBe('no_handler');
    expect(byId.get('m-unhandled')?.error).toContain(RoutingKeys.GatewayMessagePublishedV1);
    expect(await bed.effects()).toHaveLength(0);
  });

  it('names a delivery that waits too long and the step it waits in, once per step', async () => {
    bed = await createTestBed('stall');
    const warnings: { message: string; fields: Record<string, unknown> | undefined }[] = [];
    const logger: MessagingLogger = {
      debug: () => undefined,
      info: () => undefined,
      warn: (message, fields) => {
        warnings.push({ message, fields });
      },
      error: () => undefined,
    };
    let release: () => void = () => undefined;
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    const messaging = await bed.startService({
      groups: [{ name: 'test.stall', routingKeys: [RoutingKeys.ProviderMessageReceivedV1] }],
      handlers: {
        [RoutingKeys.ProviderMessageReceivedV1]: async (_envelope, ctx) => {
          // Stands for an external call that does not answer.
          await held;
          await recordEffect(ctx, 'c1');
        },
      },
      overrides: { stalledAfterMs: 200, logger },
    });
    await expectEventually(() => messaging.status().consumerGroups['test.stall']?.consuming === true);

    const messageId = await publishThroughOutbox(bed, messaging, { conversationKey: 'c', text: '1' });

    const stalled = () => warnings.filter((warning) => warning.message === 'message handling stalled');
    await expectEventually(() => {
      expect(stalled()).toHaveLength(1);
    });
    expect(stalled()[0]?.fields).toMatchObject({
      group: 'test.stall',
      messageId,
      messageType: RoutingKeys.ProviderMessageReceivedV1,
      step: 'in its handler',
    });
    // Still stuck in the same step a while later: not reported again.
    await new Promise((resolve) => setTimeout(resolve, 600));
    expect(stalled()).toHaveLength(1);

    release();
    await expectEventually(async () => {
      expect(await bed.effects()).toHaveLength(1);
    });
  });
});
