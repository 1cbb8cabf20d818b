import { signV3 } from '@inbox-bridge/hubspot-sandbox';
import { twilioSignature } from '@inbox-bridge/provider-sandbox';
import { MediaLinkSigner } from '@inbox-bridge/service-kit';
import { createHmac, randomUUID } from 'node:crypto';
import { CONTENT_TYPES, hostileId, hostileString, mutateForm, mutateJson, rawBody } from './hostile.js';
import type { Random } from './random.js';

export interface FuzzRequest {
  readonly method: string;
  /** Origin and path (with query), already percent-encoded where it must be. */
  readonly url: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly body?: Buffer;
}

/** How a refusal must look: a problem+json body, or (for pages a person sees) an HTML page or a problem body. */
export type Refusal = 'problem' | 'page';

export interface FuzzCase {
  readonly label: string;
  readonly request: FuzzRequest;
  /** This request must be refused (a 4xx): it carries no valid credentials, or another portal's. */
  readonly mustRefuse?: string;
  /** This request may be answered, but the answer must not contain this text (another portal's data). */
  readonly mustConceal?: { readonly reason: string; readonly text: string };
}

export interface Endpoint {
  readonly name: string;
  readonly service: 'gateway' | 'connector' | 'router';
  readonly refusal: Refusal;
  makeCase(random: Random): FuzzCase;
}

/** What the fuzz run knows about the stack it attacks: addresses, secrets and the accounts it connected. */
export interface FuzzTargetContext {
  readonly urls: { readonly gateway: string; readonly connector: string; readonly router: string };
  readonly portalId: number;
  readonly opsToken: string;
  /** The gateway's admin token of `portalId` (`/admin/portals/{portalId}/…`). */
  readonly portalAdminToken: string;
  /** The gateway's admin token of another portal: it must never open this portal's endpoints. */
  readonly otherPortalGatewayAdminToken: string;
  readonly routerAdminToken: string;
  /** An admin token of another portal: it must never open this portal's accounts. */
  readonly otherPortalAdminToken: string;
  readonly hubspotClientSecret: string;
  readonly mediaLinkSecret: string;
  /** A signed settings-page link of the Telegram account (`ref`, `exp`, `sig`), minted by the router. */
  readonly settingsLink: Readonly<Record<'ref' | 'exp' | 'sig', string>>;
  readonly inboxId: string;
  /** The connection popup's form as a browser holds it: its cookie and its hidden fields (with a valid CSRF). */
  readonly popup: { readonly cookie: string; readonly fields: Readonly<Record<string, string>> };
  readonly telegram: {
    readonly channelAccountId: string;
    readonly secretToken: string;
    readonly botToken: string;
  };
  readonly generic: { readonly channelAccountId: string; readonly secret: string };
  readonly twilio?: {
    readonly channelAccountId: string;
    readonly accountSid: string;
    readonly authToken: string;
    readonly phoneNumber: string;
  };
}

type Auth = (request: { method: string; url: string; body: Buffer }) => Record<string, string>;
type BadAuth = readonly [label: string, auth: Auth, concealed?: string];

interface EndpointSpec {
  /** Told after the path when one path is fuzzed in two ways. */
  readonly variant?: string;
  readonly service: Endpoint['service'];
  readonly refusal: Refusal;
  readonly method: string;
  readonly origin: string;
  /** The path; `{id}` is where a hostile id goes. */
  readonly path: string;
  readonly id?: string;
  readonly query?: () => Readonly<Record<string, string>>;
  readonly json?: () => unknown;
  readonly form?: () => Readonly<Record<string, string>>;
  /** Headers that make a request authentic (a token or a signature over the final bytes). */
  readonly auth?: Auth;
  /** Ways to get authentication wrong; each must be refused (or, with a text, must not reveal that text). */
  readonly badAuth?: readonly BadAuth[];
}

function queryString(query: Readonly<Record<string, string>> | URLSearchParams): string {
  const text = (query instanceof URLSearchParams ? query : new URLSearchParams(query)).toString();
  return text === '' ? '' : `?${text}`;
}

