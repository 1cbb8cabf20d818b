/* eslint-disable @typescript-eslint/no-unsafe-argument, @typescript-eslint/no-unsafe-assignment, @typescript-eslint/no-unsafe-call, @typescript-eslint/no-unsafe-member-access, @typescript-eslint/no-unsafe-return -- HubSpot JSON bodies are asserted with expect(), not typed */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import {
  ALL_CHANNEL_SCOPES,
  APP_ID,
  CONTACT_ID,
  HELP_DESK_ID,
  HUB_ID,
  INBOX_ID,
  OPAQUE_CAPABILITIES,
  OWNER_ID,
  SEATLESS_USER_ID,
  SandboxHarness,
  USER_ID,
  incomingMessage,
} from './sandbox-harness.js';

const CONV = '/conversations/v3/conversations';
const ASSIGNEE = (threadId: string) => `/conversations/conversations/v3/threads/${threadId}/assignee`;

describe('conversations (§5.2)', () => {
  let sandbox: SandboxHarness;
  let token: string;

  beforeAll(async () => {
    sandbox = await SandboxHarness.start();
  });
  afterAll(() => sandbox.stop());
  beforeEach(async () => {
    await sandbox.seed();
    token = await sandbox.token([...ALL_CHANNEL_SCOPES, 'conversations.write']);
  });

  /** Publishes an inbound message through the custom channel and returns its thread id. */
  async function inbound(overrides: Record<string, unknown> = {}, inboxId = INBOX_ID) {
    const channelId = await sandbox.createChannel({
      ...OPAQUE_CAPABILITIES,
      deliveryIdentifierTypes: ['CHANNEL_SPECIFIC_OPAQUE_ID', 'HS_PHONE_NUMBER'],
    });
    const account = await sandbox.request(
      'POST',
      `/conversations/v3/custom-channels/${channelId}/channel-accounts`,
      {
        token,
        body: { inboxId, name: 'Bot', authorized: true },
      },
    );
    const published = await sandbox.request(
      'POST',
      `/conversations/v3/custom-channels/${channelId}/messages`,
      {
        token,
        body: incomingMessage(account.body.id, overrides),
      },
    );
    expect(published.status).toBe(201);
    return {
      channelId,
      accountId: account.body.id as string,
      threadId: published.body.conversationsThreadId as string,
      messageId: published.body.id as string,
    };
  }

  it('lists and reads inboxes, including help-desk inboxes', async () => {
    const list = await sandbox.request('GET', `${CONV}/inboxes`, { token });
    expect(list.status).toBe(200);
    expect(list.body).toEqual({
      total: 2,
      results: [
        expect.objectContaining({ id: INBOX_ID, name: 'Support', type: 'INBOX', archived: false }),
        expect.objectContaining({ id: HELP_DESK_ID, name: 'Help desk', type: 'HELP_DESK' }),
      ],
    });
    const one = await sandbox.request('GET', `/conversations/conversations/2026-09/inboxes/${HELP_DESK_ID}`, {
      token,
    });
    expect(one.body).toEqual({
      id: HELP_DESK_ID,
      name: 'Help desk',
      type: 'HELP_DESK',
      archived: false,
      createdAt: expect.any(String),
      updatedAt: expect.any(String),
    });
    expect((await sandbox.request('GET', `${CONV}/inboxes/999`, { token })).status).toBe(404);
    const noScope = await sandbox.request('GET', `${CONV}/inboxes`, {
      token: await sandbox.token(['conversations.custom_channels.read']),
    });
    expect(noScope.status).toBe(403);
    expect(noScope.body.errors[0].context.requiredGranularScopes).toEqual(['conversations.read']);
    // The control API reads the same portal as stored.
    const stored = await sandbox.control.portal(HUB_ID);
    expect(stored.inboxes.map((inbox) => [inbox.id, inbox.type])).toEqual([
      [INBOX_ID, 'INBOX'],
      [HELP_DESK_ID, 'HELP_DESK'],
    ]);
    await expect(sandbox.control.portal(9999)).rejects.toMatchObject({ status: 404 });
  });

  it('shows an inbound custom-channel message as a thread with its messages and its contact', async () => {
    const { channelId, accountId, threadId, messageId } = await inbound({
      senders: [{ deliveryIdentifier: { type: 'HS_PHONE_NUMBER', value: '+4915112345678' }, name: 'Ada' }],
    });
    const thread = await sandbox.request('GET', `${CONV}/threads/${threadId}`, { token });
    expect(thread.status).toBe(200);
    expect(thread.body).toEqual({
      id: threadId,
      createdAt: expect.any(String),
      status: 'OPEN',
      originalChannelId: channelId,
      originalChannelAccountId: accountId,
      latestMessageTimestamp: '2026-11-25T10:00:00.000Z',
      latestMessageReceivedTimestamp: '2026-11-25T10:00:00.000Z',
      spam: false,
      inboxId: INBOX_ID,
      associatedContactId: CONTACT_ID,
      archived: false,
    });
    const messages = await sandbox.request('GET', `${CONV}/threads/${threadId}/messages`, { token });
    expect(messages.body.results).toEqual([
      expect.objectContaining({ id: messageId, type: 'MESSAGE', direction: 'INCOMING', text: 'hello' }),
    ]);
    const one = await sandbox.request('GET', `${CONV}/threads/${threadId}/messages/${messageId}`, { token });
    expect(one.body.id).toBe(messageId);
    const visitor = await sandbox.request(
      'GET',
      `${CONV}/actors/${messages.body.results[0].senders[0].actorId}`,
      {
        token,
      },
    );
    expect(visitor.body).toMatchObject({ type: 'VISITOR', name: 'Ada' });
    expect((await sandbox.request('GET', `${CONV}/threads/123`, { token })).status).toBe(404);
  });

  it('lists threads with the reference filters and validates them', async () => {
    const first = await inbound();
    const helpDesk = await inbound({ integrationThreadId: 'chat-2' }, HELP_DESK_ID);
    const all = await sandbox.request('GET', `${CONV}/threads`, { token });
    expect(all.body.results.map((thread: { id: string }) => thread.id)).toEqual([
      first.threadId,
      helpDesk.threadId,
    ]);
    const ticketThread = all.body.results[1];
    expect(ticketThread.threadAssociations.associatedTicketId).toMatch(/^\d+$/);

    const ids = async (query: string) =>
      (await sandbox.request('GET', `${CONV}/threads?${query}`, { token })).body.results.map(
        (thread: { id: string }) => thread.id,
      );
    expect(await ids(`inboxId=${HELP_DESK_ID}`)).toEqual([helpDesk.threadId]);
    expect(await ids(`inboxId=${HELP_DESK_ID}&inboxId=${INBOX_ID}&sort=-id`)).toEqual([
      helpDesk.threadId,
      first.threadId,
    ]);
    expect(await ids('association=TICKET')).toEqual([helpDesk.threadId]);
    expect(await ids(`associatedTicketId=${ticketThread.threadAssociations.associatedTicketId}`)).toEqual([
      helpDesk.threadId,
    ]);
    expect(await ids('threadStatus=CLOSED')).toEqual([]);
    expect(await ids('latestMessageTimestampAfter=2026-11-25T11:00:00Z')).toEqual([]);
    expect(await ids('limit=1')).toEqual([first.threadId]);

    const bad = await sandbox.request(
      'GET',
      `${CONV}/threads?inboxId=abc&threadStatus=DONE&sort=latestMessageTimestamp`,
      {
        token,
      },
    );
    expect(bad.status).toBe(400);
    expect(bad.body.context.propertyName.sort()).toEqual([
      'inboxId',
      'latestMessageTimestampAfter',
      'threadStatus',
    ]);
  });

  it('closes and reopens a thread (PATCH only takes status and archived:false), archives with DELETE', async () => {
    const { threadId } = await inbound();
    const closed = await sandbox.request('PATCH', `${CONV}/threads/${threadId}`, {
      token,
      body: { status: 'CLOSED' },
    });
    expect(closed.status).toBe(200);
    expect(closed.body).toMatchObject({ status: 'CLOSED', closedAt: expect.any(String) });
    const assignedTo = await sandbox.request('PATCH', `${CONV}/threads/${threadId}`, {
      token,
      body: { assignedTo: `A-${USER_ID}`, archived: true },
    });
    expect(assignedTo.status).toBe(400);
    expect(assignedTo.body.context.propertyName.sort()).toEqual(['archived', 'assignedTo']);
    const readOnly = await sandbox.request('PATCH', `${CONV}/threads/${threadId}`, {
      token: await sandbox.token(['conversations.read']),
      body: { status: 'OPEN' },
    });
    expect(readOnly.body.errors[0].context.requiredGranularScopes).toEqual(['conversations.write']);

    const messages = await sandbox.request('GET', `${CONV}/threads/${threadId}/messages`, { token });
    expect(messages.body.results.at(-1)).toMatchObject({
      type: 'THREAD_STATUS_CHANGE',
      newStatus: 'CLOSED',
      createdBy: `I-${APP_ID}`,
    });
    expect((await sandbox.request('DELETE', `${CONV}/threads/${threadId}`, { token })).status).toBe(204);
    expect((await sandbox.request('GET', `${CONV}/threads/${threadId}`, { token })).status).toBe(404);
    const archived = await sandbox.request('GET', `${CONV}/threads/${threadId}?archived=true`, { token });
    expect(archived.body.archived).toBe(true);
    const restored = await sandbox.request('PATCH', `${CONV}/threads/${threadId}`, {
      token,
      body: { archived: false, status: 'OPEN' },
    });
    expect(restored.body).toMatchObject({ archived: false, status: 'OPEN' });
  });

  it('a customer message reopens a closed thread', async () => {
    const { channelId, accountId, threadId } = await inbound();
    await sandbox.request('PATCH', `${CONV}/threads/${threadId}`, { token, body: { status: 'CLOSED' } });
    await sandbox.request('POST', `/conversations/v3/custom-channels/${channelId}/messages`, {
      token,
      body: incomingMessage(accountId, { text: 'again' }),
    });
    const thread = await sandbox.request('GET', `${CONV}/threads/${threadId}`, { token });
    expect(thread.body.status).toBe('OPEN');
    expect(thread.body.closedAt).toBeUndefined();
  });

  it('assigns and unassigns with A-<userId>, recording ASSIGNMENT messages', async () => {
    const { threadId } = await inbound();
    const assigned = await sandbox.request('PUT', ASSIGNEE(threadId), {
      token,
      body: { actorId: `A-${USER_ID}` },
    });
    expect(assigned.status).toBe(200);
    expect(assigned.body).toMatchObject({ id: threadId, assignedTo: `A-${USER_ID}` });
    expect((await sandbox.request('GET', `${CONV}/threads/${threadId}`, { token })).body.assignedTo).toBe(
      `A-${USER_ID}`,
    );
    const agent = await sandbox.request('GET', `${CONV}/actors/A-${USER_ID}`, { token });
    expect(agent.body).toEqual({
      type: 'AGENT',
      id: `A-${USER_ID}`,
      name: 'Rita Rep',
      email: 'rep@example.com',
    });

    const unassigned = await sandbox.request(
      'DELETE',
      `/conversations/conversations/2026-09/threads/${threadId}/assignee`,
      {
        token,
      },
    );
    expect(unassigned.status).toBe(204);
    const thread = await sandbox.request('GET', `${CONV}/threads/${threadId}`, { token });
    expect(thread.body.assignedTo).toBeUndefined();
    const timeline = await sandbox.request('GET', `${CONV}/threads/${threadId}/messages`, { token });
    expect(timeline.body.results.map((entry: { type: string }) => entry.type)).toEqual([
      'MESSAGE',
      'ASSIGNMENT',
      'ASSIGNMENT',
    ]);
    expect(timeline.body.results[2]).toMatchObject({ assignedFrom: `A-${USER_ID}` });
  });

  it('rejects actor ids that are not A-<userId> of an active user with a seat', async () => {
    const { threadId } = await inbound();
    const assign = (actorId: unknown) =>
      sandbox.request('PUT', ASSIGNEE(threadId), { token, body: { actorId } });
    for (const actorId of ['V-123', '77', 'A-abc', `A-${SEATLESS_USER_ID}`, 'A-999999']) {
      const response = await assign(actorId);
      expect(response.status).toBe(400);
      expect(response.body).toMatchObject({
        category: 'VALIDATION_ERROR',
        errors: [{ code: 'INVALID_VALUE', context: { propertyName: ['actorId'] } }],
      });
    }
    expect((await assign(77)).body.errors[0].code).toBe('INVALID_TYPE');
    await sandbox.control.updateUser(HUB_ID, USER_ID, { active: false });
    expect((await assign(`A-${USER_ID}`)).body.message).toContain('deactivated');
    expect(
      (await sandbox.request('PUT', ASSIGNEE('404404'), { token, body: { actorId: `A-${USER_ID}` } })).status,
    ).toBe(404);
    const readOnly = await sandbox.request('PUT', ASSIGNEE(threadId), {
      token: await sandbox.token(['conversations.read']),
      body: { actorId: `A-${USER_ID}` },
    });
    expect(readOnly.status).toBe(403);
  });

  it('reads actors in batch: 200 when all resolve, 207 with errors otherwise', async () => {
    const { threadId } = await inbound();
    const messages = await sandbox.request('GET', `${CONV}/threads/${threadId}/messages`, { token });
    const visitorId = messages.body.results[0].senders[0].actorId;
    const all = await sandbox.request('POST', `${CONV}/actors/batch/read`, {
      token,
      body: { inputs: [`A-${USER_ID}`, visitorId] },
    });
    expect(all.status).toBe(200);
    expect(all.body).toMatchObject({ status: 'COMPLETE', results: [{ type: 'AGENT' }, { type: 'VISITOR' }] });
    const partial = await sandbox.request('POST', `${CONV}/actors/batch/read`, {
      token,
      body: { inputs: [`A-${USER_ID}`, 'A-1'] },
    });
    expect(partial.status).toBe(207);
    expect(partial.body).toMatchObject({ numErrors: 1, errors: [{ context: { ids: ['A-1'] } }] });
    expect((await sandbox.request('GET', `${CONV}/actors/A-1`, { token })).status).toBe(404);
    expect(
      (await sandbox.request('POST', `${CONV}/actors/batch/read`, { token, body: { inputs: [] } })).status,
    ).toBe(400);
  });

  it('creates an unassigned ticket for a help-desk conversation; its owner is read and set via the tickets API', async () => {
    const { threadId } = await inbound({}, HELP_DESK_ID);
    const thread = await sandbox.request('GET', `${CONV}/threads/${threadId}`, { token });
    const ticketId = thread.body.threadAssociations.associatedTicketId;
    const ticketToken = await sandbox.token(['tickets']);
    const path = `/crm/v3/objects/tickets/${ticketId}`;
    const ticket = await sandbox.request('GET', `${path}?properties=hubspot_owner_id,hs_pipeline_stage`, {
      token: ticketToken,
    });
    expect(ticket.status).toBe(200);
    expect(ticket.body.properties).toMatchObject({ hubspot_owner_id: null, hs_pipeline_stage: '1' });
    const byUserId = await sandbox.request('PATCH', path, {
      token: ticketToken,
      body: { properties: { hubspot_owner_id: String(USER_ID) } },
    });
    expect(byUserId.status).toBe(400);
    expect(byUserId.body.errors[0]).toMatchObject({
      code: 'INVALID_OPTION',
      context: { propertyName: ['properties.hubspot_owner_id'] },
    });
    const owned = await sandbox.request('PATCH', path, {
      token: ticketToken,
      body: { properties: { hubspot_owner_id: OWNER_ID } },
    });
    expect(owned.body.properties.hubspot_owner_id).toBe(OWNER_ID);
    expect((await sandbox.request('GET', path, { token })).status).toBe(403);
    expect((await sandbox.request('GET', '/crm/v3/objects/tickets/1', { token: ticketToken })).status).toBe(
      404,
    );
  });

  it('lists channel accounts across channels, filtered by channelId and inboxId', async () => {
    const first = await inbound();
    const second = await inbound({}, HELP_DESK_ID);
    const all = await sandbox.request('GET', `${CONV}/channel-accounts`, { token });
    expect(all.status).toBe(200);
    expect(all.body.total).toBe(2);
    const byChannel = await sandbox.request('GET', `${CONV}/channel-accounts?channelId=${second.channelId}`, {
      token,
    });
    expect(byChannel.body.results).toEqual([
      expect.objectContaining({ id: second.accountId, channelId: second.channelId, inboxId: HELP_DESK_ID }),
    ]);
    const byInbox = await sandbox.request('GET', `${CONV}/channel-accounts?inboxId=${INBOX_ID}`, { token });
    expect(byInbox.body.results.map((account: { id: string }) => account.id)).toEqual([first.accountId]);
    const one = await sandbox.request('GET', `${CONV}/channel-accounts/${first.accountId}`, { token });
    expect(one.body).toMatchObject({ id: first.accountId, name: 'Bot', authorized: true });
    expect((await sandbox.request('GET', `${CONV}/channel-accounts/1`, { token })).status).toBe(404);
  });

  it('pages every list the gateway walks with limit and paging.next.after until no paging is left', async () => {
    for (let index = 0; index < 3; index += 1) {
      await inbound({ integrationThreadId: `chat-${index}` });
    }
    await sandbox.control.seedPortal({
      hubId: 9191,
      users: Array.from({ length: 3 }, (_, index) => ({ id: 900 + index, email: `rep${index}@example.com` })),
      inboxes: [
        { id: '1', name: 'One' },
        { id: '2', name: 'Two' },
        { id: '3', name: 'Three', helpDesk: true },
      ],
    });
    const other = await sandbox.control.issueTokens(9191, {
      appId: APP_ID,
      userId: 900,
      scopes: ['conversations.read', 'crm.objects.owners.read', 'crm.objects.users.read'],
    });

    /** Follows `paging.next.after` with `limit=2`; returns the ids of every page. */
    async function walk(path: string, bearer: string): Promise<string[][]> {
      const pages: string[][] = [];
      let after: string | undefined;
      do {
        const separator = path.includes('?') ? '&' : '?';
        const response = await sandbox.request(
          'GET',
          `${path}${separator}limit=2${after === undefined ? '' : `&after=${after}`}`,
          { token: bearer },
        );
        expect(response.status).toBe(200);
        pages.push(response.body.results.map((item: { id: string }) => item.id));
        after = response.body.paging?.next?.after;
        expect(pages.length).toBeLessThan(10);
      } while (after !== undefined);
      return pages;
    }

    const threads = await walk(`${CONV}/threads`, token);
    expect(threads.map((page) => page.length)).toEqual([2, 1]);
    expect(new Set(threads.flat()).size).toBe(3);
    const accounts = await walk(`${CONV}/channel-accounts`, token);
    expect(accounts.map((page) => page.length)).toEqual([2, 1]);
    expect((await walk(`${CONV}/inboxes`, other.access_token)).flat()).toEqual(['1', '2', '3']);
    const owners = await walk('/crm/v3/owners', other.access_token);
    expect(owners.map((page) => page.length)).toEqual([2, 1]);
    const users = await walk('/crm/v3/objects/users', other.access_token);
    expect(users.map((page) => page.length)).toEqual([2, 1]);
    expect(new Set(users.flat()).size).toBe(3);
  });
});
