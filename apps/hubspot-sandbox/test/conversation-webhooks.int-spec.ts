/* eslint-disable @typescript-eslint/no-explicit-any, @typescript-eslint/no-unsafe-member-access, @typescript-eslint/no-unsafe-assignment, @typescript-eslint/no-unsafe-return -- HubSpot JSON bodies are asserted with expect(), not typed */
import { expectEventually } from '@inbox-bridge/testing';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { isValidV3, signV1 } from '../src/webhooks/signature.js';
import {
  ALL_CHANNEL_SCOPES,
  APP_ID,
  CLIENT_SECRET,
  HUB_ID,
  OPAQUE_CAPABILITIES,
  SandboxHarness,
  USER_ID,
  incomingMessage,
} from './sandbox-harness.js';
import { Receiver } from './webhook-receiver.js';

const ALL_SUBSCRIPTIONS = [
  { subscriptionType: 'conversation.creation' },
  { subscriptionType: 'conversation.deletion' },
  { subscriptionType: 'conversation.newMessage' },
  { subscriptionType: 'conversation.propertyChange', propertyName: 'assignedTo' },
  { subscriptionType: 'conversation.propertyChange', propertyName: 'status' },
] as const;

describe('Webhooks API conversation events (§2.6)', () => {
  let sandbox: SandboxHarness;
  let receiver: Receiver;

  beforeAll(async () => {
    sandbox = await SandboxHarness.start();
    receiver = new Receiver();
    await receiver.start();
  });
  afterAll(async () => {
    await sandbox.stop();
    await receiver.stop();
  });
  beforeEach(async () => {
    await sandbox.seed();
    await sandbox.control.setWebhookTimeScale(0.001);
    receiver.requests.length = 0;
    receiver.script = [];
  });

  /** Every event received so far, flattened from the arrays, in arrival order. */
  const events = () =>
    receiver.requests.flatMap((request) => JSON.parse(request.rawBody) as Record<string, any>[]);

  async function eventsMatching(count: number, description: string): Promise<Record<string, any>[]> {
    return expectEventually(
      () => {
        const received = events();
        if (received.length < count) {
          throw new Error(`${received.length} of ${count} events: ${JSON.stringify(received)}`);
        }
        return received;
      },
      { timeoutMs: 4_000, description },
    );
  }

  async function publishFirstMessage(token: string): Promise<{ threadId: string; messageId: string }> {
    const channelId = await sandbox.createChannel(OPAQUE_CAPABILITIES);
    const accountId = await sandbox.createAccount(token, channelId);
    const published = await sandbox.request(
      'POST',
      `/conversations/v3/custom-channels/${channelId}/messages`,
      { token, body: incomingMessage(accountId) },
    );
    expect(published.status).toBe(201);
    return { threadId: published.body.conversationsThreadId, messageId: published.body.id };
  }

  it('posts creation and new-message events as one signed array, with v1 and v3 signatures', async () => {
    const settings = await sandbox.control.setAppWebhooks(APP_ID, {
      targetUrl: receiver.url,
      subscriptions: ALL_SUBSCRIPTIONS,
    });
    const { threadId, messageId } = await publishFirstMessage(await sandbox.token());

    const [creation, newMessage] = await eventsMatching(2, 'creation and newMessage');
    expect(receiver.requests).toHaveLength(1);
    const subscriptionId = (type: string) =>
      settings.subscriptions.find((subscription) => subscription.subscriptionType === type)?.id;
    expect(creation).toEqual({
      eventId: expect.any(Number),
      subscriptionId: subscriptionId('conversation.creation'),
      portalId: HUB_ID,
      appId: APP_ID,
      occurredAt: expect.any(Number),
      subscriptionType: 'conversation.creation',
      attemptNumber: 0,
      objectId: Number(threadId),
    });
    expect(newMessage).toMatchObject({
      subscriptionType: 'conversation.newMessage',
      subscriptionId: subscriptionId('conversation.newMessage'),
      objectId: Number(threadId),
      messageId,
      messageType: 'MESSAGE',
    });
    expect(newMessage?.eventId).not.toBe(creation?.eventId);

    const [request] = receiver.requests;
    expect(request?.headers['content-type']).toBe('application/json');
    expect(request?.headers['x-hubspot-signature-version']).toBe('v1');
    expect(request?.headers['x-hubspot-signature']).toBe(signV1(CLIENT_SECRET, request?.rawBody ?? ''));
    expect(
      isValidV3(CLIENT_SECRET, {
        method: 'POST',
        url: receiver.url,
        rawBody: request?.rawBody ?? '',
        timestamp: String(request?.headers['x-hubspot-request-timestamp']),
        signature: String(request?.headers['x-hubspot-signature-v3']),
      }),
    ).toBe(true);
    const [delivery] = await sandbox.control.webhookDeliveries();
    expect(delivery).toMatchObject({
      kind: 'WEBHOOKS_API',
      appId: APP_ID,
      eventType: 'conversation.creation,conversation.newMessage',
    });
  });

  it('reports assignments from the API and from the web inbox dropdown, closes and archives', async () => {
    await sandbox.control.setAppWebhooks(APP_ID, {
      targetUrl: receiver.url,
      subscriptions: ALL_SUBSCRIPTIONS,
    });
    const token = await sandbox.token([...ALL_CHANNEL_SCOPES, 'conversations.write']);
    const { threadId } = await publishFirstMessage(token);
    await eventsMatching(2, 'creation and newMessage');

    const assigned = await sandbox.request(
      'PUT',
      `/conversations/conversations/v3/threads/${threadId}/assignee`,
      { token, body: { actorId: `A-${USER_ID}` } },
    );
    expect(assigned.status).toBe(200);
    await eventsMatching(3, 'API assignment');
    // The web inbox's owner dropdown posts this form: empty = unassign, then assign again.
    for (const actorId of ['', `A-${USER_ID}`]) {
      const form = await sandbox.send(
        'POST',
        `/ui/${HUB_ID}/inbox/threads/${threadId}/assignee`,
        { 'Content-Type': 'application/x-www-form-urlencoded' },
        new URLSearchParams({ actorId }).toString(),
      );
      expect(form.status).toBe(303);
      await eventsMatching(events().length + 1, `dropdown ${actorId || 'unassign'}`);
    }
    // The inbox's close button (a rep closes), then the API reopens and closes again.
    const closedInInbox = await sandbox.send(
      'POST',
      `/ui/${HUB_ID}/inbox/threads/${threadId}/status`,
      { 'Content-Type': 'application/x-www-form-urlencoded' },
      'status=CLOSED',
    );
    expect(closedInInbox.status).toBe(303);
    const badStatus = await sandbox.send(
      'POST',
      `/ui/${HUB_ID}/inbox/threads/${threadId}/status`,
      { 'Content-Type': 'application/x-www-form-urlencoded' },
      'status=SNOOZED',
    );
    expect(badStatus.status).toBe(400);
    for (const status of ['OPEN', 'CLOSED']) {
      const changed = await sandbox.request('PATCH', `/conversations/v3/conversations/threads/${threadId}`, {
        token,
        body: { status },
      });
      expect(changed.status).toBe(200);
    }
    const archived = await sandbox.request('DELETE', `/conversations/v3/conversations/threads/${threadId}`, {
      token,
    });
    expect(archived.status).toBe(204);

    const received = await eventsMatching(9, 'status and deletion');
    expect(
      received.slice(2).map((event) => [event.subscriptionType, event.propertyName, event.propertyValue]),
    ).toEqual([
      ['conversation.propertyChange', 'assignedTo', `A-${USER_ID}`],
      ['conversation.propertyChange', 'assignedTo', ''],
      ['conversation.propertyChange', 'assignedTo', `A-${USER_ID}`],
      ['conversation.propertyChange', 'status', 'CLOSED'],
      ['conversation.propertyChange', 'status', 'OPEN'],
      ['conversation.propertyChange', 'status', 'CLOSED'],
      ['conversation.deletion', undefined, undefined],
    ]);
    expect(new Set(received.map((event) => event.objectId))).toEqual(new Set([Number(threadId)]));
  });

  it('sends conversation.privacyDeletion for a GDPR deletion, and the thread is gone from the API', async () => {
    await sandbox.control.setAppWebhooks(APP_ID, {
      targetUrl: receiver.url,
      subscriptions: [{ subscriptionType: 'conversation.privacyDeletion' }],
    });
    const token = await sandbox.token();
    const { threadId, messageId } = await publishFirstMessage(token);
    await sandbox.control.privacyDeleteThread(threadId);
    const [event] = await eventsMatching(1, 'privacyDeletion');
    expect(event).toMatchObject({
      subscriptionType: 'conversation.privacyDeletion',
      objectId: Number(threadId),
    });
    expect(
      (
        await sandbox.request('GET', `/conversations/v3/conversations/threads/${threadId}?archived=true`, {
          token,
        })
      ).status,
    ).toBe(404);
    expect((await sandbox.control.threads(HUB_ID)).map((thread) => thread.id)).not.toContain(threadId);
    expect(JSON.stringify(await sandbox.control.threads(HUB_ID))).not.toContain(messageId);
    await expect(sandbox.control.privacyDeleteThread('1')).rejects.toMatchObject({ status: 404 });
  });

  it('deletes a conversation as a rep does, through the control API and the inbox, and as a privacy deletion from the inbox', async () => {
    await sandbox.control.setAppWebhooks(APP_ID, {
      targetUrl: receiver.url,
      subscriptions: [
        { subscriptionType: 'conversation.deletion' },
        { subscriptionType: 'conversation.privacyDeletion' },
      ],
    });
    const token = await sandbox.token();
    const byControl = await publishFirstMessage(token);
    await sandbox.control.deleteThread(byControl.threadId);
    await expect(sandbox.control.deleteThread(byControl.threadId)).rejects.toMatchObject({ status: 404 });
    const byInbox = await publishFirstMessage(token);
    const form = { 'Content-Type': 'application/x-www-form-urlencoded' };
    const page = await sandbox.send('GET', `/ui/${HUB_ID}/inbox/threads/${byInbox.threadId}`, {});
    expect(page.body).toContain('id="delete-button"');
    expect(page.body).toContain('id="privacy-delete-button"');
    const deleted = await sandbox.send(
      'POST',
      `/ui/${HUB_ID}/inbox/threads/${byInbox.threadId}/deletion`,
      form,
      '',
    );
    expect(deleted.status).toBe(303);
    const byGdpr = await publishFirstMessage(token);
    const erased = await sandbox.send(
      'POST',
      `/ui/${HUB_ID}/inbox/threads/${byGdpr.threadId}/deletion`,
      form,
      'privacy=true',
    );
    expect(erased.status).toBe(303);

    const received = await eventsMatching(3, 'deletions');
    expect(received.map((event) => [event.subscriptionType, String(event.objectId)])).toEqual([
      ['conversation.deletion', byControl.threadId],
      ['conversation.deletion', byInbox.threadId],
      ['conversation.privacyDeletion', byGdpr.threadId],
    ]);
    const archived = await sandbox.request(
      'GET',
      `/conversations/v3/conversations/threads/${byControl.threadId}?archived=true`,
      { token },
    );
    expect(archived.body).toMatchObject({ archived: true });
    expect((await sandbox.control.threads(HUB_ID)).map((thread) => thread.id)).not.toContain(byGdpr.threadId);
  });

  it('retries a failed delivery with the next attemptNumber and the same events', async () => {
    receiver.script = [{ status: 503 }, { status: 500 }];
    await sandbox.control.setAppWebhooks(APP_ID, {
      targetUrl: receiver.url,
      subscriptions: [{ subscriptionType: 'conversation.creation' }],
    });
    await publishFirstMessage(await sandbox.token());

    await expectEventually(
      () => {
        if (receiver.requests.length < 3) {
          throw new Error(`${receiver.requests.length} attempts`);
        }
      },
      { timeoutMs: 4_000, description: 'three attempts' },
    );
    const attempts = receiver.requests.map((request) => JSON.parse(request.rawBody) as Record<string, any>[]);
    expect(attempts.map((batch) => batch.map((event) => event.attemptNumber))).toEqual([[0], [1], [2]]);
    expect(new Set(attempts.map((batch) => batch[0]?.eventId)).size).toBe(1);
    for (const request of receiver.requests) {
      expect(request.headers['x-hubspot-signature']).toBe(signV1(CLIENT_SECRET, request.rawBody));
    }
  });

  it('sends nothing unsubscribed, nothing before the app holds conversations.read, and splits batches at maxEventsPerRequest', async () => {
    await sandbox.control.setAppWebhooks(APP_ID, {
      targetUrl: receiver.url,
      maxEventsPerRequest: 1,
      subscriptions: [
        { subscriptionType: 'conversation.creation', active: false },
        { subscriptionType: 'conversation.newMessage' },
        { subscriptionType: 'conversation.propertyChange', propertyName: 'assignedTo' },
      ],
    });
    // Installed without conversations.read: no events at all.
    const narrow = await sandbox.token([
      'conversations.custom_channels.read',
      'conversations.custom_channels.write',
    ]);
    await publishFirstMessage(narrow);
    // Installed with it: only newMessage (creation is inactive, status is not subscribed).
    const token = await sandbox.token([...ALL_CHANNEL_SCOPES, 'conversations.write']);
    const { threadId } = await publishFirstMessage(token);
    await sandbox.request('PATCH', `/conversations/v3/conversations/threads/${threadId}`, {
      token,
      body: { status: 'CLOSED' },
    });
    await sandbox.request('PUT', `/conversations/conversations/v3/threads/${threadId}/assignee`, {
      token,
      body: { actorId: `A-${USER_ID}` },
    });

    const received = await eventsMatching(2, 'the newMessage event and the assignment');
    expect(received.map((event) => [event.subscriptionType, event.objectId])).toEqual([
      ['conversation.newMessage', Number(threadId)],
      ['conversation.propertyChange', Number(threadId)],
    ]);
    expect(receiver.requests.map((request) => (JSON.parse(request.rawBody) as unknown[]).length)).toEqual([
      1, 1,
    ]);
  });

  it('validates the settings and seeds them from the configuration', async () => {
    await expect(
      sandbox.control.setAppWebhooks(APP_ID, {
        targetUrl: receiver.url,
        subscriptions: [{ subscriptionType: 'conversation.propertyChange' }],
      }),
    ).rejects.toMatchObject({ status: 400 });
    await expect(
      sandbox.control.setAppWebhooks(APP_ID, {
        targetUrl: 'ftp://example.com',
        subscriptions: ALL_SUBSCRIPTIONS,
      }),
    ).rejects.toMatchObject({ status: 400 });
    await expect(sandbox.control.appWebhooks(APP_ID)).resolves.toBeNull();

    const configured = await SandboxHarness.start({
      SANDBOX_APP_WEBHOOK_URL: receiver.url,
      SANDBOX_APP_WEBHOOK_SUBSCRIPTIONS: 'conversation.creation,conversation.propertyChange:assignedTo',
    });
    try {
      expect(await configured.control.appWebhooks(APP_ID)).toEqual({
        targetUrl: receiver.url,
        maxEventsPerRequest: 100,
        subscriptions: [
          { id: expect.any(Number), subscriptionType: 'conversation.creation', active: true },
          {
            id: expect.any(Number),
            subscriptionType: 'conversation.propertyChange',
            propertyName: 'assignedTo',
            active: true,
          },
        ],
      });
    } finally {
      await configured.stop();
    }
    await expect(
      SandboxHarness.start({ SANDBOX_APP_WEBHOOK_SUBSCRIPTIONS: 'conversation.propertyChange' }),
    ).rejects.toThrow(/SANDBOX_APP_WEBHOOK_SUBSCRIPTIONS/);
  });
});
