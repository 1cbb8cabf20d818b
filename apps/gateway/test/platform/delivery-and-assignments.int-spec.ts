import { EVENTS_EXCHANGE } from '@inbox-bridge/messaging';
import { RoutingKeys, type ProviderMessageReceivedV1 } from '@inbox-bridge/shared';
import * as testing from '@inbox-bridge/testing';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import { PlatformFixture, USER_ID } from './platform-fixture.js';

interface Envelope {
  readonly type: string;
  readonly portalId: number;
  readonly payload: Record<string, unknown>;
  readonly causationId?: string;
}

const HUB_ID = 6_262;

describe('delivery status and assignments → HubSpot (real sandbox, PostgreSQL, RabbitMQ)', () => {
  const fixture = new PlatformFixture(HUB_ID);
  let captured: testing.CapturedMessages<Envelope>;
  let sequence = 0;

  /** A customer message published through the gateway; returns its HubSpot thread id. */
  const threadFor = async (channelAccountId: string): Promise<string> => {
    sequence += 1;
    const conversationKey = `conv-${sequence}`;
    const inbound: ProviderMessageReceivedV1 = {
      provider: 'telegram',
      channelAccountId,
      conversationKey,
      sender: { id: `customer-${sequence}` },
      providerMessageId: `in-${sequence}`,
      sentAt: new Date().toISOString(),
      text: 'hello',
      attachments: [],
    };
    await fixture.publish(RoutingKeys.ProviderMessageReceivedV1, inbound);
    const published = await testing.expectEventually(
      () => {
        const found = captured.messages.find(
          (envelope) =>
            envelope.type === RoutingKeys.GatewayMessagePublishedV1 &&
            envelope.payload['providerMessageId'] === inbound.providerMessageId,
        );
        if (found === undefined) {
          throw new Error('not published yet');
        }
        return found;
      },
      { timeoutMs: 20_000, description: 'the inbound message published' },
    );
    return String(published.payload['hubspotThreadId']);
  };

  const hubspot = async <T>(path: string): Promise<T> => {
    const response = await fetch(`${fixture.sandbox.url}${path}`, {
      headers: { authorization: `Bearer ${fixture.accessToken}` },
    });
    expect(response.status).toBe(200);
    return (await response.json()) as T;
  };

  const outcomeOf = (decisionId: string): Promise<Envelope> =>
    testing.expectEventually(
      () => {
        const found = captured.messages.find((envelope) => envelope.payload['decisionId'] === decisionId);
        if (found === undefined) {
          throw new Error('no outcome yet');
        }
        return found;
      },
      { timeoutMs: 20_000, description: `the outcome of decision ${decisionId}` },
    );

  beforeAll(async () => {
    await fixture.start('gateway_status');
    // The test's own reads share the portal's HubSpot budget; rate limiting is tested elsewhere.
    await fixture.control.setRateLimit(100_000, 10_000);
    captured = await testing.captureMessages<Envelope>(fixture.vhost.url, EVENTS_EXCHANGE, 'gateway.#');
  });

  afterAll(async () => {
    await captured.close();
    await fixture.stop();
  });

  it('writes SENT, FAILED with the reason and READ; a late SENT after READ is never sent to HubSpot', async () => {
    const account = await fixture.account();
    const threadId = await threadFor(account);
    const read = await fixture.control.agentReply(threadId, { userId: USER_ID, text: 'first reply' });
    const failed = await fixture.control.agentReply(threadId, { userId: USER_ID, text: 'second reply' });
    const status = (hubspotMessageId: string, value: 'SENT' | 'READ' | 'FAILED', failureReason?: string) =>
      fixture.publish(RoutingKeys.ConnectorDeliveryStatusChangedV1, {
        channelAccountId: account,
        hubspotMessageId,
        status: value,
        ...(failureReason === undefined ? {} : { failureReason }),
        occurredAt: new Date().toISOString(),
      });
    await status(read.id, 'SENT');
    await status(read.id, 'READ');
    await status(read.id, 'SENT');
    await status(failed.id, 'FAILED', 'The customer blocked the bot');

    const messagePath = (id: string) =>
      `/conversations/v3/custom-channels/${fixture.channelId}/messages/${id}`;
    const readMessage = await testing.expectEventually(
      async () => {
        const message = await hubspot<{ status: { statusType: string } }>(messagePath(read.id));
        if (message.status.statusType !== 'READ') {
          throw new Error(message.status.statusType);
        }
        return message;
      },
      { timeoutMs: 20_000, description: 'the first reply READ' },
    );
    expect(readMessage.status.statusType).toBe('READ');
    const failedMessage = await testing.expectEventually(
      async () => {
        const message = await hubspot<{
          status: { statusType: string; failureDetails?: { errorMessage: string } };
        }>(messagePath(failed.id));
        if (message.status.statusType !== 'FAILED') {
          throw new Error(message.status.statusType);
        }
        return message;
      },
      { timeoutMs: 20_000, description: 'the second reply FAILED' },
    );
    expect(failedMessage.status.failureDetails?.errorMessage).toBe('The customer blocked the bot');

    // The late SENT (third status of the first reply) was consumed and dropped: two PATCHes only.
    await testing.expectEventually(
      async () => {
        const [row] = await fixture.db.dataSource.query<{ status: string }[]>(
          `SELECT status FROM "${fixture.db.schema}".outbound_message_statuses WHERE hubspot_message_id = $1`,
          [read.id],
        );
        return row?.status === 'READ';
      },
      { description: 'the stored status' },
    );
    const patches = (await fixture.control.calls(HUB_ID)).filter(
      (call) => call.method === 'PATCH' && call.path.endsWith(`/messages/${read.id}`),
    );
    expect(patches.map((call) => (call.body as { statusType: string }).statusType)).toEqual(['SENT', 'READ']);
  });

  it('records a status only once HubSpot took it: a PATCH refused at first is sent again and lands', async () => {
    const account = await fixture.account();
    const threadId = await threadFor(account);
    const reply = await fixture.control.agentReply(threadId, { userId: USER_ID, text: 'reply in an outage' });
    const messagePath = `/conversations/v3/custom-channels/${fixture.channelId}/messages/${reply.id}`;
    // More refusals than one delivery's attempts (2): the first delivery fails, the retry lands.
    await fixture.control.setFaults([
      { pathPrefix: messagePath, method: 'PATCH', errorRate: 1, status: 503, times: 3 },
    ]);
    try {
      await fixture.publish(RoutingKeys.ConnectorDeliveryStatusChangedV1, {
        channelAccountId: account,
        hubspotMessageId: reply.id,
        status: 'FAILED',
        failureReason: 'The number is not reachable',
        occurredAt: new Date().toISOString(),
      });
      const patches = await testing.expectEventually(
        async () => {
          const calls = (await fixture.control.calls(HUB_ID)).filter(
            (call) => call.method === 'PATCH' && call.path === messagePath,
          );
          if (!calls.some((call) => call.status < 300)) {
            throw new Error(`${calls.length} PATCHes, none accepted yet`);
          }
          return calls;
        },
        { timeoutMs: 20_000, description: 'the status PATCH accepted' },
      );
      expect(patches.map((call) => call.status)).toEqual([503, 503, 503, patches.at(-1)?.status]);
      const message = await hubspot<{
        status: { statusType: string; failureDetails?: { errorMessage: string } };
      }>(messagePath);
      expect(message.status).toEqual({
        statusType: 'FAILED',
        failureDetails: { errorMessage: 'The number is not reachable' },
      });
      // Recorded by the transaction that sent the PATCH, which commits once HubSpot answered.
      await testing.expectEventually(async () => {
        const [row] = await fixture.db.dataSource.query<{ status: string }[]>(
          `SELECT status FROM "${fixture.db.schema}".outbound_message_statuses WHERE hubspot_message_id = $1`,
          [reply.id],
        );
        expect(row?.status).toBe('FAILED');
      });
    } finally {
      await fixture.control.setFaults([]);
    }
  });

  it('assigns and unassigns a thread, and reports a refused assignment with HubSpot’s reason', async () => {
    const account = await fixture.account();
    const threadId = await threadFor(account);
    const assign = randomUUID();
    await fixture.publish(RoutingKeys.RouterAssignmentRequestedV1, {
      hubspotThreadId: threadId,
      channelAccountId: account,
      assignee: { type: 'user', userId: String(USER_ID) },
      reason: 'round robin',
      decisionId: assign,
    });
    expect(await outcomeOf(assign)).toMatchObject({
      type: RoutingKeys.GatewayAssignmentAppliedV1,
      payload: { hubspotThreadId: threadId, userId: String(USER_ID) },
    });
    expect(
      await hubspot<{ assignedTo?: string }>(`/conversations/v3/conversations/threads/${threadId}`),
    ).toMatchObject({
      assignedTo: `A-${USER_ID}`,
    });

    const refused = randomUUID();
    await fixture.publish(RoutingKeys.RouterAssignmentRequestedV1, {
      hubspotThreadId: threadId,
      channelAccountId: account,
      assignee: { type: 'user', userId: '999999' },
      reason: 'round robin',
      decisionId: refused,
    });
    const failure = await outcomeOf(refused);
    expect(failure).toMatchObject({
      type: RoutingKeys.GatewayAssignmentFailedV1,
      payload: { hubspotThreadId: threadId, retryable: false },
    });
    expect(String(failure.payload['reason']).length).toBeGreaterThan(0);

    const unassign = randomUUID();
    await fixture.publish(RoutingKeys.RouterAssignmentRequestedV1, {
      hubspotThreadId: threadId,
      channelAccountId: account,
      assignee: { type: 'unassign' },
      reason: 'agent went away',
      decisionId: unassign,
    });
    expect(await outcomeOf(unassign)).toMatchObject({ type: RoutingKeys.GatewayAssignmentAppliedV1 });
    const after = await hubspot<{ assignedTo?: string | null }>(
      `/conversations/v3/conversations/threads/${threadId}`,
    );
    expect(after.assignedTo ?? null).toBeNull();
  });

  const journalOf = async (threadId: string): Promise<(string | null)[]> =>
    (
      await fixture.db.dataSource.query<{ actor_id: string | null }[]>(
        `SELECT actor_id FROM "${fixture.db.schema}".bridge_thread_assignments WHERE portal_id = $1 AND thread_id = $2`,
        [String(HUB_ID), threadId],
      )
    ).map((row) => row.actor_id);

  it('records each applied assignee in the assignment journal, so HubSpot’s echo is known as the bridge’s', async () => {
    const account = await fixture.account();
    const threadId = await threadFor(account);
    const assign = randomUUID();
    await fixture.publish(RoutingKeys.RouterAssignmentRequestedV1, {
      hubspotThreadId: threadId,
      channelAccountId: account,
      assignee: { type: 'user', userId: String(USER_ID) },
      reason: 'round robin',
      decisionId: assign,
    });
    expect(await outcomeOf(assign)).toMatchObject({ type: RoutingKeys.GatewayAssignmentAppliedV1 });
    expect(await journalOf(threadId)).toEqual([`A-${USER_ID}`]);

    const unassign = randomUUID();
    await fixture.publish(RoutingKeys.RouterAssignmentRequestedV1, {
      hubspotThreadId: threadId,
      channelAccountId: account,
      assignee: { type: 'unassign' },
      reason: 'agent went away',
      decisionId: unassign,
    });
    expect(await outcomeOf(unassign)).toMatchObject({ type: RoutingKeys.GatewayAssignmentAppliedV1 });
    expect(await journalOf(threadId)).toEqual([null]);
  });

  /** HubSpot's Webhooks API assignment events go to this gateway's intake (`deleteAppWebhooks` stops them). */
  const assignmentEventsToGateway = (): Promise<unknown> =>
    fixture.control.setAppWebhooks(1_000_001, {
      targetUrl: `${fixture.gateway.baseUrl}/webhooks/hubspot/conversation-events`,
      subscriptions: [{ subscriptionType: 'conversation.propertyChange', propertyName: 'assignedTo' }],
    });
  /** The assignment changes the gateway published for the thread, in order. */
  const assignmentChangesOf = (threadId: string): Record<string, unknown>[] =>
    captured.messages
      .filter(
        (envelope) =>
          envelope.type === RoutingKeys.GatewayThreadAssignmentChangedV1 &&
          envelope.payload['hubspotThreadId'] === threadId,
      )
      .map((envelope) => envelope.payload);
  const expectAssignmentChanges = (threadId: string, count: number): Promise<void> =>
    testing.expectEventually(
      () => {
        expect(assignmentChangesOf(threadId)).toHaveLength(count);
      },
      { timeoutMs: 20_000, description: `${count} assignment changes published` },
    );
  /** The router asks for the assignee; HubSpot took it. */
  const expectApplied = async (
    channelAccountId: string,
    hubspotThreadId: string,
    assignee: { type: 'user'; userId: string } | { type: 'unassign' },
  ): Promise<void> => {
    const decisionId = randomUUID();
    await fixture.publish(RoutingKeys.RouterAssignmentRequestedV1, {
      hubspotThreadId,
      channelAccountId,
      assignee,
      reason: 'round robin',
      decisionId,
    });
    expect(await outcomeOf(decisionId)).toMatchObject({ type: RoutingKeys.GatewayAssignmentAppliedV1 });
  };
  /** Someone in HubSpot assigns the thread (not through the bridge). */
  const personAssigns = async (threadId: string): Promise<void> => {
    const byPerson = await fetch(
      `${fixture.sandbox.url}/conversations/conversations/v3/threads/${threadId}/assignee`,
      {
        method: 'PUT',
        headers: { authorization: `Bearer ${fixture.accessToken}`, 'content-type': 'application/json' },
        body: JSON.stringify({ actorId: `A-${USER_ID}` }),
      },
    );
    expect(byPerson.ok).toBe(true);
  };

  it('knows HubSpot’s echo of its assignment as its own when the echo arrives before the assignment is committed', async () => {
    const account = await fixture.account();
    const threadId = await threadFor(account);
    // HubSpot stores the assignee and sends its Webhooks API event at once, but its answer to the PUT is slow:
    // the gateway receives the echo while the transaction that records the assignment is still open.
    await assignmentEventsToGateway();
    await fixture.control.setFaults([
      {
        method: 'PUT',
        pathPrefix: `/conversations/conversations/v3/threads/${threadId}/assignee`,
        lateAnswerRate: 1,
        holdMs: 1_500,
        times: 1,
      },
    ]);
    try {
      await expectApplied(account, threadId, { type: 'user', userId: String(USER_ID) });
      await expectAssignmentChanges(threadId, 1);
      expect(assignmentChangesOf(threadId)).toEqual([
        { hubspotThreadId: threadId, assignedActorId: `A-${USER_ID}`, byAgent: false },
      ]);
    } finally {
      await fixture.control.setFaults([]);
      await fixture.control.deleteAppWebhooks(1_000_001);
    }
  });

  it('takes a person who assigns the thread back to an assignee the bridge set before as a person', async () => {
    const account = await fixture.account();
    const threadId = await threadFor(account);
    await assignmentEventsToGateway();
    try {
      await expectApplied(account, threadId, { type: 'user', userId: String(USER_ID) });
      await expectApplied(account, threadId, { type: 'unassign' });
      await expectAssignmentChanges(threadId, 2);
      await personAssigns(threadId);
      await expectAssignmentChanges(threadId, 3);
      expect(assignmentChangesOf(threadId)).toEqual([
        { hubspotThreadId: threadId, assignedActorId: `A-${USER_ID}`, byAgent: false },
        { hubspotThreadId: threadId, assignedActorId: null, byAgent: false },
        { hubspotThreadId: threadId, assignedActorId: `A-${USER_ID}`, byAgent: true },
      ]);
    } finally {
      await fixture.control.deleteAppWebhooks(1_000_001);
    }
  });

  it('never reassigns a thread a person assigned in HubSpot: the request fails, not retryable', async () => {
    const account = await fixture.account();
    const threadId = await threadFor(account);
    await personAssigns(threadId);

    const decisionId = randomUUID();
    await fixture.publish(RoutingKeys.RouterAssignmentRequestedV1, {
      hubspotThreadId: threadId,
      channelAccountId: account,
      assignee: { type: 'user', userId: '78' },
      reason: 'round robin',
      decisionId,
    });
    const failure = await outcomeOf(decisionId);
    expect(failure).toMatchObject({
      type: RoutingKeys.GatewayAssignmentFailedV1,
      payload: { hubspotThreadId: threadId, retryable: false },
    });
    expect(String(failure.payload['reason'])).toContain('assigned by a person in HubSpot');
    // The person's assignment goes ahead of the refusal, caused by the same request, so the router records the
    // thread as manual at once instead of asking every other member of its pool.
    const told = captured.messages.findIndex(
      (envelope) =>
        envelope.type === RoutingKeys.GatewayThreadAssignmentChangedV1 &&
        envelope.causationId === failure.causationId,
    );
    expect(told).toBeGreaterThanOrEqual(0);
    expect(told).toBeLessThan(captured.messages.indexOf(failure));
    expect(captured.messages[told]?.payload).toEqual({
      hubspotThreadId: threadId,
      assignedActorId: `A-${USER_ID}`,
      byAgent: true,
    });
    // Only the person's own PUT reached the thread's assignee.
    const assigneeCalls = (await fixture.control.calls(HUB_ID)).filter((call) =>
      call.path.endsWith(`/threads/${threadId}/assignee`),
    );
    expect(assigneeCalls.map((call) => call.method)).toEqual(['PUT']);
    expect(
      await hubspot<{ assignedTo?: string }>(`/conversations/v3/conversations/threads/${threadId}`),
    ).toMatchObject({ assignedTo: `A-${USER_ID}` });
    expect(await journalOf(threadId)).toEqual([]);
  });

  it("a rep's reply to a customer message names that message's provider id (HubSpot inReplyToId mapped back)", async () => {
    const account = await fixture.account();
    const threadId = await threadFor(account);
    const customerMessageId = `in-${sequence}`;
    const reply = await fixture.control.agentReply(threadId, { userId: USER_ID, text: 'answering you' });

    const requested = await testing.expectEventually(
      () => {
        const found = captured.messages.find(
          (envelope) =>
            envelope.type === RoutingKeys.GatewayOutboundMessageRequestedV1 &&
            envelope.payload['hubspotMessageId'] === reply.id,
        );
        if (found === undefined) {
          throw new Error('no outbound request yet');
        }
        return found;
      },
      { timeoutMs: 20_000, description: 'the reply requested' },
    );
    expect(requested.payload).toMatchObject({
      channelAccountId: account,
      hubspotThreadId: threadId,
      text: 'answering you',
      inReplyToProviderMessageId: customerMessageId,
    });
  });

  it('in a help-desk inbox, the ticket owner follows the assignment', async () => {
    const account = await fixture.account({ inboxId: '312' });
    const threadId = await threadFor(account);
    const decisionId = randomUUID();
    await fixture.publish(RoutingKeys.RouterAssignmentRequestedV1, {
      hubspotThreadId: threadId,
      channelAccountId: account,
      assignee: { type: 'user', userId: String(USER_ID) },
      reason: 'help desk',
      decisionId,
    });
    expect(await outcomeOf(decisionId)).toMatchObject({ type: RoutingKeys.GatewayAssignmentAppliedV1 });
    const thread = await hubspot<{ threadAssociations?: { associatedTicketId?: string } }>(
      `/conversations/v3/conversations/threads/${threadId}`,
    );
    const ticketId = thread.threadAssociations?.associatedTicketId;
    expect(ticketId).toEqual(expect.any(String));
    const ticket = await hubspot<{ properties: { hubspot_owner_id: string | null } }>(
      `/crm/v3/objects/tickets/${ticketId ?? ''}?properties=hubspot_owner_id`,
    );
    expect(ticket.properties.hubspot_owner_id).toBe('501');
  });

  it('after the account moves to the help desk, new conversations keep flowing and the ticket owner follows the assignment', async () => {
    const account = await fixture.account();
    await threadFor(account);

    await fixture.control.updateChannelAccount(account, { inboxId: '312' });
    const moved = await testing.expectEventually(
      () => {
        const found = captured.messages.find(
          (envelope) =>
            envelope.type === RoutingKeys.GatewayChannelAccountUpdatedV1 &&
            envelope.payload['channelAccountId'] === account,
        );
        if (found === undefined) {
          throw new Error('no update published yet');
        }
        return found;
      },
      { timeoutMs: 20_000, description: 'the move announced' },
    );
    expect(moved.payload).toEqual({
      channelAccountId: account,
      changes: ['moved'],
      inboxId: '312',
      inboxType: 'HELP_DESK',
    });

    const threadId = await threadFor(account);
    const decisionId = randomUUID();
    await fixture.publish(RoutingKeys.RouterAssignmentRequestedV1, {
      hubspotThreadId: threadId,
      channelAccountId: account,
      assignee: { type: 'user', userId: String(USER_ID) },
      reason: 'help desk after a move',
      decisionId,
    });
    expect(await outcomeOf(decisionId)).toMatchObject({ type: RoutingKeys.GatewayAssignmentAppliedV1 });
    const thread = await hubspot<{ threadAssociations?: { associatedTicketId?: string } }>(
      `/conversations/v3/conversations/threads/${threadId}`,
    );
    const ticketId = thread.threadAssociations?.associatedTicketId;
    expect(ticketId).toEqual(expect.any(String));
    const ticket = await hubspot<{ properties: { hubspot_owner_id: string | null } }>(
      `/crm/v3/objects/tickets/${ticketId ?? ''}?properties=hubspot_owner_id`,
    );
    expect(ticket.properties.hubspot_owner_id).toBe('501');
  });
});
