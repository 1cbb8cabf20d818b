/* eslint-disable @typescript-eslint/no-explicit-any, @typescript-eslint/no-unsafe-argument, @typescript-eslint/no-unsafe-assignment, @typescript-eslint/no-unsafe-member-access, @typescript-eslint/no-unsafe-return -- HubSpot JSON bodies are asserted with expect(), not typed */
import { expectEventually } from '@inbox-bridge/testing';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { isValidV3 } from '../src/webhooks/signature.js';
import { retryDelayRangeMs } from '../src/webhooks/webhook-dispatcher.service.js';
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

/** HubSpot's Webhooks API policy (§2.3): the first attempt and up to 10 retries. */
const MAX_ATTEMPTS = 11;

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
    receiver.mostOpenAtOnce = 0;
    receiver.script = [];
  });

  /** A channel posting to the receiver, an account, and a customer's thread; the token may upload files. */
  async function customerThread(capabilities: Record<string, unknown>) {
    const channelId = await sandbox.createChannel(capabilities, { webhookUrl: receiver.url });
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
    return { token, threadId: String(published.body.conversationsThreadId) };
  }

  it('signs with v3 and retries a slow answer and failures until the receiver accepts', async () => {
    // Slower than the shortest scaled timeout (1 s).
    receiver.script = [{ delayMs: 1_300 }, { status: 500 }, { status: 404 }];
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
      { timeoutMs: 6_000, description: 'webhook delivered' },
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

  it('gives up after 10 retries with growing delays within 24 h (scaled), on error answers and on refused connections', async () => {
    const scale = 0.0001;
    await sandbox.control.setWebhookTimeScale(scale);
    receiver.script = Array.from({ length: MAX_ATTEMPTS }, () => ({ status: 500 }));
    const refusedUrl = await closedPortUrl();
    const failing = await sandbox.createChannel(OPAQUE_CAPABILITIES, { webhookUrl: receiver.url });
    const unreachable = await sandbox.createChannel(OPAQUE_CAPABILITIES, { webhookUrl: refusedUrl });
    const token = await sandbox.token();
    await sandbox.createAccount(token, failing);
    await sandbox.createAccount(token, unreachable);

    const deliveries = await expectEventually(
      async () => {
        const all = await sandbox.control.webhookDeliveries();
        if (all.length !== 2 || all.some((delivery) => delivery.state === 'PENDING')) {
          throw new Error(`states ${all.map((delivery) => delivery.state).join(',')}`);
        }
        return all;
      },
      { timeoutMs: 25_000, description: 'both deliveries finished' },
    );
    for (const delivery of deliveries) {
      expect(delivery.state).toBe('GAVE_UP');
      expect(delivery.attempts.map((attempt) => attempt.attempt)).toEqual(
        Array.from({ length: MAX_ATTEMPTS }, (_, index) => index + 1),
      );
      // The wait before attempt n + 1 is at least the least of its randomised, doubling delay (scaled).
      const starts = delivery.attempts.map((attempt) => Date.parse(attempt.at));
      starts.slice(1).forEach((start, index) => {
        expect(start - starts[index]!).toBeGreaterThanOrEqual(
          Math.floor(retryDelayRangeMs(index + 1).minMs * scale) - 1,
        );
      });
      expect(starts.at(-1)! - starts.at(-2)!).toBeGreaterThan(starts[2]! - starts[1]!);
      // All ten retries within a day (scaled), with a second for the answers.
      expect(starts.at(-1)! - starts[0]!).toBeLessThan(24 * 3_600_000 * scale + 1_000);
    }
    const [toReceiver, toNowhere] = [
      deliveries.find((delivery) => delivery.url === receiver.url)!,
      deliveries.find((delivery) => delivery.url === refusedUrl)!,
    ];
    expect(toReceiver.attempts.map((attempt) => attempt.status)).toEqual(
      Array.from({ length: MAX_ATTEMPTS }, () => 500),
    );
    expect(receiver.requests).toHaveLength(MAX_ATTEMPTS);
    expect(new Set(receiver.requests.map((request) => request.rawBody)).size).toBe(1);
    expect(
      toNowhere.attempts.every((attempt) => attempt.status === undefined && attempt.error !== undefined),
    ).toBe(true);
  });

  it('sends at most 10 requests at once per installing account; the others wait for a free place (§2.3)', async () => {
    receiver.script = Array.from({ length: 15 }, () => ({ delayMs: 500 }));
    const channelId = await sandbox.createChannel(OPAQUE_CAPABILITIES, { webhookUrl: receiver.url });
    const token = await sandbox.token();
    for (let account = 0; account < 15; account += 1) {
      await sandbox.createAccount(token, channelId, {
        type: 'CHANNEL_SPECIFIC_OPAQUE_ID',
        value: `bot-${account}`,
      });
    }
    const deliveries = await expectEventually(
      async () => {
        const all = await sandbox.control.webhookDeliveries();
        if (all.length !== 15 || all.some((delivery) => delivery.state !== 'DELIVERED')) {
          throw new Error(`states ${all.map((delivery) => delivery.state).join(',')}`);
        }
        return all;
      },
      { timeoutMs: 10_000, description: 'fifteen deliveries delivered' },
    );
    expect(deliveries.every((delivery) => delivery.attempts.length === 1)).toBe(true);
    expect(receiver.requests).toHaveLength(15);
    expect(receiver.mostOpenAtOnce).toBe(10);
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

  it('under DELIVERY_IDENTIFIER the reply webhook carries the generated integrationThreadId, which publishes back into the thread', async () => {
    const channelId = await sandbox.createChannel(
      {
        deliveryIdentifierTypes: ['HS_PHONE_NUMBER'],
        threadingModel: 'DELIVERY_IDENTIFIER',
        allowOutgoingMessages: true,
      },
      { webhookUrl: receiver.url },
    );
    const token = await sandbox.token();
    const accountId = await sandbox.createAccount(token, channelId, {
      type: 'HS_PHONE_NUMBER',
      value: '+15550000000',
    });
    const customer = { deliveryIdentifier: { type: 'HS_PHONE_NUMBER', value: '+4915112345678' } };
    const path = `/conversations/v3/custom-channels/${channelId}/messages`;
    const sms = (extra: Record<string, unknown> = {}) =>
      incomingMessage(accountId, {
        integrationThreadId: undefined,
        senders: [customer],
        recipients: [{ deliveryIdentifier: { type: 'HS_PHONE_NUMBER', value: '+15550000000' } }],
        ...extra,
      });
    const published = await sandbox.request('POST', path, { token, body: sms() });
    const threadId = published.body.conversationsThreadId;
    await sandbox.control.agentReply(threadId, { userId: USER_ID, text: 'Hello by SMS' });

    const outgoing = await outgoingWebhook(receiver);
    expect(outgoing.channelIntegrationThreadIds).toEqual([expect.stringMatching(/\S/)]);
    expect(outgoing.message.recipients).toEqual([expect.objectContaining(customer)]);
    const [generated] = outgoing.channelIntegrationThreadIds as string[];
    // Another sender with the generated id lands in the same thread (the id wins over the participants).
    const back = await sandbox.request('POST', path, {
      token,
      body: sms({
        integrationThreadId: generated,
        senders: [{ deliveryIdentifier: { type: 'HS_PHONE_NUMBER', value: '+4915199999999' } }],
      }),
    });
    expect(back.status).toBe(201);
    expect(back.body.conversationsThreadId).toBe(threadId);
  });

  it('carries a rep attachment as a FILE whose bytes the gateway fetches through a signed URL', async () => {
    const { token, threadId } = await customerThread(OPAQUE_CAPABILITIES);
    const file = await sandbox.uploadFile(token, { name: 'invoice.pdf', type: 'application/pdf' });
    await expect(
      sandbox.control.agentReply(threadId, { userId: USER_ID, text: 'x', fileIds: ['999'] }),
    ).rejects.toMatchObject({ status: 404 });
    await sandbox.control.agentReply(threadId, {
      userId: USER_ID,
      text: 'Your invoice',
      fileIds: [file.body.id],
    });

    const outgoing = await outgoingWebhook(receiver);
    expect(outgoing.message.attachments).toEqual([
      { type: 'FILE', fileId: file.body.id, fileUsageType: 'OTHER', name: 'invoice.pdf', url: file.body.url },
    ]);
    const signed = await sandbox.request('GET', `/files/v3/files/${file.body.id}/signed-url`, { token });
    expect(await (await fetch(signed.body.url)).text()).toBe('voice-note');
  });

  it('refuses a rep attachment of a MIME type or size the channel does not take, and sends nothing', async () => {
    const { token, threadId } = await customerThread({
      ...OPAQUE_CAPABILITIES,
      allowedFileAttachmentMimeTypes: ['image/*'],
      maxFileAttachmentSizeBytes: 8,
    });
    const pdf = await sandbox.uploadFile(token, {
      name: 'a.pdf',
      type: 'application/pdf',
      bytes: Uint8Array.of(1),
    });
    const bigImage = await sandbox.uploadFile(token, {
      name: 'b.png',
      type: 'image/png',
      bytes: new Uint8Array(9),
    });
    const image = await sandbox.uploadFile(token, {
      name: 'c.png',
      type: 'image/png',
      bytes: new Uint8Array(8),
    });

    const refused = await sandbox.control
      .agentReply(threadId, { userId: USER_ID, text: 'x', fileIds: [pdf.body.id, bigImage.body.id] })
      .catch((error: unknown) => error as { status: number; body: any });
    expect(refused).toMatchObject({ status: 400, body: { category: 'VALIDATION_ERROR' } });
    expect(
      (
        refused as { body: { errors: { code: string; context: { propertyName: string[] } }[] } }
      ).body.errors.map((error) => [error.code, error.context.propertyName[0]]),
    ).toEqual([
      ['CAPABILITY_NOT_DECLARED', 'fileIds.0'],
      ['CAPABILITY_EXCEEDED', 'fileIds.1'],
    ]);
    await sandbox.control.agentReply(threadId, { userId: USER_ID, text: 'Here', fileIds: [image.body.id] });
    const outgoing = await outgoingWebhook(receiver);
    expect(outgoing.message.text).toBe('Here');
    expect(
      receiver.requests.filter((request) => request.rawBody.includes('OUTGOING_CHANNEL_MESSAGE_CREATED')),
    ).toHaveLength(1);
  });
});

/** A URL on 127.0.0.1 whose port was just closed, so connecting is refused. */
async function closedPortUrl(): Promise<string> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => {
    server.close(() => {
      resolve();
    });
  });
  return `http://127.0.0.1:${port}/hook`;
}

/** The first OUTGOING_CHANNEL_MESSAGE_CREATED body the receiver got, once it arrives. */
function outgoingWebhook(receiver: Receiver): Promise<Record<string, any>> {
  return expectEventually(
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
}
