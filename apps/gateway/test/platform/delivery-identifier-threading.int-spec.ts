import { EVENTS_EXCHANGE } from '@inbox-bridge/messaging';
import { RoutingKeys, type ProviderMessageReceivedV1 } from '@inbox-bridge/shared';
import * as testing from '@inbox-bridge/testing';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { PlatformFixture, USER_ID } from './platform-fixture.js';

interface Envelope {
  readonly type: string;
  readonly payload: Record<string, unknown>;
}

interface SandboxThread {
  readonly id: string;
  readonly integrationThreadId: string;
  readonly messages: { readonly id: string; readonly text: string }[];
}

const HUB_ID = 6_262;

describe('DELIVERY_IDENTIFIER threading: HubSpot’s integrationThreadId is passed back (real sandbox, PostgreSQL, RabbitMQ)', () => {
  const fixture = new PlatformFixture(HUB_ID, { HUBSPOT_THREADING_MODEL: 'DELIVERY_IDENTIFIER' });
  let captured: testing.CapturedMessages<Envelope>;
  let sequence = 0;

  const customerWrites = async (channelAccountId: string, customer: string): Promise<string> => {
    sequence += 1;
    const message: ProviderMessageReceivedV1 = {
      provider: 'telegram',
      channelAccountId,
      conversationKey: `chat-${customer}`,
      sender: { id: customer, name: 'Grace Hopper' },
      providerMessageId: `m-${sequence}`,
      sentAt: new Date(Date.UTC(2026, 10, 26, 9, 0, sequence)).toISOString(),
      text: `customer message ${sequence}`,
      attachments: [],
    };
    await fixture.publish(RoutingKeys.ProviderMessageReceivedV1, message);
    return message.text ?? '';
  };

  /** The thread HubSpot put this customer message in, once it is there. */
  const threadWith = (text: string): Promise<SandboxThread> =>
    testing.expectEventually(
      async () => {
        const threads = (await fixture.control.threads(HUB_ID)) as unknown as SandboxThread[];
        const thread = threads.find((candidate) => candidate.messages.some((m) => m.text === text));
        if (thread === undefined) {
          throw new Error(`"${text}" not in HubSpot yet`);
        }
        return thread;
      },
      { timeoutMs: 30_000, description: `"${text}" in HubSpot` },
    );

  /** The `integrationThreadId` the gateway sent when publishing this text (absent: none). */
  const publishedThreadIdOf = async (text: string): Promise<string | undefined> => {
    const calls = await fixture.control.calls(HUB_ID);
    const publish = calls.find(
      (call) =>
        call.method === 'POST' &&
        call.path.endsWith('/messages') &&
        (call.body as { text?: string } | undefined)?.text === text,
    );
    expect(publish?.status).toBe(201);
    return (publish?.body as { integrationThreadId?: string }).integrationThreadId;
  };

  /** A rep answers in the thread; resolves once the gateway has processed HubSpot's webhook. */
  const agentReplies = async (threadId: string): Promise<void> => {
    const reply = await fixture.control.agentReply(threadId, { userId: USER_ID, text: 'How can I help?' });
    await testing.expectEventually(
      () => {
        const requested = captured.messages.some(
          (envelope) =>
            envelope.type === RoutingKeys.GatewayOutboundMessageRequestedV1 &&
            envelope.payload['hubspotMessageId'] === reply.id,
        );
        if (!requested) {
          throw new Error('the reply webhook is not processed yet');
        }
      },
      { timeoutMs: 20_000, description: `the webhook of reply ${reply.id}` },
    );
  };

  beforeAll(async () => {
    await fixture.start('gateway_delivery_threads');
    await fixture.control.setRateLimit(100_000, 10_000);
    captured = await testing.captureMessages<Envelope>(fixture.vhost.url, EVENTS_EXCHANGE, 'gateway.#');
  });

  afterAll(async () => {
    await captured.close();
    await fixture.stop();
  });

  it("learns HubSpot's id of the thread from the agent's reply webhook and publishes the customer's next message with it, into that thread", async () => {
    const account = await fixture.account();
    const first = await customerWrites(account, 'tg-user-501');
    const thread = await threadWith(first);
    expect(await publishedThreadIdOf(first)).toBeUndefined();

    await agentReplies(thread.id);
    const second = await customerWrites(account, 'tg-user-501');
    expect((await threadWith(second)).id).toBe(thread.id);
    expect(await publishedThreadIdOf(second)).toBe(thread.integrationThreadId);

    // Another customer of the same account is not given that thread's id.
    const otherCustomer = await customerWrites(account, 'tg-user-502');
    expect((await threadWith(otherCustomer)).id).not.toBe(thread.id);
    expect(await publishedThreadIdOf(otherCustomer)).toBeUndefined();
  });

  it("after HubSpot's thread is closed, the customer's next message starts a new thread and the closed thread's id is no longer sent", async () => {
    const account = await fixture.account();
    const first = await customerWrites(account, 'tg-user-601');
    const closedThread = await threadWith(first);
    await agentReplies(closedThread.id);
    const closed = await fetch(
      `${fixture.sandbox.url}/conversations/v3/conversations/threads/${closedThread.id}`,
      {
        method: 'PATCH',
        headers: { authorization: `Bearer ${fixture.accessToken}`, 'content-type': 'application/json' },
        body: JSON.stringify({ status: 'CLOSED' }),
      },
    );
    expect(closed.status).toBe(200);

    const afterClose = await customerWrites(account, 'tg-user-601');
    const newThread = await threadWith(afterClose);
    expect(newThread.id).not.toBe(closedThread.id);
    expect(await publishedThreadIdOf(afterClose)).toBe(closedThread.integrationThreadId);
    const next = await customerWrites(account, 'tg-user-601');
    expect((await threadWith(next)).id).toBe(newThread.id);
    expect(await publishedThreadIdOf(next)).toBeUndefined();

    await agentReplies(newThread.id);
    const afterReply = await customerWrites(account, 'tg-user-601');
    expect((await threadWith(afterReply)).id).toBe(newThread.id);
    expect(await publishedThreadIdOf(afterReply)).toBe(newThread.integrationThreadId);
  });
});
