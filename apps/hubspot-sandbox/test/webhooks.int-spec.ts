/* eslint-disable @typescript-eslint/no-explicit-any, @typescript-eslint/no-unsafe-argument, @typescript-eslint/no-unsafe-assignment, @typescript-eslint/no-unsafe-member-access, @typescript-eslint/no-unsafe-return -- HubSpot JSON bodies are asserted with expect(), not typed */
import { expectEventually } from '@inbox-bridge/testing';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { isValidV3 } from '../src/webhooks/signature.js';
import {
  ALL_CHANNEL_SCOPES,
  CLIENT_SECRET,
  HELP_DESK_ID,
  HUB_ID,
  OPAQUE_CAPABILITIES,
  SandboxHarness,
  USER_ID,
  incomingMessage,
} from './sandbox-harness.js';
import { Receiver } from './webhook-receiver.js';

describe('webhooks to the channel webhookUrl (§2)', () => {
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

  it('signs with v3 and retries a slow answer and failures until the receiver accepts', async () => {
    receiver.script = [{ delayMs: 400 }, { status: 500 }, { status: 404 }];
    const channelId = await sandbox.createChannel(OPAQUE_CAPABILITIES, { webhookUrl: receiver.url });
    const accountId = await sandbox.createAccount(await sandbox.token(), channelId, {
      type: 'CHANNEL_SPECIFIC_OPAQUE_ID',
      value: 'bot-1',
    });

    const delivery = await expectEventually(
      async () => {
        const [only] = await sandbox.control.webhookDeliveries();
        if (only?.state !== 'DELIVERED') {
          throw new Error(`delivery ${only?.state ?? 'missing'}`);
        }
        return only;
      },
      { timeoutMs: 4_000, description: 'webhook delivered' },
    );
    expect(delivery.attempts.map((attempt) => attempt.status ?? attempt.error?.split(':')[0])).toEqual([
      'TimeoutError',
      500,
      404,
      200,
    ]);
    expect(receiver.requests).toHaveLength(4);

    const last = receiver.requests.at(-1)!;
    const payload = JSON.parse(last.rawBody) as Record<string, unknown>;
    expect(payload).toEqual({
      type: 'CHANNEL_ACCOUNT_CREATED',
      eventId: expect.any(String),
      portalId: String(HUB_ID),
      channelId,
      eventTimestamp: expect.any(String),
      channelAccountId: accountId,
      channelAccountDeliveryIdentifier: { type: 'CHANNEL_SPECIFIC_OPAQUE_ID', value: 'bot-1' },
      authorized: true,
    });
    const request = {
      method: 'POST',
      url: receiver.url,
      rawBody: last.rawBody,
      timestamp: String(last.headers['x-hubspot-request-timestamp']),
      signature: String(last.headers['x-hubspot-signature-v3']),
    };
    expect(isValidV3(CLIENT_SECRET, request)).toBe(true);
    expect(isValidV3('another-secret', request)).toBe(false);
  });

  it('sends CHANNEL_ACCOUNT_UPDATED / PURGED on admin changes and OUTGOING_CHANNEL_MESSAGE_CREATED on an agent reply', async () => {
    const channelId = await sandbox.createChannel(OPAQUE_CAPABILITIES, { webhookUrl: receiver.url });
    const token = await sandbox.token();
    const accountId = await sandbox.createAccount(token, channelId);
    const published = await sandbox.request(
      'POST',
      `/conversations/v3/custom-channels/${channelId}/messages`,
      { token, body: incomingMessage(accountId, { integrationThreadId: 'chat-42' }) },
    );
    const reply = await sandbox.control.agentReply(published.body.conversationsThreadId, {
      userId: USER_ID,
      text: 'On it!',
    });
    await sandbox.control.updateChannelAccount(accountId, { name: 'Renamed', inboxId: HELP_DESK_ID });
    await expect(sandbox.control.updateChannelAccount(accountId, { inboxId: '999' })).rejects.toMatchObject({
      status: 400,
    });
    await sandbox.control.purgeChannelAccount(accountId);

    const bodies = await expectEventually(
      () => {
        const types = receiver.requests.map((request) => JSON.parse(request.rawBody) as Record<string, any>);
        if (types.length !== 4) {
          throw new Error(`${types.length} webhooks so far`);
        }
        return types;
      },
      { timeoutMs: 3_000, description: 'four webhooks' },
    );
    expect(bodies.map((body) => body.type).sort()).toEqual([
      'CHANNEL_ACCOUNT_CREATED',
      'CHANNEL_ACCOUNT_PURGED',
      'CHANNEL_ACCOUNT_UPDATED',
      'OUTGOING_CHANNEL_MESSAGE_CREATED',
    ]);
    const outgoing = bodies.find((body) => body.type === 'OUTGOING_CHANNEL_MESSAGE_CREATED')!;
    expect(outgoing).toMatchObject({
      portalId: String(HUB_ID),
      channelId,
      channelIntegrationThreadIds: ['chat-42'],
      message: {
        id: reply.id,
        type: 'MESSAGE',
        direction: 'OUTGOING',
        channelAccountId: accountId,
        conversationsThreadId: published.body.conversationsThreadId,
        createdBy: `A-${USER_ID}`,
        senders: [{ actorId: `A-${USER_ID}`, name: 'Rita Rep' }],
        recipients: [
          {
            actorId: published.body.senders[0].actorId,
            deliveryIdentifier: { type: 'CHANNEL_SPECIFIC_OPAQUE_ID', value: 'tg-user-1' },
          },
        ],
        text: 'On it!',
        inReplyToId: published.body.id,
        truncationStatus: 'NOT_TRUNCATED',
        status: 'SENT',
      },
    });
    const accounts = await sandbox.request(
      'GET',
      `/conversations/v3/custom-channels/${channelId}/channel-accounts?archived=true`,
      { token },
    );
    expect(accounts.body.results).toEqual([
      expect.objectContaining({ id: accountId, archived: true, name: 'Renamed', inboxId: HELP_DESK_ID }),
    ]);
  });

  it('carries a rep attachment as a FILE whose bytes the gateway fetches through a signed URL', async () => {
    const channelId = await sandbox.createChannel(OPAQUE_CAPABILITIES, { webhookUrl: receiver.url });
    const token = await sandbox.token([...ALL_CHANNEL_SCOPES, 'files']);
    const accountId = await sandbox.createAccount(token, channelId);
    const published = await sandbox.request(
      'POST',
      `/conversations/v3/custom-channels/${channelId}/messages`,
      {
        token,
        body: incomingMessage(accountId),
      },
    );
    const threadId = published.body.conversationsThreadId;
    const file = await sandbox.uploadFile(token, { name: 'invoice.pdf', type: 'application/pdf' });
    await expect(
      sandbox.control.agentReply(threadId, { userId: USER_ID, text: 'x', fileIds: ['999'] }),
    ).rejects.toMatchObject({ status: 404 });
    await sandbox.control.agentReply(threadId, {
      userId: USER_ID,
      text: 'Your invoice',
      fileIds: [file.body.id],
    });

    const outgoing = await expectEventually(
      () => {
        const body = receiver.requests
          .map((request) => JSON.parse(request.rawBody) as Record<string, any>)
          .find((candidate) => candidate.type === 'OUTGOING_CHANNEL_MESSAGE_CREATED');
        if (body === undefined) {
          throw new Error('no outgoing webhook yet');
        }
        return body;
      },
      { timeoutMs: 3_000, description: 'the outgoing webhook' },
    );
    expect(outgoing.message.attachments).toEqual([
      { type: 'FILE', fileId: file.body.id, fileUsageType: 'OTHER', name: 'invoice.pdf', url: file.body.url },
    ]);
    const signed = await sandbox.request('GET', `/files/v3/files/${file.body.id}/signed-url`, { token });
    expect(await (await fetch(signed.body.url)).text()).toBe('voice-note');
  });
});