function hostileQuery(
  template: Readonly<Record<string, string>>,
  random: Random,
): { label: string; query: string } {
  const params = new URLSearchParams(template);
  const keys = Object.keys(template);
  const key = keys.length > 0 ? random.pick(keys) : 'q';
  switch (random.int(5)) {
    case 0: {
      const hostile = hostileString(random);
      params.set(key, hostile.value.slice(0, 6_000));
      return { label: `query ${key} → ${hostile.label}`, query: queryString(params) };
    }
    case 1:
      params.delete(key);
      return { label: `query ${key} missing`, query: queryString(params) };
    case 2:
      params.append(key, 'again');
      return { label: `query ${key} repeated`, query: queryString(params) };
    case 3:
      params.delete(key);
      params.set(`${key}[__proto__][polluted]`, '1');
      return { label: `query ${key} as a __proto__ object`, query: queryString(params) };
    default:
      return { label: 'query with a bad percent escape', query: `?${key}=%E0%A4%A&%=%%` };
  }
}

function endpoint(spec: EndpointSpec): Endpoint {
  const hasBody = spec.json !== undefined || spec.form !== undefined;
  const contentType = spec.form === undefined ? 'application/json' : 'application/x-www-form-urlencoded';
  const build = (parts: {
    id?: string;
    query?: string;
    body?: Buffer;
    contentType?: string | null;
    auth?: Auth | null;
    extraHeaders?: Record<string, string>;
  }): FuzzRequest => {
    const path = spec.path.replace('{id}', parts.id ?? spec.id ?? '1');
    const query = parts.query ?? (spec.query === undefined ? '' : queryString(spec.query()));
    const url = `${spec.origin}${path}${query}`;
    const body = parts.body ?? (hasBody ? validBody() : undefined);
    const type = parts.contentType === undefined ? (hasBody ? contentType : undefined) : parts.contentType;
    const auth = parts.auth === undefined ? spec.auth : (parts.auth ?? undefined);
    return {
      method: spec.method,
      url,
      body,
      headers: {
        ...(type === undefined || type === null ? {} : { 'content-type': type }),
        ...auth?.({ method: spec.method, url, body: body ?? Buffer.alloc(0) }),
        ...parts.extraHeaders,
      },
    };
    function validBody(): Buffer {
      return Buffer.from(
        spec.form === undefined ? JSON.stringify(spec.json?.()) : new URLSearchParams(spec.form()).toString(),
        'utf8',
      );
    }
  };

  return {
    name: `${spec.service} ${spec.method} ${spec.path}${spec.variant ?? ''}`,
    service: spec.service,
    refusal: spec.refusal,
    makeCase(random: Random): FuzzCase {
      const roll = random.int(10);
      if (roll <= 3 && hasBody) {
        const mutated =
          spec.form === undefined ? mutateJson(spec.json?.(), random) : mutateForm(spec.form(), random);
        return { label: `body: ${mutated.label}`, request: build({ body: mutated.bytes }) };
      }
      if (roll <= 3 || (roll === 4 && !hasBody)) {
        const query = hostileQuery(spec.query?.() ?? {}, random);
        return { label: query.label, request: build({ query: query.query }) };
      }
      if (roll <= 5) {
        const raw = rawBody(spec.json?.() ?? spec.form?.(), random);
        const type = random.chance(0.5)
          ? hasBody
            ? contentType
            : 'application/json'
          : random.pick(CONTENT_TYPES);
        return {
          label: `raw body: ${raw.label} as ${type ?? 'no content type'}`,
          request: build({ body: raw.bytes, contentType: type ?? null }),
        };
      }
      if (roll === 6 && spec.badAuth !== undefined && spec.badAuth.length > 0) {
        const [label, auth, concealed] = random.pick(spec.badAuth);
        return {
          label: `auth: ${label}`,
          request: build({ auth }),
          ...(concealed === undefined
            ? { mustRefuse: label }
            : { mustConceal: { reason: label, text: concealed } }),
        };
      }
      if (roll <= 7 && spec.path.includes('{id}')) {
        const id = hostileId(random);
        return { label: `id: ${id.label}`, request: build({ id: id.value }) };
      }
      if (roll <= 8) {
        const size = random.pick([4_000, 15_000, 40_000]);
        if (random.chance(0.5)) {
          return {
            label: `header of ${size} bytes`,
            request: build({ extraHeaders: { 'x-fuzz': 'h'.repeat(size) } }),
          };
        }
        return {
          label: `URL of ${size} bytes`,
          request: build({ query: `?pad=${'u'.repeat(size)}` }),
        };
      }
      const type = random.pick(CONTENT_TYPES);
      return {
        label: `content type ${type ?? 'missing'} on a valid body`,
        request: build({ contentType: type ?? null }),
      };
    },
  };
}

