import { EVENTS_EXCHANGE } from '@inbox-bridge/messaging';
import { DATA_SOURCE } from '@inbox-bridge/service-kit';
import { RoutingKeys, type ProviderMessageReceivedV1 } from '@inbox-bridge/shared';
import * as testing from '@inbox-bridge/testing';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { DataSource } from 'typeorm';
import { DEV_SANDBOX_CLIENT_SECRET } from '../../src/config/gateway.config.js';
import { BridgeAssignmentJournal } from '../../src/conversation-events/bridge-assignment-journal.js';
import { CONVERSATION_EVENTS_PATH } from '../../src/conversation-events/conversation-events.route.js';
import { signV3 } from '../../src/webhooks/hubspot-signature.js';
import { PlatformFixture, USER_ID } from '../platform/platform-fixture.js';

interface Envelope {
  readonly type: string;
  readonly portalId: number;
  readonly payload: Record<string, unknown>;
}

const HUB_ID = 6_464;
const APP_ID = 1_000_001;
/** The customer's address, as a Telegram chat id would be: in the conversation key and the message ids. */
const ADDRESS = '5550009137';

describe('a thread deleted in HubSpot is forgotten by the gateway (real sandbox over HTTP, PostgreSQL, RabbitMQ)', () => {
  const fixture = new PlatformFixture(HUB_ID);
  let captured: testing.CapturedMessages<Envelope>;

  const inbound = (channelAccountId: string, n: number, text: string): ProviderMessageReceivedV1 => ({
    provider: 'telegram',
    channelAccountId,
    conversationKey: ADDRESS,
    sender: { id: ADDRESS, name: 'Ada' },
    providerMessageId: `${ADDRESS}:${n}`,
    sentAt: new Date().toISOString(),
    text,
    attachments: [],
  });

  const found = (description: string, match: (envelope: Envelope) => boolean): Promise<Envelope> =>
    testing.expectEventually(
      () => {
        const envelope = captured.messages.find(match);
        if (envelope === undefined) {
          throw new Error(`not yet: ${description}`);
        }
        return envelope;
      },
      { timeoutMs: 20_000, description },
    );

  const of = (type: string, key: string, value: unknown) => (envelope: Envelope) =>
    envelope.type === type && envelope.payload[key] === value;

  /** Publishes a customer message as the connector would; resolves to the HubSpot thread it went into. */
  const deliver = async (message: ProviderMessageReceivedV1): Promise<string> => {
    await fixture.publish(RoutingKeys.ProviderMessageReceivedV1, message);
    const published = await found(
      `message ${message.providerMessageId} published`,
      of(RoutingKeys.GatewayMessagePublishedV1, 'providerMessageId', message.providerMessageId),
    );
    return String(published.payload['hubspotThreadId']);
  };

  /** Awaits `gateway.thread.deleted.v1` of the thread, checked whole. */
  const expectDeleted = async (
    threadId: string,
    privacy: boolean,
    conversation: { channelAccountId: string; conversationKey: string },
  ): Promise<Envelope> => {
    const deleted = await found(
      'the thread deleted',
      of(RoutingKeys.GatewayThreadDeletedV1, 'hubspotThreadId', threadId),
    );
    expect(deleted.payload).toEqual({ hubspotThreadId: threadId, privacy, conversations: [conversation] });
    return deleted;
  };

  /** Every row of every table of the gateway's schema, as text, once its outbox is drained. */
  const schemaRows = async (): Promise<string[]> => {
    const { schema, dataSource } = fixture.db;
    await testing.expectEventually(
      async () => {
        const [row] = await dataSource.query<{ n: string }[]>(`SELECT count(*) AS n FROM "${schema}".outbox`);
        expect(row?.n).toBe('0');
      },
      { timeoutMs: 10_000, description: 'the outbox relayed' },
    );
    const tables = await dataSource.query<{ table_name: string }[]>(
      `SELECT table_name FROM information_schema.tables WHERE table_schema = $1 AND table_type = 'BASE TABLE'`,
      [schema],
    );
    const rows: string[] = [];
    for (const { table_name: table } of tables) {
      const contents = await dataSource.query<{ row: string }[]>(
        `SELECT row_to_json(t)::text AS row FROM "${schema}"."${table}" t`,
      );
      rows.push(...contents.map(({ row }) => `${table}: ${row}`));
    }
    return rows;
  };

  beforeAll(async () => {
    await fixture.start('gateway_thread_deletion');
    await fixture.control.setRateLimit(100_000, 10_000);
    captured = await testing.captureMessages<Envelope>(fixture.vhost.url, EVENTS_EXCHANGE, 'gateway.#');
    await fixture.control.setAppWebhooks(APP_ID, {
      targetUrl: `${fixture.gateway.baseUrl}${CONVERSATION_EVENTS_PATH}`,
      subscriptions: [
        { subscriptionType: 'conversation.deletion' },
        { subscriptionType: 'conversation.privacyDeletion' },
      ],
    });
  });

  afterAll(async () => {
    await captured.close();
    await fixture.stop();
  });

  it('after a privacy deletion no row names the thread or the customer, a redelivery changes nothing, and the customer’s next message starts a new thread with nothing old replayed', async () => {
    const account = await fixture.account();
    const first = inbound(account, 1, 'my address is 1 Main St');
    const threadId = await deliver(first);
    // A rep's reply (a stored reply webhook and its delivery request) and an assignment by the bridge.
    const reply = await fixture.control.agentReply(threadId, { userId: USER_ID, text: 'noted' });
    await found(
      'the reply requested',
      of(RoutingKeys.GatewayOutboundMessageRequestedV1, 'hubspotMessageId', reply.id),
    );
    const journal = fixture.gateway.app.get(BridgeAssignmentJournal, { strict: false });
    await journal.intend(String(HUB_ID), threadId, `A-${USER_ID}`);
    await fixture.gateway.app
      .get<DataSource>(DATA_SOURCE, { strict: false })
      .transaction((manager) => journal.record(manager, String(HUB_ID), threadId, `A-${USER_ID}`));
    const before = await schemaRows();
    expect(before.filter((row) => row.includes(threadId)).length).toBeGreaterThan(3);
    expect(before.some((row) => row.includes(ADDRESS))).toBe(true);

    await fixture.control.privacyDeleteThread(threadId);
    const deleted = await expectDeleted(threadId, true, {
      channelAccountId: account,
      conversationKey: ADDRESS,
    });
    expect(deleted.portalId).toBe(HUB_ID);
    const after = await schemaRows();
    expect(after.filter((row) => row.includes(threadId) || row.includes(ADDRESS))).toEqual([]);

    // HubSpot delivers the same deletion again: a duplicate, nothing published.
    const delivery = (await fixture.control.webhookDeliveries()).find(
      (candidate) => candidate.eventType === 'conversation.privacyDeletion',
    );
    const body = delivery?.body ?? '';
    const timestamp = String(Date.now());
    const url = `${fixture.gateway.baseUrl}${CONVERSATION_EVENTS_PATH}`;
    const redelivered = await fetch(url, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'x-hubspot-request-timestamp': timestamp,
        'x-hubspot-signature-v3': signV3(
          DEV_SANDBOX_CLIENT_SECRET,
          'POST',
          `${fixture.gatewayEnv['PUBLIC_BASE_URL'] ?? ''}${CONVERSATION_EVENTS_PATH}`,
          body,
          timestamp,
        ),
      },
      body,
    });
    expect(await redelivered.json()).toEqual({ accepted: 0, duplicates: 1, unrecognized: 0 });

    // The old message redelivered by the queue, then the customer writing again.
    await fixture.publish(RoutingKeys.ProviderMessageReceivedV1, first);
    const newThreadId = await deliver(inbound(account, 2, 'hello again'));
    expect(newThreadId).not.toBe(threadId);
    const started = await found(
      'the new thread started',
      of(RoutingKeys.GatewayConversationStartedV1, 'hubspotThreadId', newThreadId),
    );
    expect(started.payload['isReturningCustomer']).toBe(false);
    const threads = await fixture.control.threads(HUB_ID);
    expect(threads.map((thread) => thread.id)).toEqual([newThreadId]);
    expect(threads[0]?.messages.map((message) => message.text)).toEqual(['hello again']);
    expect(
      captured.messages.filter(
        of(RoutingKeys.GatewayMessagePublishedV1, 'providerMessageId', first.providerMessageId),
      ),
    ).toHaveLength(1);
    expect(
      captured.messages.filter((envelope) => envelope.type === RoutingKeys.GatewayThreadDeletedV1),
    ).toHaveLength(1);
  });

  it('a rep’s deletion forgets the thread too, published as not a privacy deletion', async () => {
    const account = await fixture.account();
    const message = {
      ...inbound(account, 3, 'question'),
      conversationKey: 'chat-3',
      sender: { id: 'customer-3' },
    };
    const threadId = await deliver(message);
    await fixture.control.deleteThread(threadId);
    await expectDeleted(threadId, false, { channelAccountId: account, conversationKey: 'chat-3' });
    expect(
      (await schemaRows()).filter((row) => row.includes(threadId) || row.includes('customer-3')),
    ).toEqual([]);
  });
});
