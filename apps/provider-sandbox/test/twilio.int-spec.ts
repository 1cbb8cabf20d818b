import { expectEventually } from '@inbox-bridge/testing';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { SandboxTwilioAccount } from '../src/client/sandbox-client.js';
import { twilioSignature } from '../src/twilio/signature.js';
import { closedPortUrl, startHarness, type Harness } from './harness.js';

interface FormRequest {
  readonly method: string;
  readonly path: string;
  readonly headers: IncomingHttpHeaders;
  readonly params: Record<string, string>;
}

const TWIML_ACK = {
  status: 200,
  contentType: 'text/xml',
  body: '<?xml version="1.0" encoding="UTF-8"?><Response></Response>',
};

/** A receiver for form-encoded Twilio webhooks that also serves static media files. */
class FormReceiver {
  readonly received: FormRequest[] = [];
  answer: { status: number; contentType?: string; body?: string } = { ...TWIML_ACK };
  readonly files = new Map<string, { contentType: string; bytes: Buffer }>();
  origin = '';
  private server?: Server;

  async start(): Promise<string> {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        const path = req.url ?? '/';
        const file = req.method === 'GET' ? this.files.get(path.slice(1)) : undefined;
        if (file !== undefined) {
          res.writeHead(200, { 'Content-Type': file.contentType }).end(file.bytes);
          return;
        }
        const params = Object.fromEntries(new URLSearchParams(Buffer.concat(chunks).toString('utf8')));
        this.received.push({ method: req.method ?? '', path, headers: req.headers, params });
        const headers =
          this.answer.contentType === undefined ? {} : { 'Content-Type': this.answer.contentType };
        res.writeHead(this.answer.status, headers).end(this.answer.body ?? '');
      });
    });
    await new Promise<void>((resolve) => this.server?.listen(0, '127.0.0.1', resolve));
    this.origin = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this.origin;
  }

  at(path: string): FormRequest[] {
    return this.received.filter((request) => request.path === path);
  }

  async stop(): Promise<void> {
    const server = this.server;
    server?.closeAllConnections();
    await new Promise<void>((resolve) => {
      if (server === undefined) {
        resolve();
        return;
      }
      server.close(() => {
        resolve();
      });
    });
  }
}