const bearer =
  (token: string): Auth =>
  () => ({ authorization: `Bearer ${token}` });

const tokenMistakes = (otherServiceToken: string): readonly BadAuth[] => [
  ['no token', () => ({})],
  ['empty bearer', () => ({ authorization: 'Bearer ' })],
  ['wrong token', bearer('not-the-token')],
  ['basic scheme', () => ({ authorization: 'Basic YWRtaW46YWRtaW4=' })],
  ['another service token', bearer(otherServiceToken)],
  ['huge token', bearer('t'.repeat(10_000))],
];

function hubspotSigned(secret: string): Auth {
  return ({ method, url, body }) => {
    const timestamp = String(Date.now());
    return {
      'x-hubspot-request-timestamp': timestamp,
      'x-hubspot-signature-v3': signV3(secret, method, url, body.toString('utf8'), timestamp),
    };
  };
}

function hubspotMistakes(secret: string): readonly BadAuth[] {
  const valid = hubspotSigned(secret);
  return [
    ['unsigned', () => ({})],
    [
      'bad signature',
      () => ({ 'x-hubspot-request-timestamp': String(Date.now()), 'x-hubspot-signature-v3': 'AAAA' }),
    ],
    [
      'stale timestamp',
      ({ method, url, body }) => {
        const timestamp = String(Date.now() - 10 * 60_000);
        return {
          'x-hubspot-request-timestamp': timestamp,
          'x-hubspot-signature-v3': signV3(secret, method, url, body.toString('utf8'), timestamp),
        };
      },
    ],
    ['non-numeric timestamp', (request) => ({ ...valid(request), 'x-hubspot-request-timestamp': 'soon' })],
    ['signature of another body', (request) => valid({ ...request, body: Buffer.from('{}') })],
    ['wrong secret', hubspotSigned('not-the-client-secret')],
  ];
}

function genericSigned(secret: string, shiftSeconds = 0): Auth {
  return ({ body }) => {
    const timestamp = Math.floor(Date.now() / 1000) + shiftSeconds;
    const signature = createHmac('sha256', secret).update(`${timestamp}.`).update(body).digest('hex');
    return { 'x-signature': `t=${timestamp},v1=${signature}` };
  };
}

function twilioSigned(authToken: string, publicUrl: (url: string) => string): Auth {
  return ({ url, body }) => {
    const params: Record<string, string[]> = {};
    for (const [key, value] of new URLSearchParams(body.toString('utf8'))) {
      (params[key] ??= []).push(value);
    }
    return { 'x-twilio-signature': twilioSignature(authToken, publicUrl(url), params) };
  };
}

function telegramUpdate(): unknown {
  const id = 100_000 + Math.floor(Math.random() * 1_000_000);
  return {
    update_id: id,
    message: {
      message_id: id,
      from: { id: 5_001, is_bot: false, first_name: 'Fuzz', language_code: 'en' },
      chat: { id: 5_001, type: 'private', first_name: 'Fuzz' },
      date: Math.floor(Date.now() / 1000),
      text: 'hello from the fuzzer',
    },
  };
}

function genericMessage(): unknown {
  return {
    specVersion: '1',
    type: 'message',
    message: {
      id: randomUUID(),
      conversationId: 'fuzz-conversation',
      sender: { id: 'fuzz-customer', name: 'Fuzz Customer' },
      sentAt: new Date().toISOString(),
      text: 'hello from the fuzzer',
      attachments: [{ url: 'https://example.com/a.png', mimeType: 'image/png', name: 'a.png' }],
    },
  };
}

