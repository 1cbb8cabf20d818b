import type { GatewayOutboundMessageRequestedV1, ProviderMessageReceivedV1 } from '@inbox-bridge/shared';
import * as testing from '@inbox-bridge/testing';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import {
  genericSignatureHeader,
  verifyGenericSignature,
} from '../src/providers/generic/generic-signature.js';
import { startConnectorHarness, type ConnectorHarness } from './support/connector-harness.js';
import { HttpsReceiver } from './support/https-receiver.js';

const SECRET = 'generic-webhook-shared-secret-0123456789abcdef';

/** The first JSON example below the heading `## <section>.` of the spec page a third party implements from. */
async function specExample(section: number): Promise<Record<string, unknown>> {
  const page = await readFile(new URL('../../../docs/providers/generic-webhook.md', import.meta.url), 'utf8');
  const after = page.slice(page.indexOf(`\n## ${section}. `));
  const block = /```json\n([\s\S]*?)\n```/.exec(after)?.[1];
  if (block === undefined) {
    throw new Error(`no JSON example in section ${section} of generic-webhook.md`);
  }
  return JSON.parse(block) as Record<string, unknown>;
}

describe('connector ↔ generic signed webhook (spec v1)', () => {
  let h: ConnectorHarness;
  let receiver: HttpsReceiver;
  const accountId = '9300001';

  const validate = (callbackUrl: string) =>
    h.validate({ provider: 'generic-webhook', callbackUrl, sharedSecret: SECRET });

  const post = (body: unknown, signature?: string) => {
    const raw = JSON.stringify(body);
    return fetch(`${h.baseUrl}/webhooks/generic/${accountId}`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'x-signature': signature ?? genericSignatureHeader(SECRET, raw),
      },
      body: raw,
    });
  };

  const message = (id: string, extra: Record<string, unknown> = {}) => ({
    specVersion: '1',
    type: 'message',
    message: {
      id,
      conversationId: 'conv-42',
      sender: { id: 'cust-7', name: 'Ana Garcia', email: 'ana@example.com' },
      sentAt: '2025-05-01T10:15:30Z',
      text: 'Hello from the shop app',
      ...extra,
    },
  });

  const published = (providerMessageId: string) => h.received(providerMessageId);

  const statusesOf = (hubspotMessageId: string) => h.statuses(hubspotMessageId);

  const reply = async (overrides: Partial<GatewayOutboundMessageRequestedV1> = {}) =>
    h.firstStatus(
      await h.requestReply({
        channelAccountId: accountId,
        conversationKey: 'conv-42',
        recipient: { deliveryIdentifier: { type: 'CHANNEL_SPECIFIC_OPAQUE_ID', value: 'cust-7' } },
        ...overrides,
      }),
    );

  /** The receiver answers the next reply with `status` (and `headers`) once, then 200 with `okBody`. */
  const failFirstCallback = (status: number, okBody: string, headers: Record<string, string> = {}) => {
    let failures = 1;
    receiver.respond = (request) => {
      if (request.path === '/callback' && failures > 0) {
        failures -= 1;
        return { status, body: '{}', headers };
      }
      return { status: 200, body: okBody };
    };
  };

  beforeAll(async () => {
    receiver = new HttpsReceiver();
    await receiver.start();
    receiver.respond = (request) =>
      request.path.startsWith('/media/')
        ? { status: 200, body: 'JPEG-BYTES' }
        : { status: 200, body: JSON.stringify({ id: `ext-${receiver.requests.length}` }) };
    h = await startConnectorHarness('connector_gw', {
      env: {
        OUTBOUND_EXTRA_CA_FILE: receiver.caFile,
        SSRF_ALLOWED_HOSTS: '127.0.0.1',
        PROVIDER_MAX_DEFERRALS: '1',
      },
    });
  });

  afterAll(async () => {
    await h.dispose();
    await receiver.stop();
  });

  it('refuses callback URLs on private, loopback-by-name or metadata addresses and accepts an allowed one', async () => {
    expect(await validate('https://10.1.2.3/hook')).toMatchObject({
      ok: false,
      error: { code: 'callback-url-not-allowed' },
    });
    expect(await validate('https://169.254.169.254/latest')).toMatchObject({
      ok: false,
      error: { code: 'callback-url-not-allowed' },
    });
    expect(await validate('https://localhost:8443/hook')).toMatchObject({
      ok: false,
      error: { code: 'callback-url-not-allowed' },
    });
    const ok = await validate(`${receiver.url}/callback`);
    expect(ok).toMatchObject({ ok: true });
    await h.publish('gateway.channel-account.connected.v1', {
      channelAccountId: accountId,
      hubspotChannelId: '5003',
      inboxId: '311',
      provider: 'generic-webhook',
      name: 'Shop app',
      credentialsRequestId: ok.requestId,
    });
    await testing.expectEventually(async () => {
      expect((await post(message('probe-1'))).status).toBe(200);
    });
  });

  it('publishes a signed message with media, location and contact, and answers duplicate on a redelivery', async () => {
    const body = message('msg-110', {
      replyToId: 'msg-99',
      attachments: [
        {
          type: 'image',
          url: `${receiver.url}/media/photo.jpg`,
          mimeType: 'image/jpeg',
          fileName: 'photo.jpg',
          caption: 'damage',
        },
        { type: 'location', latitude: 40.4168, longitude: -3.7038, name: 'Shop' },
        { type: 'contact', name: 'Carlos Ruiz', phoneNumbers: ['+34600333444'] },
      ],
    });
    const first = await post(body);
    expect(await first.json()).toEqual({ status: 'accepted' });
    const received = await published('msg-110');
    expect(received).toMatchObject({
      provider: 'generic-webhook',
      conversationKey: 'conv-42',
      sender: { id: 'cust-7', name: 'Ana Garcia', email: 'ana@example.com' },
      replyToProviderMessageId: 'msg-99',
      attachments: [
        { kind: 'image', caption: 'damage', media: { mimeType: 'image/jpeg', fileName: 'photo.jpg' } },
        { kind: 'location', latitude: 40.4168, longitude: -3.7038, name: 'Shop' },
        { kind: 'contact-card', name: 'Carlos Ruiz', phoneNumbers: ['+34600333444'] },
      ],
    });
    const ref = (received.attachments[0] as { media: { downloadRef: string } }).media.downloadRef;
    expect(ref).not.toContain('https://');
    const media = await fetch(h.mediaLink(ref));
    expect(media.status).toBe(200);
    expect(await media.text()).toBe('JPEG-BYTES');

    const again = await post(body);
    expect(await again.json()).toEqual({ status: 'duplicate' });
    expect(
      h
        .messagesOf<ProviderMessageReceivedV1>('provider.message.received.v1')
        .filter((m) => m.providerMessageId === 'msg-110'),
    ).toHaveLength(1);
  });

  it('stores concurrent webhooks in shared commits: each message once, a concurrent redelivery a duplicate, an invalid body in the burst refused with 400', async () => {
    const ids = Array.from({ length: 30 }, (_, i) => `burst-${i}`);
    const requests = [
      ...ids.map((id) => post(message(id))),
      // Redeliveries racing their first delivery, and a body the contract refuses, in the same burst.
      ...ids.slice(0, 5).map((id) => post(message(id))),
      post(message('burst-bad', { sentAt: 'yesterday' })),
    ];
    const answers = await Promise.all(
      requests.map(async (request) => {
        const answer = await request;
        return answer.status === 200 ? ((await answer.json()) as { status: string }).status : answer.status;
      }),
    );
    expect(answers.filter((answer) => answer === 'accepted')).toHaveLength(30);
    expect(answers.filter((answer) => answer === 'duplicate')).toHaveLength(5);
    expect(answers.at(-1)).toBe(400);
    for (const id of ids) {
      await published(id);
    }
    const burst = h
      .messagesOf<ProviderMessageReceivedV1>('provider.message.received.v1')
      .filter((m) => m.providerMessageId.startsWith('burst-'));
    expect(burst.map((m) => m.providerMessageId).sort()).toEqual([...ids].sort());
  });

  it('refuses bad and replayed signatures with 401 and bad bodies with 400 naming the field', async () => {
    const body = message('msg-200');
    const raw = JSON.stringify(body);
    expect((await post(body, `t=${Math.floor(Date.now() / 1000)},v1=${'0'.repeat(64)}`)).status).toBe(401);
    expect((await post(body, genericSignatureHeader(SECRET, raw, Date.now() - 6 * 60_000))).status).toBe(401);
    expect((await post(body, genericSignatureHeader('another-secret-entirely-0123456789', raw))).status).toBe(
      401,
    );
    const unreadable = await fetch(`${h.baseUrl}/webhooks/generic/${accountId}`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'x-signature': genericSignatureHeader(SECRET, '{not json'),
      },
      body: '{not json',
    });
    expect(unreadable.status).toBe(400);
    expect(unreadable.headers.get('content-type')).toContain('application/problem+json');
    const invalid = await post(message('msg-201', { sentAt: 'yesterday' }));
    expect(invalid.status).toBe(400);
    expect(JSON.stringify(await invalid.json())).toContain('message.sentAt');
  });

  it('refuses a status report whose occurredAt PostgreSQL cannot store with a 400 naming the field, and stores any offset in UTC', async () => {
    const report = (occurredAt: string) =>
      post({
        specVersion: '1',
        type: 'status',
        status: { messageId: `never-sent-${randomUUID()}`, status: 'failed', reason: 'bounced', occurredAt },
      });
    for (const occurredAt of ['0000-01-01T00:00:00Z', '9999-12-31T23:59:59-01:00']) {
      const response = await report(occurredAt);
      expect(response.status).toBe(400);
      expect(response.headers.get('content-type')).toContain('application/problem+json');
      expect(await response.json()).toMatchObject({ errors: [{ field: 'status.occurredAt' }] });
    }
    // An offset past PostgreSQL's ±15:59 is still an instant: parked in UTC, not a 500.
    expect((await report('2025-05-01T10:21:00-23:59')).status).toBe(200);
  });

  it('guards media URLs against SSRF: metadata literal refused at once, loopback by name refused at fetch', async () => {
    const literal = await post(
      message('msg-300', {
        attachments: [
          { type: 'file', url: 'https://169.254.169.254/latest/meta-data', mimeType: 'text/plain' },
        ],
      }),
    );
    expect(literal.status).toBe(400);
    expect(JSON.stringify(await literal.json())).toContain('message.attachments.0.url');

    await post(
      message('msg-301', {
        attachments: [{ type: 'file', url: 'https://localhost/secret', mimeType: 'text/plain' }],
      }),
    );
    const received = await published('msg-301');
    const ref = (received.attachments[0] as { media: { downloadRef: string } }).media.downloadRef;
    const refused = await fetch(h.mediaLink(ref));
    expect(refused.status).toBe(404);
    expect(JSON.stringify(await refused.json())).toContain('MEDIA_URL_REFUSED');
    expect(receiver.requests.some((r) => r.path === '/secret')).toBe(false);
  });

  it('guards every redirect hop of a media download: an allowed URL redirecting to a loopback name is refused', async () => {
    const port = new URL(receiver.url).port;
    const usual = receiver.respond;
    receiver.respond = (request) =>
      request.path === '/media/moved.jpg'
        ? { status: 302, body: '', headers: { location: `https://localhost:${port}/internal-only` } }
        : { status: 200, body: '{}' };
    await post(
      message('msg-302', {
        attachments: [{ type: 'image', url: `${receiver.url}/media/moved.jpg`, mimeType: 'image/jpeg' }],
      }),
    );
    const received = await published('msg-302');
    const ref = (received.attachments[0] as { media: { downloadRef: string } }).media.downloadRef;
    const refused = await fetch(h.mediaLink(ref));
    receiver.respond = usual;
    expect(refused.status).toBe(404);
    expect(JSON.stringify(await refused.json())).toContain('MEDIA_URL_REFUSED');
    expect(receiver.requests.map((r) => r.path)).toContain('/media/moved.jpg');
    expect(receiver.requests.map((r) => r.path)).not.toContain('/internal-only');
  });

  it('posts replies signed to the callback URL, takes the returned id, and maps read callbacks to READ', async () => {
    const before = receiver.requests.length;
    const status = await reply({ text: 'On its way', richText: '<p>On its <b>way</b></p>' });
    const request = receiver.requests.slice(before).find((r) => r.path === '/callback');
    expect(request).toBeDefined();
    const body = (request as { body: Buffer }).body;
    expect(verifyGenericSignature(SECRET, request?.headers['x-signature'] as string, body)).toBe('valid');
    expect(JSON.parse(body.toString('utf8'))).toMatchObject({
      specVersion: '1',
      type: 'message',
      message: {
        id: status.hubspotMessageId,
        conversationId: 'conv-42',
        text: 'On its way',
        html: '<p>On its <b>way</b></p>',
      },
    });
    expect(status).toMatchObject({ status: 'SENT', providerMessageId: expect.stringMatching(/^ext-/) });

    const read = await post({
      specVersion: '1',
      type: 'status',
      status: { messageId: status.providerMessageId, status: 'read' },
    });
    expect(read.status).toBe(200);
    await testing.expectEventually(() => {
      expect(statusesOf(status.hubspotMessageId).map((s) => s.status)).toEqual(['SENT', 'READ']);
    });
  });

  it('retries a 503 from the receiver and reports a 4xx as FAILED with its reason', async () => {
    failFirstCallback(503, '{}');
    expect((await reply({ text: 'after 503', richText: undefined })).status).toBe('SENT');

    receiver.respond = () => ({
      status: 422,
      body: JSON.stringify({ error: 'unknown conversation conv-42' }),
    });
    const refused = await reply({ text: 'refused', richText: undefined });
    expect(refused).toMatchObject({ status: 'FAILED' });
    expect(refused.failureReason).toContain('HTTP 422');
    expect(refused.failureReason).toContain('unknown conversation');
  });

  it('takes the spec page examples as they are: the customer message (§3) and the read report (§5)', async () => {
    const example = await specExample(3);
    expect(await (await post(example)).json()).toEqual({ status: 'accepted' });
    expect(await published('msg-100')).toEqual({
      provider: 'generic-webhook',
      channelAccountId: accountId,
      conversationKey: 'conv-42',
      sender: { id: 'cust-7', name: 'Ana Garcia', email: 'ana@example.com', phoneNumber: '+34600111222' },
      providerMessageId: 'msg-100',
      sentAt: '2025-05-01T10:15:30Z',
      text: 'My parcel arrived damaged',
      replyToProviderMessageId: 'msg-99',
      attachments: [
        {
          kind: 'image',
          caption: 'the box',
          media: {
            downloadRef: expect.stringMatching(new RegExp(`^media:${accountId}:[A-Za-z0-9_-]+$`)),
            mimeType: 'image/jpeg',
            fileName: 'photo.jpg',
            sizeBytes: 84211,
          },
        },
        { kind: 'location', latitude: 40.4168, longitude: -3.7038, name: 'Shop', address: 'Madrid' },
        {
          kind: 'contact-card',
          name: 'Carlos Ruiz',
          phoneNumbers: ['+34600333444'],
          emails: ['c@example.com'],
        },
      ],
    });
    expect(await (await post(example)).json()).toEqual({ status: 'duplicate' });

    // The receiving system answered the reply with its own id, which the §5 example reports as read.
    receiver.respond = () => ({ status: 200, body: JSON.stringify({ id: 'ext-981' }) });
    const sent = await reply({ text: 'A new one ships today', richText: undefined });
    expect(sent).toMatchObject({ status: 'SENT', providerMessageId: 'ext-981' });
    expect((await post(await specExample(5))).status).toBe(200);
    await testing.expectEventually(() => {
      expect(statusesOf(sent.hubspotMessageId).map((s) => s.status)).toEqual(['SENT', 'READ']);
    });
  });

  it('reports a failed delivery with its reason and retries a 429 after its Retry-After', async () => {
    failFirstCallback(429, JSON.stringify({ id: 'ext-rate-1' }), { 'retry-after': '4' });
    const before = receiver.requests.length;
    const sent = await reply({ text: 'after the 429', richText: undefined });
    expect(sent).toMatchObject({ status: 'SENT', providerMessageId: 'ext-rate-1' });
    const attempts = receiver.requests.slice(before).filter((r) => r.path === '/callback');
    expect(attempts).toHaveLength(2);
    // Its Retry-After (4 s) is honoured, not the first retry tier (2 s).
    const at = attempts.map((r) => Number(/t=(\d+)/.exec(String(r.headers['x-signature']))?.[1]));
    expect((at[1] ?? 0) - (at[0] ?? 0)).toBeGreaterThanOrEqual(4);

    await post({
      specVersion: '1',
      type: 'status',
      status: { messageId: 'ext-rate-1', status: 'failed', reason: 'The customer left the chat' },
    });
    await testing.expectEventually(() => {
      expect(statusesOf(sent.hubspotMessageId).at(-1)).toMatchObject({
        status: 'FAILED',
        failureReason: 'The customer left the chat',
      });
    });
  });

  it('counts waits past PROVIDER_MAX_DEFERRALS (1 here) as attempts, so a receiver always saying later ends FAILED', async () => {
    const outbound = async (result: string) => {
      const metrics = await (await fetch(`${h.baseUrl}/metrics`)).text();
      const line = new RegExp(
        `connector_outbound_total\\{provider="generic-webhook",result="${result}"[^}]*\\} (\\d+)`,
      );
      return Number(line.exec(metrics)?.[1] ?? '0');
    };
    const [deferredBefore, retriedBefore] = [await outbound('deferred'), await outbound('retried')];
    let refusals = 2;
    receiver.respond = (request) => {
      if (request.path === '/callback' && refusals > 0) {
        refusals -= 1;
        return { status: 429, body: '{}', headers: { 'retry-after': '1' } };
      }
      return { status: 200, body: '{}' };
    };
    expect((await reply({ text: 'patience', richText: undefined })).status).toBe('SENT');
    expect([
      (await outbound('deferred')) - deferredBefore,
      (await outbound('retried')) - retriedBefore,
    ]).toEqual([1, 1]);
  });

  it('refuses customer media over 25 MB (413 when announced, cut off when not) and a larger reply file before posting it', async () => {
    const limit = 25 * 1024 * 1024;
    const huge = 'x'.repeat(limit + 1);
    receiver.respond = (request) => {
      if (request.path === '/media/announced.bin') {
        return { status: 200, body: huge, headers: { 'content-length': String(huge.length) } };
      }
      return request.path === '/media/chunked.bin'
        ? { status: 200, body: huge }
        : { status: 200, body: '{}' };
    };
    const refOf = async (id: string, file: string) => {
      await post(
        message(id, {
          attachments: [{ type: 'file', url: `${receiver.url}/media/${file}`, mimeType: 'application/zip' }],
        }),
      );
      const received = await published(id);
      return (received.attachments[0] as { media: { downloadRef: string } }).media.downloadRef;
    };
    const announced = await fetch(h.mediaLink(await refOf('msg-400', 'announced.bin')));
    expect(announced.status).toBe(413);
    expect(announced.headers.get('content-type')).toContain('application/problem+json');
    // Without a length the connector has already answered 200 when the limit is hit: it cuts the body off.
    const chunked = await fetch(h.mediaLink(await refOf('msg-401', 'chunked.bin')));
    await expect(chunked.arrayBuffer()).rejects.toThrow();

    const before = receiver.requests.length;
    const refused = await reply({
      text: 'the full backup',
      richText: undefined,
      attachments: [
        {
          kind: 'file',
          downloadRef: 'hubspot-file:91',
          mimeType: 'application/zip',
          fileName: 'backup.zip',
          sizeBytes: limit + 1,
        },
      ],
    });
    expect(refused).toMatchObject({ status: 'FAILED', providerErrorCode: 'FILE_TOO_LARGE' });
    expect(refused.failureReason).toContain('backup.zip');
    expect(receiver.requests.slice(before).filter((r) => r.path === '/callback')).toHaveLength(0);
  });
});
