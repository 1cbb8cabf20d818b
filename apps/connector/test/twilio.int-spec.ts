import { twilioSignature, type SandboxTwilioAccount } from '@inbox-bridge/provider-sandbox';
import {
  exampleGatewayMessagePublishedV1,
  type ConnectorCredentialsRejectedV1,
  type GatewayOutboundMessageRequestedV1,
  type ProviderMessageReceivedV1,
} from '@inbox-bridge/shared';
import * as testing from '@inbox-bridge/testing';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  startConnectorHarness,
  type ConnectorHarness,
  type StatusChanged,
} from './support/connector-harness.js';

const NUMBER = '+14155550100';

describe('connector ↔ Twilio SMS/MMS (provider sandbox)', () => {
  let h: ConnectorHarness;
  let account: SandboxTwilioAccount;
  const accountId = '9200001';

  const validate = (credentials: { accountSid: string; authToken: string; phoneNumber: string }) =>
    h.validate({ provider: 'twilio', ...credentials });

  const statuses = (hubspotMessageId: string) => h.statuses(hubspotMessageId);

  const reply = (to: string, overrides: Partial<GatewayOutboundMessageRequestedV1> = {}) =>
    h.requestReply({
      channelAccountId: accountId,
      conversationKey: to,
      recipient: { deliveryIdentifier: { type: 'HS_PHONE_NUMBER', value: to } },
      ...overrides,
    });

  const firstStatus = (hubspotMessageId: string) => h.firstStatus(hubspotMessageId);

  /** POSTs form parameters to the account's webhook (or its status callback), signed as Twilio signs them (§2.7). */
  const postSigned = (params: Record<string, string>, path = '') => {
    const url = `${h.baseUrl}/webhooks/twilio/${accountId}${path}`;
    return fetch(url, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        'x-twilio-signature': twilioSignature(account.auth_token, url, params),
      },
      body: new URLSearchParams(params).toString(),
    });
  };

  /** A second Twilio account with one number, connected as `channelAccountId` (answers once its row exists). */
  const connectOtherAccount = async (
    channelAccountId: string,
    number: string,
    options: { friendlyName: string; capabilities?: { mms: boolean } },
  ): Promise<SandboxTwilioAccount> => {
    const other = await h.client.twilioCreateAccount({ friendly_name: options.friendlyName });
    await h.client.twilioCreateNumber(other.sid, {
      phone_number: number,
      friendly_name: options.friendlyName,
      ...(options.capabilities === undefined ? {} : { capabilities: options.capabilities }),
    });
    const ok = await validate({ accountSid: other.sid, authToken: other.auth_token, phoneNumber: number });
    await h.publish('gateway.channel-account.connected.v1', {
      channelAccountId,
      hubspotChannelId: '5002',
      inboxId: '311',
      provider: 'twilio',
      name: options.friendlyName,
      credentialsRequestId: ok.requestId,
    });
    await testing.expectEventually(async () => {
      const rows = await h.db.dataSource.query<unknown[]>(
        `SELECT 1 FROM "${h.db.schema}".channel_accounts WHERE channel_account_id = $1`,
        [channelAccountId],
      );
      expect(rows).toHaveLength(1);
    });
    return other;
  };

  beforeAll(async () => {
    h = await startConnectorHarness('connector_tw');
    // The SID and token of the reference's examples (providers-api.md §2.6–2.7), so its payloads apply as they are.
    account = await h.client.twilioCreateAccount({
      sid: 'AC00000000000000000000000000000001',
      auth_token: '0123456789abcdef0123456789abcdef',
      friendly_name: 'Acme',
      type: 'Full',
    });
    await h.client.twilioCreateNumber(account.sid, {
      phone_number: NUMBER,
      friendly_name: 'Acme Support SMS',
    });
  });

  afterAll(async () => {
    await h.dispose();
  });

  it('validates SID, token and number against the account', async () => {
    const ok = await validate({
      accountSid: account.sid,
      authToken: account.auth_token,
      phoneNumber: NUMBER,
    });
    expect(ok).toMatchObject({
      ok: true,
      accountName: 'Acme Support SMS',
      deliveryIdentifier: { type: 'HS_PHONE_NUMBER', value: NUMBER },
    });
    const badToken = await validate({
      accountSid: account.sid,
      authToken: 'f'.repeat(32),
      phoneNumber: NUMBER,
    });
    expect(badToken).toMatchObject({ ok: false, error: { code: 'invalid-credentials' } });
    const otherNumber = await validate({
      accountSid: account.sid,
      authToken: account.auth_token,
      phoneNumber: '+14155550199',
    });
    expect(otherNumber).toMatchObject({ ok: false, error: { code: 'number-not-on-account' } });

    await h.publish('gateway.channel-account.connected.v1', {
      channelAccountId: accountId,
      hubspotChannelId: '5002',
      inboxId: '311',
      provider: 'twilio',
      name: 'Acme SMS',
      credentialsRequestId: ok.requestId,
    });
    await testing.expectEventually(async () => {
      expect((await h.twilioNumbers(account))[0]?.sms_url).toBe(`${h.baseUrl}/webhooks/twilio/${accountId}`);
    });
  });

  it('refuses a number that cannot text and an account that is not active (§2.5)', async () => {
    const other = await h.client.twilioCreateAccount({ friendly_name: 'Other' });
    await h.client.twilioCreateNumber(other.sid, {
      phone_number: '+14155550190',
      capabilities: { sms: false },
    });
    const credentials = { accountSid: other.sid, authToken: other.auth_token, phoneNumber: '+14155550190' };
    expect(await validate(credentials)).toMatchObject({ ok: false, error: { code: 'number-cannot-sms' } });
    await h.client.twilioSetAccountStatus(other.sid, 'suspended');
    expect(await validate(credentials)).toMatchObject({ ok: false, error: { code: 'account-not-active' } });
  });

  it('turns the reference inbound example (§2.6), signed for the connector URL, into the contract', async () => {
    const example: Record<string, string> = {
      ToCountry: 'US',
      ToState: 'CA',
      SmsMessageSid: 'MM5ab1c2d3e4f5a6b7c8d9e0f1a2b3c4d5',
      NumMedia: '1',
      ToCity: 'SAN FRANCISCO',
      FromZip: '94105',
      SmsSid: 'MM5ab1c2d3e4f5a6b7c8d9e0f1a2b3c4d5',
      FromState: 'CA',
      SmsStatus: 'received',
      FromCity: 'SAN FRANCISCO',
      Body: 'Hola, ¿tienen la factura?',
      FromCountry: 'US',
      To: '+14155550100',
      ToZip: '94107',
      NumSegments: '1',
      MessageSid: 'MM5ab1c2d3e4f5a6b7c8d9e0f1a2b3c4d5',
      AccountSid: 'AC00000000000000000000000000000001',
      From: '+14155550123',
      MediaContentType0: 'image/jpeg',
      MediaUrl0:
        'https://api.twilio.com/2010-04-01/Accounts/AC00000000000000000000000000000001/Messages/MM5ab1c2d3e4f5a6b7c8d9e0f1a2b3c4d5/Media/ME0f1e2d3c4b5a69788796a5b4c3d2e1f0',
      ApiVersion: '2010-04-01',
    };
    const response = await postSigned(example);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toContain('text/xml');
    expect(await h.received('MM5ab1c2d3e4f5a6b7c8d9e0f1a2b3c4d5')).toMatchObject({
      provider: 'twilio',
      channelAccountId: accountId,
      conversationKey: '+14155550123',
      sender: { id: '+14155550123', phoneNumber: '+14155550123' },
      text: 'Hola, ¿tienen la factura?',
      attachments: [
        {
          kind: 'image',
          media: {
            downloadRef: `media:${accountId}:MM5ab1c2d3e4f5a6b7c8d9e0f1a2b3c4d5/ME0f1e2d3c4b5a69788796a5b4c3d2e1f0`,
            mimeType: 'image/jpeg',
          },
        },
      ],
    });
  });

  it('publishes a signed inbound MMS with the sender as E.164 and streams its media', async () => {
    const image = Buffer.from('ffd8ffe000104a464946', 'hex');
    const inbound = await h.client.twilioCustomerSends({
      from: '+14155550123',
      to: NUMBER,
      body: 'Hola, ¿tienen la factura?',
      media: [{ content_type: 'image/jpeg', content_base64: image.toString('base64') }],
    });
    expect(inbound.attempts[0]).toMatchObject({ status: 200 });
    expect(inbound.attempts[0]?.warning).toBeUndefined();
    const message = await testing.expectEventually(() => {
      const found = h
        .messagesOf<ProviderMessageReceivedV1>('provider.message.received.v1')
        .find((m) => m.providerMessageId === inbound.message.sid);
      if (found === undefined) {
        throw new Error('not yet');
      }
      return found;
    });
    expect(message).toMatchObject({
      provider: 'twilio',
      conversationKey: '+14155550123',
      sender: { id: '+14155550123', phoneNumber: '+14155550123' },
      text: 'Hola, ¿tienen la factura?',
      attachments: [{ kind: 'image', media: { mimeType: 'image/jpeg' } }],
    });
    const ref = (message.attachments[0] as { media: { downloadRef: string } }).media.downloadRef;
    const media = await fetch(h.mediaLink(ref));
    expect(media.status).toBe(200);
    expect(Buffer.from(await media.arrayBuffer()).equals(image)).toBe(true);

    // Like Twilio, the sandbox can redirect to a pre-signed URL that refuses credentials: they must not follow.
    await h.client.twilioSetSettings({ media_redirect: true });
    const redirected = await fetch(h.mediaLink(ref));
    await h.client.twilioSetSettings({ media_redirect: false });
    expect(redirected.status).toBe(200);
    expect(Buffer.from(await redirected.arrayBuffer()).equals(image)).toBe(true);

    // Twilio retries a webhook on connection errors: the same MessageSid is a duplicate.
    const again = await postSigned(inbound.params);
    expect(again.status).toBe(200);
    expect(await again.text()).toContain('<Response></Response>');
    expect(
      h
        .messagesOf<ProviderMessageReceivedV1>('provider.message.received.v1')
        .filter((m) => m.providerMessageId === inbound.message.sid),
    ).toHaveLength(1);
  });

  it('accepts a webhook and status callbacks Twilio signed over the URL without its port (§2.7)', async () => {
    await h.client.twilioSetSettings({ signature_url_port: 'without_port' });
    try {
      const inbound = await h.client.twilioCustomerSends({
        from: '+14155550123',
        to: NUMBER,
        body: 'signed without the port',
      });
      const withoutPort = `${h.baseUrl.replace(/:\d+$/, '')}/webhooks/twilio/${accountId}`;
      expect(inbound.attempts[0]).toMatchObject({
        status: 200,
        signature: twilioSignature(account.auth_token, withoutPort, inbound.params),
      });
      expect(await h.received(inbound.message.sid)).toMatchObject({ text: 'signed without the port' });

      const sent = await firstStatus(await reply('+14155550123', { text: 'reported', richText: undefined }));
      await testing.expectEventually(async () => {
        const callbacks = (await h.client.twilioWebhooks()).filter(
          (attempt) => attempt.kind === 'status_callback' && attempt.messageSid === sent.providerMessageId,
        );
        expect(callbacks.map((attempt) => `${attempt.params['MessageStatus']}:${attempt.status}`)).toEqual([
          'sent:204',
          'delivered:204',
        ]);
      });
    } finally {
      await h.client.twilioSetSettings({ signature_url_port: 'as_configured' });
    }
  });

  it('refuses a bad or missing X-Twilio-Signature with 401 problem+json, status callbacks included', async () => {
    const response = await fetch(`${h.baseUrl}/webhooks/twilio/${accountId}`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-twilio-signature': 'bm90IGl0' },
      body: new URLSearchParams({ AccountSid: account.sid, From: '+14155550123', Body: 'forged' }).toString(),
    });
    expect(response.status).toBe(401);
    expect(response.headers.get('content-type')).toContain('application/problem+json');
    const status = await fetch(`${h.baseUrl}/webhooks/twilio/${accountId}/status`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        AccountSid: account.sid,
        MessageSid: `SM${'0'.repeat(32)}`,
        MessageStatus: 'failed',
        ErrorCode: '30004',
      }).toString(),
    });
    expect(status.status).toBe(401);
  });

  it('refuses a signed status callback whose MessageSid is not a Twilio SID with a 400 naming the field', async () => {
    for (const messageSid of ['x'.repeat(100_000), 'SM\u0000', '']) {
      const response = await postSigned(
        { AccountSid: account.sid, MessageSid: messageSid, MessageStatus: 'delivered' },
        '/status',
      );
      expect(response.status).toBe(400);
      expect(await response.json()).toMatchObject({ errors: [{ field: 'MessageSid' }] });
    }
    const missingStatus = await postSigned(
      { AccountSid: account.sid, MessageSid: `SM${'0'.repeat(32)}` },
      '/status',
    );
    expect(missingStatus.status).toBe(400);
    expect(await missingStatus.json()).toMatchObject({ errors: [{ field: 'MessageStatus' }] });
  });

  it('refuses a signed failed status callback whose ErrorCode is not a Twilio error code with a 400 naming the field', async () => {
    for (const errorCode of ['3\u00000', '9'.repeat(65), '30003; DROP TABLE x']) {
      const response = await postSigned(
        {
          AccountSid: account.sid,
          MessageSid: `SM${randomBytes(16).toString('hex')}`,
          MessageStatus: 'failed',
          ErrorCode: errorCode,
        },
        '/status',
      );
      expect(response.status).toBe(400);
      expect(response.headers.get('content-type')).toContain('application/problem+json');
      expect(await response.json()).toMatchObject({ errors: [{ field: 'ErrorCode' }] });
    }
  });

  it('refuses a signed SMS whose Body holds a NUL character with a 400 naming the field (it could not be stored downstream)', async () => {
    const response = await postSigned({
      AccountSid: account.sid,
      MessageSid: `SM${randomBytes(16).toString('hex')}`,
      From: '+14155550199',
      To: NUMBER,
      Body: 'hello\u0000there',
      NumMedia: '0',
    });
    expect(response.status).toBe(400);
    expect(response.headers.get('content-type')).toContain('application/problem+json');
    expect(await response.json()).toMatchObject({ errors: [{ field: 'Body' }] });
  });

  it('passes a MediaContentType holding a control character on as application/octet-stream, never as it came', async () => {
    const messageSid = `MM${randomBytes(16).toString('hex')}`;
    const response = await postSigned({
      AccountSid: account.sid,
      MessageSid: messageSid,
      From: '+14155550199',
      To: NUMBER,
      Body: '',
      NumMedia: '1',
      MediaContentType0: 'image/png; name=a\u0000b',
      MediaUrl0: `https://api.twilio.com/2010-04-01/Accounts/${account.sid}/Messages/${messageSid}/Media/ME${randomBytes(16).toString('hex')}`,
    });
    expect(response.status).toBe(200);
    expect(await h.received(messageSid)).toMatchObject({
      attachments: [{ media: { mimeType: 'application/octet-stream' } }],
    });
  });

  it('sends a reply, reports SENT once, and maps a later undelivered callback to FAILED with a reason', async () => {
    const delivered = await reply('+14155550123', { text: 'Your order ships today', richText: undefined });
    expect(await firstStatus(delivered)).toMatchObject({
      status: 'SENT',
      providerMessageId: expect.stringMatching(/^SM/),
    });
    await testing.expectEventually(async () => {
      const callbacks = (await h.client.twilioWebhooks()).filter(
        (w) => w.kind === 'status_callback' && w.params['MessageStatus'] === 'delivered',
      );
      expect(callbacks.length).toBeGreaterThan(0);
      expect(callbacks.every((w) => w.status === 204)).toBe(true);
    });
    expect(statuses(delivered)).toHaveLength(1);
    const thread = await h.client.twilioCustomerMessages('+14155550123');
    expect(thread.at(-1)).toMatchObject({
      body: 'Your order ships today',
      from: NUMBER,
      direction: 'outbound-api',
    });

    await h.client.twilioSetRecipientOutcome('+14155550124', 'undelivered', 30003);
    const undelivered = await reply('+14155550124', { text: 'Hello?', richText: undefined });
    const failed = await testing.expectEventually(() => {
      const found = statuses(undelivered).find((s) => s.status === 'FAILED');
      if (found === undefined) {
        throw new Error('not failed yet');
      }
      return found;
    });
    expect(failed).toMatchObject({ providerErrorCode: '30003' });
    expect(failed.failureReason).toContain('unreachable');
  });

  it('applies a failed callback that overtakes the send it reports on (parked until the send commits)', async () => {
    await h.client.twilioSetRecipientOutcome('+14155550126', 'failed', 30004);
    const id = await reply('+14155550126', { text: 'Blocked?', richText: undefined });
    const all = await testing.expectEventually(() => {
      const found = statuses(id);
      expect(found.map((s) => s.status)).toEqual(['SENT', 'FAILED']);
      return found;
    });
    expect(all[1]).toMatchObject({
      providerErrorCode: '30004',
      providerMessageId: all[0]?.providerMessageId,
    });
    expect(all[1]?.failureReason).toContain('blocked');
  });

  it('keeps the status HubSpot sees from going back and publishes each change once when Twilio reorders and repeats callbacks', async () => {
    await h.client.twilioSetStatusCallbackFault(account.sid, { reorder: true, duplicate: true });
    const unreachable = '+14155550141';
    await h.client.twilioSetRecipientOutcome(unreachable, 'undelivered', 30003);
    const failing = await reply(unreachable, { text: 'Are you there?', richText: undefined });
    const delivered = await reply('+14155550142', { text: 'It ships today', richText: undefined });
    const failingSid = (await firstStatus(failing)).providerMessageId;
    const deliveredSid = (await firstStatus(delivered)).providerMessageId;
    await h.client.twilioClearFaults(account.sid);
    await testing.expectEventually(async () => {
      const answered = async (sid: string | undefined) =>
        (await h.client.twilioWebhooks())
          .filter((w) => w.kind === 'status_callback' && w.messageSid === sid)
          .map((w) => `${w.params['MessageStatus']}:${w.status}`);
      // The final status overtakes `sent`, and each arrives twice.
      expect(await answered(failingSid)).toEqual([
        'undelivered:204',
        'undelivered:204',
        'sent:204',
        'sent:204',
      ]);
      expect(await answered(deliveredSid)).toEqual([
        'delivered:204',
        'delivered:204',
        'sent:204',
        'sent:204',
      ]);
    });

    // Whatever those callbacks published has left the outbox and reached the capture before this marker.
    await testing.expectEventually(async () => {
      const rows = await h.db.dataSource.query<unknown[]>(`SELECT 1 FROM "${h.db.schema}".outbox`);
      expect(rows).toEqual([]);
    });
    const marker = await h.publish('gateway.message.published.v1', exampleGatewayMessagePublishedV1());
    await testing.expectEventually(() => {
      expect(h.published.messages.some((message) => message.messageId === marker)).toBe(true);
    });
    expect(statuses(failing).map((s) => s.status)).toEqual(['SENT', 'FAILED']);
    expect(statuses(failing)[1]).toMatchObject({ providerMessageId: failingSid, providerErrorCode: '30003' });
    expect(statuses(delivered).map((s) => s.status)).toEqual(['SENT']);
  });

  it('a reply longer than one SMS goes out as several; the carrier filtering a later one fails the reply', async () => {
    const customer = '+14155550127';
    // The carrier filters messages with this word; it falls in the second SMS.
    await h.client.twilioSetRecipientOutcome(customer, 'undelivered', 30007, 'word350');
    const words = Array.from({ length: 400 }, (_, index) => `word${index}`).join(' ');
    const id = await reply(customer, { text: words, richText: undefined });
    const sent = await firstStatus(id);
    const messages = await h.client.twilioCustomerMessages(customer);
    expect(messages).toHaveLength(2);
    expect(messages.map((message) => message.body).join(' ')).toBe(words);
    const [first, second] = messages.map((message) => message.sid);
    expect(sent).toMatchObject({ status: 'SENT', providerMessageId: first });

    const failed = await testing.expectEventually(() => {
      const [, change] = statuses(id);
      expect(change).toBeDefined();
      return change;
    });
    expect(failed).toMatchObject({ status: 'FAILED', providerMessageId: first, providerErrorCode: '30007' });
    expect(failed?.failureReason).toContain('filtered');
    // Both messages' callbacks came (the first: delivered); the reply stays FAILED, its status reads settled.
    await testing.expectEventually(async () => {
      const callbacks = (await h.client.twilioWebhooks()).filter(
        (attempt) =>
          attempt.kind === 'status_callback' &&
          (attempt.messageSid === first || attempt.messageSid === second),
      );
      expect(
        callbacks
          .map((attempt) => `${attempt.messageSid === first ? 1 : 2}:${attempt.params['MessageStatus']}`)
          .sort(),
      ).toEqual(['1:delivered', '1:sent', '2:sent', '2:undelivered']);
    });
    const [row] = await h.db.dataSource.query<{ status: string; status_check_at: Date | null }[]>(
      `SELECT status, status_check_at FROM "${h.db.schema}".outbound_messages WHERE hubspot_message_id = $1`,
      [id],
    );
    expect(row).toEqual({ status: 'FAILED', status_check_at: null });
    expect(statuses(id)).toHaveLength(2);
    await h.client.twilioSetRecipientOutcome(customer, null);
  });

  it('sends MMS media through a short-lived public link Twilio fetches', async () => {
    h.gatewayFiles.files.set('hubspot-file:81', {
      contentType: 'image/png',
      body: Buffer.from('89504e470d0a1a0a0000', 'hex'),
    });
    const id = await reply('+14155550123', {
      text: 'Label attached',
      richText: undefined,
      attachments: [
        { kind: 'image', downloadRef: 'hubspot-file:81', mimeType: 'image/png', fileName: 'label.png' },
      ],
    });
    expect(await firstStatus(id)).toMatchObject({
      status: 'SENT',
      providerMessageId: expect.stringMatching(/^MM/),
    });
    const sent = (await h.client.twilioCustomerMessages('+14155550123')).at(-1);
    expect(sent).toMatchObject({ num_media: '1', body: 'Label attached' });
    expect(sent?.media?.[0]?.content_type).toBe('image/png');
    expect(h.gatewayFiles.requests).toContain('hubspot-file:81');
  });

  it('fails a reply with files from a number without MMS at once, saying so, and still texts from it (§2.5)', async () => {
    const smsOnlyAccountId = '9200088';
    const number = '+14155550180';
    await connectOtherAccount(smsOnlyAccountId, number, {
      friendlyName: 'SMS only',
      capabilities: { mms: false },
    });
    h.gatewayFiles.files.set('hubspot-file:85', {
      contentType: 'image/png',
      body: Buffer.from('89504e470d0a1a0a0000', 'hex'),
    });
    const customer = '+14155550181';
    const replyFromSmsOnly = async (overrides: Partial<GatewayOutboundMessageRequestedV1>) =>
      firstStatus(
        await reply(customer, { channelAccountId: smsOnlyAccountId, richText: undefined, ...overrides }),
      );

    const withFile = await replyFromSmsOnly({
      text: 'Label attached',
      attachments: [
        { kind: 'image', downloadRef: 'hubspot-file:85', mimeType: 'image/png', fileName: 'label.png' },
      ],
    });
    expect(withFile).toMatchObject({ status: 'FAILED', providerErrorCode: 'NUMBER_CANNOT_MMS' });
    expect(withFile.failureReason).toContain(`${number} cannot send MMS`);
    expect(h.gatewayFiles.requests).not.toContain('hubspot-file:85');
    expect(await h.client.twilioCustomerMessages(customer)).toEqual([]);
    expect(await replyFromSmsOnly({ text: 'The label follows by email', attachments: [] })).toMatchObject({
      status: 'SENT',
    });
  });

  it('reports an opted-out customer (21610) at once and retries through a 429', async () => {
    await h.client.twilioSetOptOut('+14155550125', NUMBER, true);
    const optedOut = await firstStatus(await reply('+14155550125', { text: 'Hi', richText: undefined }));
    expect(optedOut).toMatchObject({ status: 'FAILED', providerErrorCode: '21610' });
    expect(optedOut.failureReason).toContain('STOP');

    await h.client.twilioSetMessagesFault(account.sid, { status: 429, times: 1 });
    const afterBusy = await firstStatus(
      await reply('+14155550123', { text: 'After the busy signal', richText: undefined }),
    );
    expect(afterBusy.status).toBe('SENT');
  });

  it("retries a reply refused because the number's queue was full (21611, §2.10 'later') and texts it once", async () => {
    const customer = '+14155550129';
    const retried = () => h.counter('connector_outbound_total', { provider: 'twilio', result: 'retried' });
    const retriedBefore = await retried();
    await h.client.twilioSetMessagesFault(account.sid, { status: 400, code: 21611, times: 1 });
    const id = await reply(customer, { text: 'once the queue drained', richText: undefined });
    const sent = await firstStatus(id);
    const thread = await h.client.twilioCustomerMessages(customer);
    expect(thread.map((message) => message.body)).toEqual(['once the queue drained']);
    expect(sent).toMatchObject({ status: 'SENT', providerMessageId: thread[0]?.sid });
    expect(await retried()).toBe(retriedBefore + 1);
  });

  it('keeps only media SIDs of this account and message and never calls the host a MediaUrl names (SSRF)', async () => {
    const attacker = createServer((request, response) => {
      attackerRequests.push(request.url ?? '');
      response.writeHead(200, { 'content-type': 'image/jpeg' }).end('ATTACKER-BYTES');
    });
    const attackerRequests: string[] = [];
    await new Promise<void>((resolve) => attacker.listen(0, '127.0.0.1', resolve));
    const attackerOrigin = `http://127.0.0.1:${(attacker.address() as AddressInfo).port}`;
    try {
      const real = await h.client.twilioCustomerSends({
        from: '+14155550123',
        to: NUMBER,
        media: [{ content_type: 'image/jpeg' }],
      });
      const realMedia = real.media[0]?.sid ?? '';
      const messageSid = `MM${randomBytes(16).toString('hex')}`;
      const params: Record<string, string> = {
        MessageSid: messageSid,
        SmsSid: messageSid,
        AccountSid: account.sid,
        From: '+14155550123',
        To: NUMBER,
        Body: 'three links',
        NumMedia: '3',
        // This account's media path on a host of the sender's choosing: kept, but fetched from Twilio's API.
        MediaUrl0: `${attackerOrigin}/2010-04-01/Accounts/${account.sid}/Messages/${messageSid}/Media/${realMedia}`,
        MediaContentType0: 'image/jpeg',
        MediaUrl1: 'http://169.254.169.254/latest/meta-data/iam/security-credentials/',
        MediaContentType1: 'text/plain',
        MediaUrl2: `https://api.twilio.com/2010-04-01/Accounts/AC${'9'.repeat(32)}/Messages/${messageSid}/Media/ME${'1'.repeat(32)}`,
        MediaContentType2: 'image/png',
        SmsStatus: 'received',
        ApiVersion: '2010-04-01',
      };
      const response = await postSigned(params);
      expect(response.status).toBe(200);
      const message = await h.received(messageSid);
      expect(message.attachments).toEqual([
        {
          kind: 'image',
          media: { downloadRef: `media:${accountId}:${messageSid}/${realMedia}`, mimeType: 'image/jpeg' },
        },
        { kind: 'unsupported', description: 'The customer sent a file that could not be read' },
        { kind: 'unsupported', description: 'The customer sent a file that could not be read' },
      ]);
      // Twilio has no such media under this message: 404, and the named host saw nothing.
      const media = await fetch(h.mediaLink(`media:${accountId}:${messageSid}/${realMedia}`));
      expect(media.status).toBe(404);
      expect(attackerRequests).toEqual([]);
    } finally {
      await new Promise<void>((resolve) => {
        attacker.close(() => {
          resolve();
        });
      });
    }
  });

  it('answers 413 for customer media over the MMS limit and fails replies Twilio cannot carry at once', async () => {
    const big = await h.client.twilioCustomerSends({
      from: '+14155550123',
      to: NUMBER,
      media: [{ content_type: 'image/jpeg', size_bytes: 5 * 1024 * 1024 + 1 }],
    });
    const received = await h.received(big.message.sid);
    const ref = (received.attachments[0] as { media: { downloadRef: string } }).media.downloadRef;
    const tooLarge = await fetch(h.mediaLink(ref));
    expect(tooLarge.status).toBe(413);
    expect(tooLarge.headers.get('content-type')).toContain('application/problem+json');

    const sentBefore = (await h.client.twilioCustomerMessages('+14155550127')).length;
    const replyWithFile = async (attachment: GatewayOutboundMessageRequestedV1['attachments'][number]) =>
      firstStatus(
        await reply('+14155550127', { text: 'a file', richText: undefined, attachments: [attachment] }),
      );
    const declared = await replyWithFile({
      kind: 'video',
      downloadRef: 'hubspot-file:82',
      mimeType: 'video/mp4',
      fileName: 'tour.mp4',
      sizeBytes: 6 * 1024 * 1024,
    });
    expect(declared).toMatchObject({ status: 'FAILED', providerErrorCode: 'FILE_TOO_LARGE' });
    expect(declared.failureReason).toContain('tour.mp4');

    const wrongType = await replyWithFile({
      kind: 'file',
      downloadRef: 'hubspot-file:83',
      mimeType: 'application/zip',
      fileName: 'logs.zip',
    });
    expect(wrongType).toMatchObject({ status: 'FAILED', providerErrorCode: 'UNSUPPORTED_MEDIA_TYPE' });
    expect(wrongType.failureReason).toContain('application/zip');
    expect(await h.client.twilioCustomerMessages('+14155550127')).toHaveLength(sentBefore);

    // Size not announced: Twilio fetches the public link, finds more than 5 MB and refuses with 21620.
    h.gatewayFiles.files.set('hubspot-file:84', {
      contentType: 'image/jpeg',
      body: Buffer.alloc(5 * 1024 * 1024 + 1, 1),
    });
    const undeclared = await replyWithFile({
      kind: 'image',
      downloadRef: 'hubspot-file:84',
      mimeType: 'image/jpeg',
      fileName: 'scan.jpg',
    });
    expect(undeclared).toMatchObject({ status: 'FAILED', providerErrorCode: '21620' });
    expect(undeclared.failureReason).toContain('could not fetch');
  });

  it('retries through Twilio outages (503, 500 after sending) without texting twice, and keeps to 1 send per second', async () => {
    await h.client.twilioSetMessagesFault(account.sid, { status: 503, times: 1, create_anyway: false });
    const before = (await h.client.twilioCustomerMessages('+14155550128')).length;
    const afterOutage = await firstStatus(
      await reply('+14155550128', { text: 'after the outage', richText: undefined }),
    );
    expect(afterOutage.status).toBe('SENT');
    expect((await h.client.twilioCustomerMessages('+14155550128')).slice(before).map((m) => m.body)).toEqual([
      'after the outage',
    ]);

    // A 500 after Twilio created the message anyway (§2.3): the retry finds it instead of texting twice.
    await h.client.twilioSetMessagesFault(account.sid, { status: 500, times: 1, create_anyway: true });
    const sentAnyway = await firstStatus(
      await reply('+14155550128', { text: 'created despite the 500', richText: undefined }),
    );
    const thread = (await h.client.twilioCustomerMessages('+14155550128')).filter(
      (m) => m.body === 'created despite the 500',
    );
    expect(thread).toHaveLength(1);
    expect(sentAnyway).toMatchObject({ status: 'SENT', providerMessageId: thread[0]?.sid });

    // Long-code throughput (§2.9): a burst of 3, then one per second per account.
    const ids: string[] = [];
    for (let index = 0; index < 6; index += 1) {
      ids.push(await reply('+14155550128', { text: `paced ${index}`, richText: undefined }));
    }
    const sentAt: number[] = [];
    for (const id of ids) {
      const status = (await firstStatus(id)) as StatusChanged & { occurredAt: string };
      expect(status.status).toBe('SENT');
      sentAt.push(Date.parse(status.occurredAt));
    }
    expect(Math.max(...sentAt) - Math.min(...sentAt)).toBeGreaterThanOrEqual(2_000);
  });

  it('deauthorizes an account whose auth token was rotated (20003) and reports it once', async () => {
    const rotatingAccountId = '9200077';
    const rotating = await connectOtherAccount(rotatingAccountId, '+14155550170', {
      friendlyName: 'Rotating SMS',
    });
    await h.client.twilioRotateAuthToken(rotating.sid);
    const replyTo = async (text: string) =>
      firstStatus(
        await h.requestReply({
          channelAccountId: rotatingAccountId,
          conversationKey: '+14155550171',
          recipient: { deliveryIdentifier: { type: 'HS_PHONE_NUMBER', value: '+14155550171' } },
          text,
          richText: undefined,
          attachments: [],
        }),
      );
    const refused = await replyTo('after the rotation');
    expect(refused).toMatchObject({ status: 'FAILED', providerErrorCode: '20003' });
    expect(refused.failureReason).toContain('reconnect the account');
    const rejections = () =>
      h
        .messagesOf<ConnectorCredentialsRejectedV1>('connector.channel-account.credentials-rejected.v1')
        .filter((event) => event.channelAccountId === rotatingAccountId);
    await testing.expectEventually(() => {
      expect(rejections()).toHaveLength(1);
    });
    expect(rejections()[0]).toMatchObject({ provider: 'twilio', providerErrorCode: '20003' });
    expect(await replyTo('still rotated')).toMatchObject({
      status: 'FAILED',
      providerErrorCode: 'ACCOUNT_DEAUTHORIZED',
    });
    expect(rejections()).toHaveLength(1);
  });

  it('refuses inbound (503, for the comparison to bring back) and fails replies while HubSpot has the account deauthorized, and unhooks the number and forgets its data on purge', async () => {
    await h.publish('gateway.channel-account.updated.v1', {
      channelAccountId: accountId,
      authorized: false,
      changes: ['deauthorized'],
    });
    await testing.expectEventually(async () => {
      const rows = await h.db.dataSource.query<{ authorized: boolean }[]>(
        `SELECT authorized FROM "${h.db.schema}".channel_accounts WHERE channel_account_id = $1`,
        [accountId],
      );
      expect(rows[0]?.authorized).toBe(false);
    });
    const inbound = await h.client.twilioCustomerSends({ from: '+14155550123', to: NUMBER, body: 'anyone?' });
    expect(inbound.attempts[0]).toMatchObject({ status: 503 });
    const refused = await firstStatus(
      await reply('+14155550123', { text: 'while deauthorized', richText: undefined }),
    );
    expect(refused).toMatchObject({ status: 'FAILED', providerErrorCode: 'ACCOUNT_DEAUTHORIZED' });
    expect(
      h
        .messagesOf<ProviderMessageReceivedV1>('provider.message.received.v1')
        .some((m) => m.providerMessageId === inbound.message.sid),
    ).toBe(false);

    // The purge also forgets the ids of the messages the account's long replies were sent as.
    const partsOfAccount = async () =>
      (
        await h.db.dataSource.query<{ n: number }[]>(
          `SELECT count(*)::int AS n FROM "${h.db.schema}".reply_message_parts WHERE channel_account_id = $1`,
          [accountId],
        )
      )[0]?.n;
    expect(await partsOfAccount()).toBeGreaterThan(0);
    await h.publish('gateway.channel-account.purged.v1', { channelAccountId: accountId });
    await testing.expectEventually(async () => {
      expect((await h.twilioNumbers(account))[0]?.sms_url).toBe('');
      expect(await partsOfAccount()).toBe(0);
    });
  });
});
