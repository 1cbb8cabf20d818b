import { EVENTS_EXCHANGE } from '@inbox-bridge/messaging';
import * as testing from '@inbox-bridge/testing';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { randomUUID } from 'node:crypto';
import { connect } from 'node:net';
import { gatewayMigrations } from '../src/database/data-source.js';
import { signV3 } from '../src/webhooks/hubspot-signature.js';
import { startGatewayUnderTest as startGateway } from './accounts/gateway-under-test.js';

const SECRET = 'test-client-secret';
const PUBLIC_BASE_URL = 'https://bridge.example.com/inbox';
const PORTAL_ID = 12345678;

interface Envelope {
  readonly messageId: string;
  readonly type: string;
  readonly portalId: number;
  readonly payload: Record<string, unknown>;
}

describe('POST /webhooks/hubspot (real PostgreSQL schema, RabbitMQ vhost, AppModule)', () => {
  let db: testing.TestDatabase;
  let vhost: testing.TestVhost;
  let app: NestExpressApplication;
  let baseUrl: string;
  let published: testing.CapturedMessages<Envelope>;

  beforeAll(async () => {
    vhost = await testing.createTestVhost('gateway_webhooks');
    db = await testing.createTestDatabase('gateway_webhooks', gatewayMigrations, { poolSize: 2 });
    published = await testing.captureMessages<Envelope>(vhost.url, EVENTS_EXCHANGE, 'gateway.#');
    const gateway = await startGateway(db, vhost, { PUBLIC_BASE_URL, HUBSPOT_CLIENT_SECRET: SECRET });
    app = gateway.app;
    baseUrl = gateway.baseUrl;
  });

  afterAll(async () => {
    await app.close();
    await published.close();
    await db.dispose();
    await vhost.dispose();
  });

  const post = (
    body: string,
    options: {
      secret?: string;
      skewMs?: number;
      signedBody?: string;
      sign?: boolean;
      /** Path and query as called (and signed); `/webhooks/hubspot` by default. */
      path?: string;
      headers?: Record<string, string>;
    } = {},
  ) => {
    const path = options.path ?? '/webhooks/hubspot';
    const timestamp = String(Date.now() + (options.skewMs ?? 0));
    const signature = signV3(
      options.secret ?? SECRET,
      'POST',
      `${PUBLIC_BASE_URL}${path}`,
      options.signedBody ?? body,
      timestamp,
    );
    return fetch(`${baseUrl}${path}`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        ...(options.sign === false
          ? {}
          : { 'x-hubspot-signature-v3': signature, 'x-hubspot-request-timestamp': timestamp }),
        ...options.headers,
      },
      body,
    });
  };

  const outgoingMessage = (
    messageId: string,
    message: Record<string, unknown> = {},
    event: Record<string, unknown> = {},
  ) =>
    JSON.stringify({
      type: 'OUTGOING_CHANNEL_MESSAGE_CREATED',
      eventId: randomUUID(),
      portalId: String(PORTAL_ID),
      channelId: '1001',
      eventTimestamp: new Date().toISOString(),
      ...event,
      message: {
        id: messageId,
        type: 'MESSAGE',
        direction: 'OUTGOING',
        channelId: '1001',
        channelAccountId: '77',
        conversationsThreadId: `burst-${messageId}`,
        createdAt: new Date().toISOString(),
        createdBy: 'A-123',
        senders: [],
        recipients: [],
        text: 'hello',
        ...message,
      },
    });

  const accountEvent = (type: string, overrides: Record<string, unknown> = {}) =>
    JSON.stringify({
      type,
      portalId: String(PORTAL_ID),
      channelId: '1001',
      eventTimestamp: new Date().toISOString(),
      channelAccountId: '77',
      channelAccountDeliveryIdentifier: { type: 'CHANNEL_SPECIFIC_OPAQUE_ID', value: 'bot-1' },
      eventId: randomUUID(),
      ...overrides,
    });

  const rows = async (dedupeKey: string) =>
    db.dataSource.query<{ portal_id: string; event_type: string; payload: Record<string, unknown> }[]>(
      `SELECT portal_id, event_type, payload FROM "${db.schema}".hubspot_webhook_events WHERE dedupe_key = $1`,
      [dedupeKey],
    );
  const pendingOutbox = async () => {
    const [row] = await db.dataSource.query<{ pending: number }[]>(
      `SELECT count(*)::int AS pending FROM "${db.schema}".outbox`,
    );
    return row?.pending;
  };

  it('stores a signed CHANNEL_ACCOUNT_PURGED and publishes gateway.channel-account.purged.v1 once, even when redelivered', async () => {
    const eventId = randomUUID();
    const body = accountEvent('CHANNEL_ACCOUNT_PURGED', { eventId, channelAccountId: '4242' });
    const first = await post(body);
    expect(first.status).toBe(200);
    expect(await first.json()).toEqual({ status: 'accepted' });
    const stored = await rows(`event:${eventId}`);
    expect(stored).toHaveLength(1);
    expect(stored[0]).toMatchObject({ portal_id: String(PORTAL_ID), event_type: 'CHANNEL_ACCOUNT_PURGED' });
    expect(stored[0]?.payload).toEqual(JSON.parse(body));

    const envelope = await testing.expectEventually(
      () => {
        const found = published.messages.find((e) => e.type === 'gateway.channel-account.purged.v1');
        if (found === undefined) {
          throw new Error('not published yet');
        }
        return found;
      },
      { timeoutMs: 15_000, description: 'the purged envelope on the test queue' },
    );
    expect(envelope).toMatchObject({ portalId: PORTAL_ID, payload: { channelAccountId: '4242' } });

    const again = await post(body);
    expect(again.status).toBe(200);
    expect(await again.json()).toEqual({ status: 'duplicate' });
    expect(await rows(`event:${eventId}`)).toHaveLength(1);
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(await pendingOutbox()).toBe(0);
    expect(published.messages.filter((e) => e.type === 'gateway.channel-account.purged.v1')).toHaveLength(1);
  });

  it('stores a signed CHANNEL_ACCOUNT_CREATED and OUTGOING_CHANNEL_MESSAGE_CREATED and answers without publishing: the worker processes them later (here: an unknown portal)', async () => {
    const eventId = randomUUID();
    const created = await post(
      accountEvent('CHANNEL_ACCOUNT_CREATED', {
        eventId,
        channelAccountDeliveryIdentifier: null,
        authorized: true,
      }),
    );
    expect(created.status).toBe(200);
    expect(await created.json()).toEqual({ status: 'accepted' });
    expect(await rows(`event:${eventId}`)).toHaveLength(1);

    const messageId = randomUUID();
    const outgoing = outgoingMessage(
      messageId,
      {
        conversationsThreadId: '555',
        senders: [{ actorId: 'A-123', name: 'Rep' }],
        recipients: [
          { actorId: 'V-9', deliveryIdentifier: { type: 'CHANNEL_SPECIFIC_OPAQUE_ID', value: 'chat-9' } },
        ],
        truncationStatus: 'NOT_TRUNCATED',
        status: 'SENT',
      },
      { channelIntegrationThreadIds: ['chat-9'] },
    );
    const response = await post(outgoing);
    expect(response.status).toBe(200);
    expect(await (await post(outgoing)).json()).toEqual({ status: 'duplicate' });
    expect(await rows(`message:${messageId}`)).toHaveLength(1);
    expect(await pendingOutbox()).toBe(0);
    expect(published.messages.map((e) => e.type)).toEqual(['gateway.channel-account.purged.v1']);
  });

  it('a burst of concurrent webhooks, redeliveries among them, stores each event once and answers each request', async () => {
    const ids = Array.from({ length: 40 }, () => randomUUID());
    const bodies = [
      ...ids.map((id) => outgoingMessage(id)),
      ...ids.slice(0, 20).map((id) => outgoingMessage(id)),
    ];
    const answers = await Promise.all(
      bodies.map(async (body) => {
        const response = await post(body);
        return `${response.status} ${((await response.json()) as { status: string }).status}`;
      }),
    );
    expect(answers.filter((answer) => answer === '200 accepted')).toHaveLength(40);
    expect(answers.filter((answer) => answer === '200 duplicate')).toHaveLength(20);
    const [stored] = await db.dataSource.query<{ count: number }[]>(
      `SELECT count(*)::int AS count FROM "${db.schema}".hubspot_webhook_events WHERE dedupe_key = ANY($1)`,
      [ids.map((id) => `message:${id}`)],
    );
    expect(stored?.count).toBe(40);
  });

  it('an event PostgreSQL cannot store (a NUL character) is answered 200 and skipped alone: the events stored with it are accepted', async () => {
    const nul = JSON.stringify({
      type: 'CHANNEL_ACCOUNT_UPDATED',
      portalId: String(PORTAL_ID),
      channelId: '1001',
      eventTimestamp: new Date().toISOString(),
      channelAccountId: '78',
      eventId: `nul-\u0000-${randomUUID()}`,
    });
    const eventIds = Array.from({ length: 10 }, () => randomUUID());
    const [refused, ...others] = await Promise.all([
      post(nul),
      ...eventIds.map((eventId) => post(accountEvent('CHANNEL_ACCOUNT_UPDATED', { eventId }))),
    ]);
    expect(refused.status).toBe(200);
    expect(await refused.json()).toEqual({ status: 'unrecognized' });
    expect(others.map((response) => response.status)).toEqual(eventIds.map(() => 200));
    for (const eventId of eventIds) {
      expect(await rows(`event:${eventId}`)).toHaveLength(1);
    }
  });

  it('answers 200 to a signed body nested 5 000 levels deep and stores nothing of it (storing it overflowed JSON.stringify; HubSpot retries a 4xx), and the events stored with it are accepted', async () => {
    const depth = 5_000;
    const deepEventId = randomUUID();
    const deep = `${accountEvent('CHANNEL_ACCOUNT_UPDATED', { eventId: deepEventId }).slice(0, -1)},"extra":${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}}`;
    const eventIds = Array.from({ length: 10 }, () => randomUUID());
    const [refused, ...others] = await Promise.all([
      post(deep),
      ...eventIds.map((eventId) => post(accountEvent('CHANNEL_ACCOUNT_UPDATED', { eventId }))),
    ]);
    expect(refused.status).toBe(200);
    expect(await refused.json()).toEqual({ status: 'unrecognized' });
    expect(others.map((response) => response.status)).toEqual(eventIds.map(() => 200));
    expect(await rows(`event:${deepEventId}`)).toHaveLength(0);
  });

  it.each([
    ['a tampered body', { signedBody: accountEvent('CHANNEL_ACCOUNT_PURGED') }],
    ['a wrong secret', { secret: 'not-the-secret' }],
    ['a stale timestamp', { skewMs: -310_000 }],
    ['a timestamp from the future', { skewMs: 310_000 }],
    ['no signature', { sign: false }],
  ])('answers 401 problem+json to %s', async (_name, options) => {
    const eventId = randomUUID();
    const response = await post(accountEvent('CHANNEL_ACCOUNT_PURGED', { eventId }), options);
    expect(response.status).toBe(401);
    expect(response.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(await response.json()).toMatchObject({ status: 401, code: 'HUBSPOT_SIGNATURE_INVALID' });
    expect(await rows(`event:${eventId}`)).toHaveLength(0);
  });

  it('answers 200 to signed malformed JSON (logged, not retried by HubSpot), and 401 when it is unsigned', async () => {
    const response = await post('{"type": "CHANNEL_ACCOUNT_PURGED",');
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ status: 'unrecognized' });

    expect((await post('{not json', { sign: false })).status).toBe(401);
  });

  it('is served ahead of Express with the conventions of every route: body limit, JSON only, correlation id, metrics', async () => {
    const huge = JSON.stringify({ type: 'SOMETHING_NEW', padding: 'x'.repeat(1024 * 1024) });
    const tooLarge = await post(huge);
    expect(tooLarge.status).toBe(413);
    expect(await tooLarge.json()).toMatchObject({ status: 413, code: 'PAYLOAD_TOO_LARGE' });

    const event = accountEvent('CHANNEL_ACCOUNT_PURGED');
    const notJson = await post(event, { headers: { 'content-type': 'text/plain' } });
    expect(notJson.status).toBe(200);
    expect(await notJson.json()).toEqual({ status: 'unrecognized' });

    const compressed = await post(event, { headers: { 'content-encoding': 'gzip' } });
    expect(compressed.status).toBe(415);
    expect(await compressed.json()).toMatchObject({ detail: expect.stringContaining('content-encoding') });

    // Signed over the URL exactly as called: trailing slash and query included.
    const traced = await post(event, {
      path: '/webhooks/hubspot/?source=test',
      headers: { 'content-type': 'application/json; charset=utf-8', 'x-correlation-id': 'webhook-corr-1' },
    });
    expect(traced.status).toBe(200);
    expect(traced.headers.get('x-correlation-id')).toBe('webhook-corr-1');

    const metrics = await (await fetch(`${baseUrl}/metrics`)).text();
    expect(metrics).toMatch(
      /http_requests_total\{method="POST",route="\/webhooks\/hubspot",status="413"[^}]*\} 1/,
    );
    expect(metrics).toMatch(
      /http_requests_total\{method="POST",route="\/webhooks\/hubspot",status="415"[^}]*\} 1/,
    );
    // Other routes still go through Express.
    expect((await fetch(`${baseUrl}/webhooks/hubspot`, { method: 'GET' })).status).toBe(404);
  });

  it('reads a body over the limit to its end before answering 413, so a client still sending it is not reset', async () => {
    const { port } = new URL(baseUrl);
    const body = JSON.stringify({ padding: 'x'.repeat(2 * 1024 * 1024) });
    const half = 1024 * 1024;
    const socket = connect(Number(port), '127.0.0.1');
    const chunks: Buffer[] = [];
    let failure: string | undefined;
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.on('error', (error: NodeJS.ErrnoException) => {
      failure = error.code ?? error.message;
    });
    const closed = new Promise((resolve) => socket.once('close', resolve));
    socket.write(
      `POST /webhooks/hubspot HTTP/1.1\r\nHost: test\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n${body.slice(0, half)}`,
    );
    // Answered and closed here, the rest of the body would meet a closed socket (a reset, EPIPE for the client).
    await testing.delay(300);
    expect(Buffer.concat(chunks).toString('utf8')).toBe('');
    socket.end(body.slice(half));
    await closed;
    expect(failure).toBeUndefined();
    const answer = Buffer.concat(chunks).toString('utf8');
    expect(answer).toMatch(/^HTTP\/1\.1 413 /);
    expect(answer).toContain('"code":"PAYLOAD_TOO_LARGE"');
  });

  it('answers 200 to a known event type that does not match its schema, and stores nothing of it (HubSpot retries a 4xx)', async () => {
    const eventId = randomUUID();
    const response = await post(
      accountEvent('CHANNEL_ACCOUNT_CREATED', { eventId, channelAccountId: undefined, surprise: true }),
    );
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ status: 'unrecognized' });
    expect(await rows(`event:${eventId}`)).toHaveLength(0);
  });

  it.each([
    ['epoch milliseconds past the year 9999', 8_700_000_000_000_000],
    ['an ISO instant an offset pushes into the year 10000', '9999-12-31T23:59:59-23:59'],
  ])(
    'answers 200 to a timestamp with %s and stores nothing (a reply the worker could not date)',
    async (_name, createdAt) => {
      const messageId = randomUUID();
      const response = await post(outgoingMessage(messageId, { createdAt }));
      expect(response.status).toBe(200);
      expect(await response.json()).toEqual({ status: 'unrecognized' });
      expect(await rows(`message:${messageId}`)).toHaveLength(0);
    },
  );

  it('takes an array of events (one object is what HubSpot sends; §7.4): each is stored or skipped on its own', async () => {
    const [first, second] = [randomUUID(), randomUUID()];
    const response = await post(
      `[${accountEvent('CHANNEL_ACCOUNT_UPDATED', { eventId: first })},${accountEvent('SOMETHING_ELSE')},{"type":"CHANNEL_ACCOUNT_CREATED"},42,${accountEvent('CHANNEL_ACCOUNT_UPDATED', { eventId: second })},${accountEvent('CHANNEL_ACCOUNT_UPDATED', { eventId: first })}]`,
    );
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({
      events: [
        { status: 'accepted' },
        { status: 'ignored' },
        { status: 'unrecognized' },
        { status: 'unrecognized' },
        { status: 'accepted' },
        { status: 'duplicate' },
      ],
    });
    expect(await rows(`event:${first}`)).toHaveLength(1);
    expect(await rows(`event:${second}`)).toHaveLength(1);
    expect(await (await post('[]')).json()).toEqual({ events: [] });
    expect(await (await post('"a string"')).json()).toEqual({ status: 'unrecognized' });
  });

  it('accepts fields HubSpot adds later instead of refusing the event (a 400 would be retried for 24 h)', async () => {
    const response = await post(
      accountEvent('CHANNEL_ACCOUNT_PURGED', { addedByHubSpotLater: { any: 'thing' } }),
    );
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ status: 'accepted' });
  });

  it('answers 200 to an unknown event type and counts it in hubspot_webhooks_total', async () => {
    const response = await post(JSON.stringify({ type: 'SOMETHING_NEW', portalId: String(PORTAL_ID) }));
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ status: 'ignored' });
    const metrics = await (await fetch(`${baseUrl}/metrics`)).text();
    expect(metrics).toMatch(
      /hubspot_webhooks_total\{[^}]*event_type="SOMETHING_NEW"[^}]*outcome="ignored"[^}]*\} 1/,
    );
    expect(metrics).toMatch(
      /hubspot_webhooks_total\{[^}]*event_type="CHANNEL_ACCOUNT_PURGED"[^}]*outcome="duplicate"[^}]*\} 1/,
    );
  });
});