function hubspotOutgoingMessage(portalId: number, channelAccountId: string): unknown {
  return {
    type: 'OUTGOING_CHANNEL_MESSAGE_CREATED',
    eventId: randomUUID(),
    portalId: String(portalId),
    channelId: '1001',
    eventTimestamp: new Date().toISOString(),
    channelIntegrationThreadIds: ['fuzz-thread'],
    message: {
      id: randomUUID(),
      type: 'MESSAGE',
      direction: 'OUTGOING',
      channelId: '1001',
      channelAccountId,
      conversationsThreadId: '555',
      createdAt: new Date().toISOString(),
      createdBy: 'A-77',
      senders: [{ actorId: 'A-77', name: 'Rep' }],
      recipients: [
        { actorId: 'V-9', deliveryIdentifier: { type: 'CHANNEL_SPECIFIC_OPAQUE_ID', value: 'x' } },
      ],
      text: 'fuzz reply',
      truncationStatus: 'NOT_TRUNCATED',
      status: 'SENT',
      attachments: [{ type: 'FILE', fileId: '123', name: 'a.pdf' }],
    },
  };
}

/** Every public HTTP endpoint of the bridge, each with a valid request to mutate and the ways to misuse it. */
export function endpoints(context: FuzzTargetContext): Endpoint[] {
  const { urls } = context;
  const gateway = urls.gateway;
  const connector = urls.connector;
  const router = urls.router;
  const hubspotAuth = hubspotSigned(context.hubspotClientSecret);
  const mediaLinks = (secret: string, purpose: 'provider-media' | 'hubspot-file', ref: string) => () => {
    const link = new MediaLinkSigner(secret, purpose).sign(ref, 60_000);
    return { ref: link.ref, exp: String(link.exp), sig: link.sig };
  };
  const publicMediaSecret = createHmac('sha256', context.mediaLinkSecret)
    .update('connector-public-media')
    .digest('base64url');
  const settingsLink = () => context.settingsLink;
  const adminMistakes: readonly BadAuth[] = [
    ...tokenMistakes(context.opsToken),
    ['another portal token', bearer(context.otherPortalAdminToken)],
  ];
  const gatewayPortalMistakes: readonly BadAuth[] = [
    ...tokenMistakes(context.routerAdminToken),
    ['the ops token', bearer(context.opsToken)],
    ['another portal token', bearer(context.otherPortalGatewayAdminToken)],
  ];
  const accountId = context.telegram.channelAccountId;
  const routerAdmin = (
    method: string,
    path: string,
    json?: () => unknown,
    badAuth = adminMistakes,
  ): EndpointSpec => ({
    service: 'router',
    refusal: 'problem',
    method,
    origin: router,
    path,
    id: accountId,
    ...(json === undefined ? {} : { json }),
    auth: bearer(context.routerAdminToken),
    badAuth,
  });
  const twilio = context.twilio;
  const specs: EndpointSpec[] = [
    {
      service: 'gateway',
      refusal: 'problem',
      method: 'POST',
      origin: gateway,
      path: '/webhooks/hubspot',
      json: () => hubspotOutgoingMessage(context.portalId, accountId),
      auth: hubspotAuth,
      badAuth: hubspotMistakes(context.hubspotClientSecret),
    },
    {
      service: 'gateway',
      refusal: 'problem',
      method: 'POST',
      origin: gateway,
      path: '/webhooks/hubspot/conversation-events',
      json: () => [
        {
          eventId: Math.floor(Math.random() * 1e9),
          portalId: context.portalId,
          subscriptionType: 'conversation.propertyChange',
          objectId: 555,
          occurredAt: Date.now(),
          propertyName: 'assignedTo',
          propertyValue: 'A-77',
        },
      ],
      auth: hubspotAuth,
      badAuth: hubspotMistakes(context.hubspotClientSecret),
    },
    {
      service: 'gateway',
      refusal: 'page',
      method: 'GET',
      origin: gateway,
      path: '/oauth/install',
      query: () => ({}),
    },
    {
      service: 'gateway',
      refusal: 'page',
      method: 'GET',
      origin: gateway,
      path: '/oauth/callback',
      query: () => ({ code: randomUUID(), state: 'fuzz-state' }),
    },
    {
      service: 'gateway',
      refusal: 'page',
      method: 'GET',
      origin: gateway,
      path: '/connect',
      query: () => ({
        accountToken: 'fuzz-token',
        portalId: String(context.portalId),
        inboxId: context.inboxId,
        channelId: '1001',
        redirectUrl: 'https://app.hubspot.com/done',
        provider: 'telegram',
      }),
    },
    {
      service: 'gateway',
      refusal: 'page',
      method: 'POST',
      origin: gateway,
      path: '/connect',
      form: () => ({
        accountToken: 'fuzz-token',
        portalId: String(context.portalId),
        inboxId: context.inboxId,
        channelId: '1001',
        redirectUrl: 'https://app.hubspot.com/done',
        provider: 'telegram',
        csrf: 'not-a-real-csrf',
        botToken: '123456789:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA',
      }),
    },
    {
      variant: ' (with its CSRF cookie)',
      service: 'gateway',
      refusal: 'page',
      method: 'POST',
      origin: gateway,
      path: '/connect',
      form: () => ({ ...context.popup.fields, botToken: '123456789:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA' }),
      auth: () => ({ cookie: context.popup.cookie }),
      badAuth: [
        ['no CSRF cookie', () => ({})],
        ['another CSRF cookie', () => ({ cookie: 'ib_connect=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA' })],
      ],
    },
    {
      service: 'gateway',
      refusal: 'problem',
      method: 'POST',
      origin: gateway,
      path: '/admin/channel/register',
      json: () => ({}),
      auth: bearer(context.opsToken),
      badAuth: tokenMistakes(context.routerAdminToken),
    },
    {
      service: 'gateway',
      refusal: 'problem',
      method: 'POST',
      origin: gateway,
      path: '/admin/portals/{id}/channel-accounts',
      id: String(context.portalId),
      json: () => ({
        inboxId: context.inboxId,
        name: 'Fuzz',
        credentials: { provider: 'telegram', botToken: '123456789:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA' },
      }),
      auth: bearer(context.portalAdminToken),
      badAuth: gatewayPortalMistakes,
    },
    {
      service: 'gateway',
      refusal: 'problem',
      method: 'PUT',
      origin: gateway,
      path: `/admin/portals/${context.portalId}/channel-accounts/{id}/credentials`,
      id: context.telegram.channelAccountId,
      json: () => ({
        credentials: { provider: 'telegram', botToken: '123456789:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA' },
      }),
      auth: bearer(context.portalAdminToken),
      badAuth: gatewayPortalMistakes,
    },
    {
      service: 'gateway',
      refusal: 'problem',
      method: 'GET',
      origin: gateway,
      path: '/internal/files',
      query: mediaLinks(context.mediaLinkSecret, 'hubspot-file', `hubspot-file:${context.portalId}:123`),
    },
    {
      service: 'connector',
      refusal: 'problem',
      method: 'POST',
      origin: connector,
      path: '/webhooks/telegram/{id}',
      id: context.telegram.channelAccountId,
      json: telegramUpdate,
      auth: () => ({ 'x-telegram-bot-api-secret-token': context.telegram.secretToken }),
      badAuth: [
        ['no secret token', () => ({})],
        ['wrong secret token', () => ({ 'x-telegram-bot-api-secret-token': 'wrong' })],
        ['huge secret token', () => ({ 'x-telegram-bot-api-secret-token': 's'.repeat(5_000) })],
      ],
    },
    {
      service: 'connector',
      refusal: 'problem',
      method: 'POST',
      origin: connector,
      path: '/webhooks/generic/{id}',
      id: context.generic.channelAccountId,
      json: genericMessage,
      auth: genericSigned(context.generic.secret),
      badAuth: [
        ['unsigned', () => ({})],
        ['garbage signature header', () => ({ 'x-signature': 't=abc,v1=zz,v1=,,,=' })],
        ['stale timestamp', genericSigned(context.generic.secret, -3_600)],
        ['future timestamp', genericSigned(context.generic.secret, 3_600)],
        ['wrong secret', genericSigned('not-the-secret')],
      ],
    },
    {
      service: 'connector',
      refusal: 'problem',
      method: 'GET',
      origin: connector,
      path: '/internal/media',
      query: mediaLinks(context.mediaLinkSecret, 'provider-media', `media:${accountId}:fuzz-file`),
    },
    {
      service: 'connector',
      refusal: 'problem',
      method: 'GET',
      origin: connector,
      path: '/public/media',
      query: mediaLinks(publicMediaSecret, 'hubspot-file', `hubspot-file:${context.portalId}:123`),
    },
    // Another portal's token lists that portal's accounts: allowed, as long as none of this portal's show.
    routerAdmin('GET', '/admin/channel-accounts', undefined, [
      ...tokenMistakes(context.opsToken),
      ['another portal token', bearer(context.otherPortalAdminToken), accountId],
    ]),
    { ...routerAdmin('GET', '/admin/channel-accounts/{id}/rules') },
    {
      ...routerAdmin('PUT', '/admin/channel-accounts/{id}/rules', () => ({
        mode: 'users-and-teams',
        targets: { teamIds: ['11'], userIds: ['77'] },
      })),
    },
    { ...routerAdmin('GET', '/admin/channel-accounts/{id}/queue') },
    { ...routerAdmin('POST', '/admin/channel-accounts/{id}/settings-link') },
    { ...routerAdmin('GET', '/admin/conversations/{id}/audit'), id: '555' },
    {
      service: 'router',
      refusal: 'page',
      method: 'GET',
      origin: router,
      path: '/settings/{id}',
      id: accountId,
      query: settingsLink,
      badAuth: [['another portal token', bearer(context.otherPortalAdminToken)]],
    },
    {
      service: 'router',
      refusal: 'page',
      method: 'POST',
      origin: router,
      path: '/settings/{id}',
      id: accountId,
      form: () => ({ ...settingsLink(), mode: 'users-and-teams', teamIds: '11' }),
    },
  ];
  if (twilio !== undefined) {
    const publicUrl = (url: string) => url;
    const inbound = () => ({
      MessageSid: `SM${randomUUID().replaceAll('-', '')}`,
      AccountSid: twilio.accountSid,
      From: '+15555550123',
      To: twilio.phoneNumber,
      Body: 'hello from the fuzzer',
      NumMedia: '0',
    });
    const mistakes: readonly BadAuth[] = [
      ['unsigned', () => ({})],
      ['bad signature', () => ({ 'x-twilio-signature': 'AAAA' })],
      ['signed for another URL', twilioSigned(twilio.authToken, () => 'https://example.com/elsewhere')],
      ['wrong auth token', twilioSigned('0'.repeat(32), publicUrl)],
    ];
    specs.push(
      {
        service: 'connector',
        refusal: 'problem',
        method: 'POST',
        origin: connector,
        path: '/webhooks/twilio/{id}',
        id: twilio.channelAccountId,
        form: inbound,
        auth: twilioSigned(twilio.authToken, publicUrl),
        badAuth: mistakes,
      },
      {
        // The URL a TwiML App or Messaging Service is given: the account comes from the `To` number.
        service: 'connector',
        refusal: 'problem',
        method: 'POST',
        origin: connector,
        path: '/webhooks/twilio',
        form: inbound,
        auth: twilioSigned(twilio.authToken, publicUrl),
        badAuth: mistakes,
      },
      {
        service: 'connector',
        refusal: 'problem',
        method: 'POST',
        origin: connector,
        path: '/webhooks/twilio/{id}/status',
        id: twilio.channelAccountId,
        form: () => ({
          MessageSid: `SM${randomUUID().replaceAll('-', '')}`,
          MessageStatus: 'delivered',
          AccountSid: twilio.accountSid,
          From: twilio.phoneNumber,
          To: '+15555550123',
        }),
        auth: twilioSigned(twilio.authToken, publicUrl),
        badAuth: mistakes,
      },
    );
  }
  return specs.map(endpoint);
}