const basic = (user: string, password: string): string =>
  `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;

const CUSTOMER = '+14155550123';
const NUMBER = '+14155550100';
const JPEG = Buffer.from([0xff, 0xd8, 0xff, 0xe0, 1, 2, 3, 4]);

describe('Twilio Messaging emulator', () => {
  let h: Harness;
  let receiver: FormReceiver;
  let account: SandboxTwilioAccount;
  let auth: string;
  let api: string;

  const rest = async (
    path: string,
    init: { method?: string; form?: Record<string, string | string[]>; authorization?: string } = {},
  ): Promise<{ status: number; body: Record<string, unknown> }> => {
    const body = new URLSearchParams();
    for (const [key, value] of Object.entries(init.form ?? {})) {
      for (const item of Array.isArray(value) ? value : [value]) {
        body.append(key, item);
      }
    }
    const response = await fetch(path.startsWith('http') ? path : `${api}${path}`, {
      method: init.method ?? (init.form === undefined ? 'GET' : 'POST'),
      headers: {
        Authorization: init.authorization ?? auth,
        ...(init.form === undefined ? {} : { 'Content-Type': 'application/x-www-form-urlencoded' }),
      },
      ...(init.form === undefined ? {} : { body: body.toString() }),
    });
    const text = await response.text();
    return {
      status: response.status,
      body: (text === '' ? {} : JSON.parse(text)) as Record<string, unknown>,
    };
  };

  const send = (form: Record<string, string | string[]>) => rest('/Messages.json', { form });

  const expectSigned = (request: FormRequest, url: string): void => {
    expect(request.headers['x-twilio-signature']).toBe(
      twilioSignature(account.auth_token, url, request.params),
    );
    expect(request.headers['i-twilio-idempotency-token']).toEqual(expect.any(String));
  };

  beforeAll(async () => {
    h = await startHarness();
    receiver = new FormReceiver();
    await receiver.start();
  });
  afterAll(async () => {
    await h.sandbox.close();
    await receiver.stop();
  });
  beforeEach(async () => {
    await h.client.reset();
    receiver.received.length = 0;
    receiver.answer = { ...TWIML_ACK };
    account = await h.client.twilioCreateAccount({ friendly_name: 'Acme' });
    auth = basic(account.sid, account.auth_token);
    api = `${h.sandbox.baseUrl}/2010-04-01/Accounts/${account.sid}`;
    await h.client.twilioCreateNumber(account.sid, {
      phone_number: NUMBER,
      sms_url: `${receiver.origin}/sms?account=acct_1`,
    });
  });

  it('validates credentials and the number the way the connector does at connection time', async () => {
    const fetched = await rest('.json');
    expect(fetched.status).toBe(200);
    expect(fetched.body).toMatchObject({
      sid: account.sid,
      auth_token: account.auth_token,
      status: 'active',
      type: 'Full',
      uri: `/2010-04-01/Accounts/${account.sid}.json`,
    });
    expect(fetched.body.date_created).toMatch(/^\w{3}, \d{2} \w{3} \d{4} \d{2}:\d{2}:\d{2} \+0000$/);

    const wrong = await rest('.json', { authorization: basic(account.sid, '0'.repeat(32)) });
    expect(wrong).toEqual({
      status: 401,
      body: {
        code: 20003,
        message: 'Authenticate',
        more_info: 'https://www.twilio.com/docs/errors/20003',
        status: 401,
      },
    });
    expect((await rest('.json', { authorization: '' })).status).toBe(401);
    const other = await h.client.twilioCreateAccount();
    expect((await rest('.json', { authorization: basic(other.sid, other.auth_token) })).status).toBe(401);

    const key = await h.client.twilioCreateApiKey(account.sid);
    expect(key.sid).toMatch(/^SK[0-9a-f]{32}$/);
    expect((await rest('.json', { authorization: basic(key.sid, key.secret) })).status).toBe(200);
    expect((await rest('.json', { authorization: basic(key.sid, 'nope') })).status).toBe(401);

    const owned = await rest(`/IncomingPhoneNumbers.json?PhoneNumber=${encodeURIComponent(NUMBER)}`);
    expect(owned.body).toMatchObject({ page: 0, page_size: 50, start: 0, next_page_uri: null });
    expect(owned.body.incoming_phone_numbers).toEqual([
      expect.objectContaining({
        phone_number: NUMBER,
        account_sid: account.sid,
        sms_url: `${receiver.origin}/sms?account=acct_1`,
        sms_method: 'POST',
        capabilities: { voice: true, sms: true, mms: true, fax: false },
        sid: expect.stringMatching(/^PN[0-9a-f]{32}$/),
      }),
    ]);
    const wildcard = await rest(`/IncomingPhoneNumbers.json?PhoneNumber=${encodeURIComponent('+1415*')}`);
    expect(wildcard.body.incoming_phone_numbers).toHaveLength(1);
    const missing = await rest(
      `/IncomingPhoneNumbers.json?PhoneNumber=${encodeURIComponent('+14155550999')}`,
    );
    expect(missing.body.incoming_phone_numbers).toEqual([]);

    const unknown = await rest('/Messages/SM00000000000000000000000000000000.json');
    expect(unknown.status).toBe(404);
    expect(unknown.body).toMatchObject({ code: 20404, status: 404 });
  });

  it('rejects invalid sends with Twilio codes', async () => {
    const cases: [Record<string, string | string[]>, number][] = [
      [{ From: NUMBER, Body: 'x' }, 21604],
      [{ To: CUSTOMER, Body: 'x' }, 21603],
      [{ To: CUSTOMER, From: NUMBER }, 21602],
      [{ To: '+1555', From: NUMBER, Body: 'x' }, 21211],
      [{ To: CUSTOMER, From: '+14155550101', Body: 'x' }, 21606],
      [{ To: CUSTOMER, From: NUMBER, Body: 'a'.repeat(1601) }, 21617],
      [
        { To: CUSTOMER, From: NUMBER, MediaUrl: Array.from({ length: 11 }, (_, i) => `https://x.test/${i}`) },
        21623,
      ],
      [{ To: CUSTOMER, From: NUMBER, MediaUrl: 'ftp://x.test/a.jpg' }, 21620],
      [{ To: CUSTOMER, From: NUMBER, MediaUrl: `${receiver.origin}/missing.jpg` }, 21620],
    ];
    for (const [form, code] of cases) {
      const response = await send(form);
      expect({ code, response }).toEqual({
        code,
        response: {
          status: 400,
          body: expect.objectContaining({
            code,
            status: 400,
            more_info: `https://www.twilio.com/docs/errors/${code}`,
          }),
        },
      });
    }
    const json = await fetch(`${api}/Messages.json`, {
      method: 'POST',
      headers: { Authorization: auth, 'Content-Type': 'application/json' },
      body: JSON.stringify({ To: CUSTOMER, From: NUMBER, Body: 'x' }),
    });
    expect(json.status).toBe(400);
    expect(await json.json()).toMatchObject({ code: 21604 });
  });

  it('sends an SMS: 201 resource, then signed sent and delivered callbacks', async () => {
    const callback = `${receiver.origin}/status`;
    const created = await send({
      To: CUSTOMER,
      From: NUMBER,
      Body: 'Your order ships today',
      StatusCallback: callback,
    });
    expect(created.status).toBe(201);
    const sid = created.body.sid as string;
    expect(sid).toMatch(/^SM[0-9a-f]{32}$/);
    expect(created.body).toMatchObject({
      account_sid: account.sid,
      api_version: '2010-04-01',
      body: 'Your order ships today',
      date_sent: null,
      direction: 'outbound-api',
      error_code: null,
      error_message: null,
      from: NUMBER,
      messaging_service_sid: null,
      num_media: '0',
      num_segments: '1',
      price: null,
      price_unit: 'USD',
      status: 'queued',
      to: CUSTOMER,
      uri: `/2010-04-01/Accounts/${account.sid}/Messages/${sid}.json`,
      subresource_uris: expect.objectContaining({
        media: `/2010-04-01/Accounts/${account.sid}/Messages/${sid}/Media.json`,
      }),
    });

    const callbacks = await expectEventually(() => {
      const got = receiver.at('/status');
      expect(got.map((request) => request.params.MessageStatus)).toEqual(['sent', 'delivered']);
      return got;
    });
    for (const request of callbacks) {
      expectSigned(request, callback);
      expect(request.headers['content-type']).toBe('application/x-www-form-urlencoded');
      expect(request.params).toMatchObject({
        AccountSid: account.sid,
        ApiVersion: '2010-04-01',
        From: NUMBER,
        To: CUSTOMER,
        MessageSid: sid,
        SmsSid: sid,
        SmsStatus: request.params.MessageStatus,
      });
      expect(request.params.ErrorCode).toBeUndefined();
    }
    expect(callbacks[1]?.params.RawDlrDoneDate).toMatch(/^\d{10}$/);

    const fetched = await rest(`/Messages/${sid}.json`);
    expect(fetched.body).toMatchObject({ status: 'delivered', date_sent: expect.any(String) });
    const listed = await rest(`/Messages.json?To=${encodeURIComponent(CUSTOMER)}&PageSize=1`);
    expect(listed.body).toMatchObject({ page_size: 1, next_page_uri: null });
    expect((listed.body.messages as { sid: string }[]).map((message) => message.sid)).toEqual([sid]);
    const customerView = await h.client.twilioCustomerMessages(CUSTOMER);
    expect(customerView.map((message) => message.body)).toEqual(['Your order ships today']);
  });

  it('reports unreachable and blocked recipients with async error codes', async () => {
    const callback = `${receiver.origin}/status`;
    await h.client.twilioSetRecipientOutcome(CUSTOMER, 'undelivered');
    await h.client.twilioSetRecipientOutcome('+14155550124', 'failed', 30007);
    const undelivered = await send({ To: CUSTOMER, From: NUMBER, Body: 'hi', StatusCallback: callback });
    const failed = await send({ To: '+14155550124', From: NUMBER, Body: 'hi', StatusCallback: callback });
    await expectEventually(() => {
      const statuses = receiver
        .at('/status')
        .map((request) => `${request.params.MessageStatus}:${request.params.ErrorCode ?? ''}`);
      expect(statuses.sort()).toEqual(['failed:30007', 'sent:', 'undelivered:30003']);
    });
    for (const request of receiver.at('/status')) {
      expectSigned(request, callback);
    }
    expect((await rest(`/Messages/${undelivered.body.sid as string}.json`)).body).toMatchObject({
      status: 'undelivered',
      error_code: 30003,
      error_message: 'Unreachable destination handset',
    });
    expect((await rest(`/Messages/${failed.body.sid as string}.json`)).body).toMatchObject({
      status: 'failed',
      error_code: 30007,
    });
  });

  it('reorders and duplicates status callbacks under the fault, for the next `times` messages, the resource in order', async () => {
    const callback = `${receiver.origin}/status`;
    const fault = await h.client.twilioSetStatusCallbackFault(account.sid, {
      reorder: true,
      duplicate: true,
      times: 1,
    });
    expect(fault).toEqual({ reorder: true, duplicate: true, times: 1 });
    const faulty = await send({ To: CUSTOMER, From: NUMBER, Body: 'first', StatusCallback: callback });
    const callbacksOf = (sid: unknown) => receiver.at('/status').filter((r) => r.params.MessageSid === sid);
    const received = await expectEventually(() => {
      const got = callbacksOf(faulty.body.sid);
      // delivered overtakes sent; each event twice, with its own idempotency token.
      expect(got.map((r) => r.params.MessageStatus)).toEqual(['delivered', 'delivered', 'sent', 'sent']);
      return got;
    });
    for (const request of received) {
      expectSigned(request, callback);
    }
    const tokens = received.map((r) => r.headers['i-twilio-idempotency-token']);
    expect(tokens[0]).toBe(tokens[1]);
    expect(tokens[2]).toBe(tokens[3]);
    expect(tokens[0]).not.toBe(tokens[2]);
    expect((await rest(`/Messages/${faulty.body.sid as string}.json`)).body).toMatchObject({
      status: 'delivered',
      date_sent: expect.any(String),
    });

    // `times: 1` used up: the next message's callbacks come once each, in order.
    const next = await send({ To: CUSTOMER, From: NUMBER, Body: 'second', StatusCallback: callback });
    await expectEventually(() => {
      expect(callbacksOf(next.body.sid).map((r) => r.params.MessageStatus)).toEqual(['sent', 'delivered']);
    });
  });

  it('sends an MMS: fetches the media and serves it as Media resources behind Basic auth', async () => {
    receiver.files.set('a.jpg', { contentType: 'image/jpeg', bytes: JPEG });
    receiver.files.set('notes.exe', { contentType: 'application/x-msdownload', bytes: Buffer.from('MZ') });
    const rejected = await send({ To: CUSTOMER, From: NUMBER, MediaUrl: `${receiver.origin}/notes.exe` });
    expect(rejected.body).toMatchObject({ code: 21620 });

    const created = await send({
      To: CUSTOMER,
      From: NUMBER,
      Body: 'receipt',
      MediaUrl: `${receiver.origin}/a.jpg`,
    });
    expect(created.status).toBe(201);
    const sid = created.body.sid as string;
    expect(sid).toMatch(/^MM[0-9a-f]{32}$/);
    expect(created.body.num_media).toBe('1');
    const list = await rest(`/Messages/${sid}/Media.json`);
    const [media] = list.body.media_list as {
      sid: string;
      content_type: string;
      parent_sid: string;
      uri: string;
    }[];
    expect(media).toMatchObject({
      sid: expect.stringMatching(/^ME[0-9a-f]{32}$/),
      content_type: 'image/jpeg',
      parent_sid: sid,
      account_sid: account.sid,
    });
    expect((await rest(`/Messages/${sid}/Media/${media?.sid ?? ''}.json`)).body).toEqual(media);

    // A number without MMS (§2.5 `capabilities.mms`) texts, but media from it is refused before any fetch.
    const smsOnly = '+14155550109';
    await h.client.twilioCreateNumber(account.sid, { phone_number: smsOnly, capabilities: { mms: false } });
    const refusedMedia = await send({ To: CUSTOMER, From: smsOnly, MediaUrl: `${receiver.origin}/a.jpg` });
    expect(refusedMedia).toMatchObject({
      status: 400,
      body: {
        code: 21606,
        message: `The From phone number ${smsOnly} is not a valid, MMS-capable inbound phone number or short code for your account.`,
      },
    });
    expect((await send({ To: CUSTOMER, From: smsOnly, Body: 'text only' })).status).toBe(201);
    const contentUrl = `${api}/Messages/${sid}/Media/${media?.sid ?? ''}`;
    const content = await fetch(contentUrl, { headers: { Authorization: auth } });
    expect(content.headers.get('content-type')).toMatch(/^image\/jpeg/);
    expect(Buffer.from(await content.arrayBuffer())).toEqual(JPEG);
    expect((await fetch(contentUrl)).status).toBe(401);
  });

  it('redirects media content to a short-lived URL that refuses credentials when media_redirect is on', async () => {
    receiver.files.set('b.jpg', { contentType: 'image/jpeg', bytes: JPEG });
    const created = await send({ To: CUSTOMER, From: NUMBER, MediaUrl: `${receiver.origin}/b.jpg` });
    const sid = created.body.sid as string;
    const [media] = (await rest(`/Messages/${sid}/Media.json`)).body.media_list as { sid: string }[];
    const contentUrl = `${api}/Messages/${sid}/Media/${media?.sid ?? ''}`;
    expect(await h.client.twilioSetSettings({ media_redirect: true, media_url_ttl_ms: 200 })).toEqual({
      media_redirect: true,
      media_url_ttl_ms: 200,
      signature_url_port: 'as_configured',
    });

    const redirect = await fetch(contentUrl, { headers: { Authorization: auth }, redirect: 'manual' });
    expect(redirect.status).toBe(302);
    const location = redirect.headers.get('location') ?? '';
    expect(location).toMatch(/\/__sandbox\/twilio\/media-cdn\/[\w-]+$/);
    expect((await fetch(contentUrl, { redirect: 'manual' })).status).toBe(401);
    // Forwarding the Basic credentials to the pre-signed URL fails, as on Twilio's CDN.
    const forwarded = await fetch(location, { headers: { Authorization: auth } });
    expect(forwarded.status).toBe(400);
    expect(await forwarded.text()).toContain('Only one auth mechanism allowed');
    const plain = await fetch(location);
    expect(plain.status).toBe(200);
    expect(plain.headers.get('content-type')).toMatch(/^image\/jpeg/);
    expect(Buffer.from(await plain.arrayBuffer())).toEqual(JPEG);
    await new Promise((resolve) => setTimeout(resolve, 250));
    expect((await fetch(location)).status).toBe(403);

    await h.client.twilioSetSettings({ media_redirect: false });
    expect((await fetch(contentUrl, { headers: { Authorization: auth }, redirect: 'manual' })).status).toBe(
      200,
    );
  });

  it('posts inbound SMS and MMS to the sms_url, signed, with media behind Basic auth', async () => {
    const smsUrl = `${receiver.origin}/sms?account=acct_1`;
    const sms = await h.client.twilioCustomerSends({
      from: CUSTOMER,
      to: NUMBER,
      body: 'Hola, ¿tienen la factura?',
    });
    expect(sms.attempts).toEqual([expect.objectContaining({ kind: 'inbound', status: 200, attempt: 1 })]);
    expect(sms.attempts[0]?.warning).toBeUndefined();
    const [request] = receiver.at('/sms?account=acct_1');
    expect(request?.params).toMatchObject({
      MessageSid: sms.message.sid,
      SmsSid: sms.message.sid,
      SmsMessageSid: sms.message.sid,
      AccountSid: account.sid,
      From: CUSTOMER,
      To: NUMBER,
      Body: 'Hola, ¿tienen la factura?',
      NumMedia: '0',
      NumSegments: '1',
      SmsStatus: 'received',
      ApiVersion: '2010-04-01',
    });
    expectSigned(request as FormRequest, smsUrl);

    receiver.answer = { status: 200, contentType: 'text/plain', body: 'ok' };
    const photo = Buffer.from('fake-png').toString('base64');
    const mms = await h.client.twilioCustomerSends({
      from: CUSTOMER,
      to: NUMBER,
      media: [{ content_type: 'image/png', content_base64: photo }, { content_type: 'image/gif' }],
    });
    expect(mms.message.sid).toMatch(/^MM[0-9a-f]{32}$/);
    expect(mms.attempts[0]?.warning).toMatch(/^12300/);
    const mmsRequest = receiver.at('/sms?account=acct_1')[1] as FormRequest;
    expectSigned(mmsRequest, smsUrl);
    expect(mmsRequest.params).toMatchObject({
      NumMedia: '2',
      MediaContentType0: 'image/png',
      MediaContentType1: 'image/gif',
      Body: '',
    });
    const mediaUrl = mmsRequest.params.MediaUrl0 ?? '';
    expect(mediaUrl).toBe(`${api}/Messages/${mms.message.sid}/Media/${mms.media[0]?.sid ?? ''}`);
    expect((await fetch(mediaUrl)).status).toBe(401);
    const content = await fetch(mediaUrl, { headers: { Authorization: auth } });
    expect(Buffer.from(await content.arrayBuffer()).toString()).toBe('fake-png');

    const firstPage = await rest(`/Messages.json?From=${encodeURIComponent(CUSTOMER)}&PageSize=1`);
    expect(firstPage.body).toMatchObject({
      page: 0,
      page_size: 1,
      start: 0,
      end: 0,
      previous_page_uri: null,
    });
    expect(firstPage.body.next_page_uri).toMatch(/Page=1/);
    const listed = await rest(`/Messages.json?From=${encodeURIComponent(CUSTOMER)}`);
    expect(
      (listed.body.messages as { direction: string; status: string }[]).map(
        (m) => `${m.direction}:${m.status}`,
      ),
    ).toEqual(['inbound:received', 'inbound:received']);
  });

  it('requests the fallback URL when the sms_url fails', async () => {
    const number = await h.client.twilioCreateNumber(account.sid, {
      phone_number: '+14155550102',
      sms_url: `${receiver.origin}/broken`,
      sms_fallback_url: `${receiver.origin}/fallback`,
    });
    receiver.answer = { status: 500, body: '' };
    const result = await h.client.twilioCustomerSends({
      from: CUSTOMER,
      to: number.phone_number,
      body: 'hi',
    });
    expect(
      result.attempts.map((attempt) => `${attempt.kind}:${attempt.status ?? attempt.error ?? ''}`),
    ).toEqual(['inbound:500', 'inbound_fallback:500']);
    expect(result.attempts[0]?.warning).toMatch(/^11217/);
    expectSigned(receiver.at('/fallback')[0] as FormRequest, `${receiver.origin}/fallback`);
    expect(await h.client.twilioWebhooks()).toHaveLength(2);

    // A refused connection is retried once at once (rc=1), then given up: no later redelivery.
    const down = await h.client.twilioCreateNumber(account.sid, {
      phone_number: '+14155550104',
      sms_url: await closedPortUrl(),
    });
    const refused = await h.client.twilioCustomerSends({ from: CUSTOMER, to: down.phone_number, body: 'hi' });
    expect(refused.attempts.map((attempt) => `${attempt.attempt}:${attempt.error ?? ''}`)).toEqual([
      '1:connection failed',
      '2:connection failed',
    ]);
    expect(refused.attempts[0]?.warning).toMatch(/^11205/);
    expect(refused.attempts[0]?.params.MessageSid).toBe(refused.message.sid);
  });

  it('injects 21611/429/5xx faults, enforces trial verification and fails a suspended account', async () => {
    await h.client.twilioSetMessagesFault(account.sid, { status: 429, times: 1 });
    const throttled = await send({ To: CUSTOMER, From: NUMBER, Body: 'x' });
    expect(throttled).toMatchObject({ status: 429, body: { code: 20429, status: 429 } });
    // The sender's queue is full (§2.9): refused synchronously, nothing created.
    await h.client.twilioSetMessagesFault(account.sid, { status: 400, code: 21611, times: 1 });
    expect(await send({ To: CUSTOMER, From: NUMBER, Body: 'queue full' })).toMatchObject({
      status: 400,
      body: {
        code: 21611,
        status: 400,
        message: `This 'From' number ${NUMBER} has exceeded the maximum number of queued messages`,
      },
    });
    expect((await send({ To: CUSTOMER, From: NUMBER, Body: 'x' })).status).toBe(201);

    await h.client.twilioSetMessagesFault(account.sid, { status: 500 });
    expect(await send({ To: CUSTOMER, From: NUMBER, Body: 'dup?' })).toMatchObject({
      status: 500,
      body: { code: 20500 },
    });
    await h.client.twilioClearFaults(account.sid);
    const sent = await h.client.twilioCustomerMessages(CUSTOMER);
    expect(sent.map((message) => message.body)).toEqual(['x', 'dup?']);

    const trial = await h.client.twilioCreateAccount({ type: 'Trial', verified_numbers: ['+14155550199'] });
    await h.client.twilioCreateNumber(trial.sid, { phone_number: '+14155550103' });
    const trialSend = (to: string) =>
      fetch(`${h.sandbox.baseUrl}/2010-04-01/Accounts/${trial.sid}/Messages.json`, {
        method: 'POST',
        headers: {
          Authorization: basic(trial.sid, trial.auth_token),
          'Content-Type': 'application/x-www-form-urlencoded',
        },
        body: new URLSearchParams({ To: to, From: '+14155550103', Body: 'x' }).toString(),
      });
    expect(await (await trialSend(CUSTOMER)).json()).toMatchObject({ code: 21608 });
    expect((await trialSend('+14155550199')).status).toBe(201);

    await h.client.twilioSetAccountStatus(account.sid, 'suspended');
    const created = await send({
      To: CUSTOMER,
      From: NUMBER,
      Body: 'x',
      StatusCallback: `${receiver.origin}/status`,
    });
    await expectEventually(() => {
      expect(receiver.at('/status').map((request) => request.params.ErrorCode)).toEqual(['30002']);
    });
    expect((await rest(`/Messages/${created.body.sid as string}.json`)).body).toMatchObject({
      status: 'failed',
      error_code: 30002,
    });
  });

  it("routes inbound through the number's TwiML App or Messaging Service when they own it, as Twilio does (§2.5)", async () => {
    const list = await rest(`/IncomingPhoneNumbers.json?PhoneNumber=${encodeURIComponent(NUMBER)}`);
    const [{ sid: numberSid }] = list.body.incoming_phone_numbers as [{ sid: string }];
    const paths = (): string[] => receiver.received.map((request) => request.path);

    // A TwiML App's SMS URL wins over the number's own.
    const app = await h.client.twilioCreateApplication(account.sid, { sms_url: `${receiver.origin}/app` });
    expect(app.sid).toMatch(/^AP[0-9a-f]{32}$/);
    const missing = `AP${'0'.repeat(32)}`;
    expect(
      await rest(`/IncomingPhoneNumbers/${numberSid}.json`, { form: { SmsApplicationSid: missing } }),
    ).toMatchObject({ status: 400, body: { code: 21420 } });
    const withApp = await rest(`/IncomingPhoneNumbers/${numberSid}.json`, {
      form: { SmsApplicationSid: app.sid },
    });
    expect(withApp.body).toMatchObject({
      sms_application_sid: app.sid,
      sms_url: `${receiver.origin}/sms?account=acct_1`,
    });
    const viaApp = await h.client.twilioCustomerSends({ from: CUSTOMER, to: NUMBER, body: 'to the app' });
    expect(viaApp.routed_to).toEqual({
      owner: 'application',
      sid: app.sid,
      url: `${receiver.origin}/app`,
      dropped: false,
    });
    expect(paths()).toEqual(['/app']);
    expect(viaApp.params.MessagingServiceSid).toBeUndefined();
    expectSigned(receiver.at('/app')[0] as FormRequest, `${receiver.origin}/app`);
    expect(await rest(`/Applications/${app.sid}.json`)).toMatchObject({
      status: 200,
      body: { sid: app.sid, sms_url: `${receiver.origin}/app`, sms_method: 'POST' },
    });
    expect(
      (await rest(`/Applications/${app.sid}.json`, { form: { SmsUrl: `${receiver.origin}/app2` } })).body,
    ).toMatchObject({ sms_url: `${receiver.origin}/app2` });
    await h.client.twilioCustomerSends({ from: CUSTOMER, to: NUMBER, body: 'to the app again' });
    expect(paths()).toEqual(['/app', '/app2']);

    // A Messaging Service that handles inbound wins over both, and the webhook names it.
    const services = `${h.sandbox.baseUrl}/v1/Services`;
    const service = await h.client.twilioCreateMessagingService(account.sid, {
      inbound_request_url: `${receiver.origin}/service`,
    });
    expect(service).toMatchObject({ use_inbound_webhook_on_number: false });
    expect((await fetch(`${services}/${service.sid}`)).status).toBe(401);
    const added = await rest(`${services}/${service.sid}/PhoneNumbers`, {
      form: { PhoneNumberSid: numberSid },
    });
    expect(added).toMatchObject({
      status: 201,
      body: {
        sid: numberSid,
        service_sid: service.sid,
        phone_number: NUMBER,
        capabilities: ['VOICE', 'SMS', 'MMS'],
      },
    });
    expect((await rest(services)).body).toMatchObject({
      services: [{ sid: service.sid, inbound_request_url: `${receiver.origin}/service` }],
      meta: { key: 'services', page: 0, next_page_url: null },
    });
    expect((await rest(`${services}/${service.sid}/PhoneNumbers`)).body).toMatchObject({
      phone_numbers: [{ sid: numberSid }],
      meta: { key: 'phone_numbers' },
    });
    expect((await rest(`${services}/${service.sid}/PhoneNumbers/${numberSid}`)).status).toBe(200);
    const viaService = await h.client.twilioCustomerSends({
      from: CUSTOMER,
      to: NUMBER,
      body: 'to the service',
    });
    expect(viaService.routed_to).toMatchObject({ owner: 'messaging_service', sid: service.sid });
    expect(viaService.message).toMatchObject({ messaging_service_sid: service.sid });
    const [serviceRequest] = receiver.at('/service');
    expect(serviceRequest?.params).toMatchObject({ MessagingServiceSid: service.sid, To: NUMBER });
    expectSigned(serviceRequest as FormRequest, `${receiver.origin}/service`);

    // "Defer to sender's webhook": the number's own configuration (here its app), still naming the service.
    const deferring = await rest(`${services}/${service.sid}`, {
      form: { UseInboundWebhookOnNumber: 'true' },
    });
    expect(deferring.body).toMatchObject({ use_inbound_webhook_on_number: true });
    const deferred = await h.client.twilioCustomerSends({ from: CUSTOMER, to: NUMBER, body: 'deferred' });
    expect(deferred.routed_to.owner).toBe('application');
    expect(receiver.at('/app2')[1]?.params).toMatchObject({ MessagingServiceSid: service.sid });

    // No inbound URL and no deferring: dropped, neither delivered nor listed.
    await rest(`${services}/${service.sid}`, {
      form: { UseInboundWebhookOnNumber: 'false', InboundRequestUrl: '' },
    });
    const before = receiver.received.length;
    const dropped = await h.client.twilioCustomerSends({ from: CUSTOMER, to: NUMBER, body: 'lost' });
    expect(dropped).toMatchObject({ attempts: [], routed_to: { owner: 'messaging_service', dropped: true } });
    expect(receiver.received).toHaveLength(before);
    expect((await h.client.twilioCustomerMessages(CUSTOMER)).map((message) => message.body)).not.toContain(
      'lost',
    );

    // One service per number (21712); removed from it, the number's app owns inbound again.
    const other = await h.client.twilioCreateMessagingService(account.sid);
    expect(
      await rest(`${services}/${other.sid}/PhoneNumbers`, { form: { PhoneNumberSid: numberSid } }),
    ).toMatchObject({ status: 400, body: { code: 21712 } });
    expect(
      (await rest(`${services}/${service.sid}/PhoneNumbers/${numberSid}`, { method: 'DELETE' })).status,
    ).toBe(204);
    const removed = await h.client.twilioCustomerSends({ from: CUSTOMER, to: NUMBER, body: 'app again' });
    expect(removed.routed_to.owner).toBe('application');
    expect(removed.params.MessagingServiceSid).toBeUndefined();

    // Another account sees none of it.
    const stranger = await h.client.twilioCreateAccount();
    const strangerAuth = basic(stranger.sid, stranger.auth_token);
    expect((await rest(`${services}/${service.sid}`, { authorization: strangerAuth })).status).toBe(404);
    expect((await rest(services, { authorization: strangerAuth })).body).toMatchObject({ services: [] });
  });

  it('re-points a number with SmsUrl/SmsMethod=GET and signs the GET URL without appended params', async () => {
    const list = await rest(`/IncomingPhoneNumbers.json?PhoneNumber=${encodeURIComponent(NUMBER)}`);
    const [number] = list.body.incoming_phone_numbers as { sid: string }[];
    const updated = await rest(`/IncomingPhoneNumbers/${number?.sid ?? ''}.json`, {
      form: { SmsUrl: `${receiver.origin}/get-hook`, SmsMethod: 'GET' },
    });
    expect(updated.body).toMatchObject({ sms_url: `${receiver.origin}/get-hook`, sms_method: 'GET' });
    const result = await h.client.twilioCustomerSends({ from: CUSTOMER, to: NUMBER, body: 'via GET' });
    const [request] = receiver.received;
    expect(request?.method).toBe('GET');
    const url = `${receiver.origin}${request?.path ?? ''}`;
    expect(new URL(url).searchParams.get('MessageSid')).toBe(result.message.sid);
    expect(request?.headers['x-twilio-signature']).toBe(twilioSignature(account.auth_token, url, {}));
  });

  it('honours STOP and START from the customer (21610 while opted out)', async () => {
    const stop = await h.client.twilioCustomerSends({ from: CUSTOMER, to: NUMBER, body: 'stop' });
    expect(stop.params.OptOutType).toBe('STOP');
    const blocked = await send({ To: CUSTOMER, From: NUMBER, Body: 'hello?' });
    expect(blocked).toMatchObject({ status: 400, body: { code: 21610 } });
    const start = await h.client.twilioCustomerSends({ from: CUSTOMER, to: NUMBER, body: 'START' });
    expect(start.params.OptOutType).toBe('START');
    expect((await send({ To: CUSTOMER, From: NUMBER, Body: 'welcome back' })).status).toBe(201);

    await h.client.twilioSetOptOut(CUSTOMER, NUMBER, true);
    expect((await send({ To: CUSTOMER, From: NUMBER, Body: 'x' })).body).toMatchObject({ code: 21610 });
  });

  it('rotates the auth token: the old one is refused with 401/20003, the new one works', async () => {
    const rotating = await h.client.twilioCreateAccount();
    const accountUrl = `${h.sandbox.baseUrl}/2010-04-01/Accounts/${rotating.sid}.json`;
    const fetchWith = (token: string) =>
      fetch(accountUrl, { headers: { authorization: basic(rotating.sid, token) } });
    const rotated = await h.client.twilioRotateAuthToken(rotating.sid);
    expect(rotated.auth_token).toMatch(/^[0-9a-f]{32}$/);
    expect(rotated.auth_token).not.toBe(rotating.auth_token);
    const old = await fetchWith(rotating.auth_token);
    expect(old.status).toBe(401);
    expect(await old.json()).toMatchObject({ code: 20003 });
    expect((await fetchWith(rotated.auth_token)).status).toBe(200);
  });
});
