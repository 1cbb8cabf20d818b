import { isValidV3 } from '@inbox-bridge/hubspot-sandbox';
import { createHmac, timingSafeEqual } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { GenericMessageBody } from './generic-message.js';

export interface NaiveForwarder {
  readonly url: string;
  close(): Promise<void>;
}

/**
 * The baseline: what a naive bridge does. It checks the signature, posts the message to HubSpot at once and
 * answers the webhook when HubSpot has answered. No queue, no database, no retries, no ordering guarantee, no
 * dedupe: a crash or a HubSpot hiccup loses the message.
 */
export function startNaiveForwarder(options: {
  readonly hubspotBaseUrl: string;
  readonly accessToken: string;
  readonly channelId: string;
  readonly channelAccountId: string;
  readonly accountIdentifier: string;
  readonly secret: string;
}): Promise<NaiveForwarder> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 256 });
  const target = new URL(
    `/conversations/v3/custom-channels/${options.channelId}/messages`,
    options.hubspotBaseUrl,
  );
  const server = http.createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const raw = Buffer.concat(chunks);
      const [t, v1] = (request.headers['x-signature'] as string | undefined)?.split(',') ?? [];
      const expected = createHmac('sha256', options.secret)
        .update(`${t?.slice(2) ?? ''}.`)
        .update(raw)
        .digest('hex');
      const given = Buffer.from(v1?.slice(3) ?? '');
      if (given.length !== expected.length || !timingSafeEqual(given, Buffer.from(expected))) {
        response.writeHead(401).end();
        return;
      }
      const { message } = JSON.parse(raw.toString('utf8')) as GenericMessageBody;
      const body = JSON.stringify({
        channelAccountId: options.channelAccountId,
        messageDirection: 'INCOMING',
        text: message.text ?? '',
        senders: [
          {
            deliveryIdentifier: { type: 'CHANNEL_SPECIFIC_OPAQUE_ID', value: message.sender.id },
            name: message.sender.name,
          },
        ],
        recipients: [
          { deliveryIdentifier: { type: 'CHANNEL_SPECIFIC_OPAQUE_ID', value: options.accountIdentifier } },
        ],
        timestamp: message.sentAt,
        attachments: [],
        integrationThreadId: message.conversationId,
        integrationIdempotencyId: message.id,
      });
      relay(agent, target, { authorization: `Bearer ${options.accessToken}` }, body, 201, response);
    });
  });
  return listen(server, agent, '/webhooks/generic');
}

/** POSTs the JSON `body` and answers the webhook 200 once the target answered `expected`, else 502. */
function relay(
  agent: http.Agent,
  target: URL,
  headers: Readonly<Record<string, string>>,
  body: string,
  expected: number,
  response: http.ServerResponse,
): void {
  const outgoing = http.request(
    target,
    {
      method: 'POST',
      agent,
      headers: { ...headers, 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
    },
    (answer) => {
      answer.resume();
      answer.once('end', () => {
        response.writeHead(answer.statusCode === expected ? 200 : 502).end();
      });
    },
  );
  outgoing.once('error', () => {
    response.writeHead(502).end();
  });
  outgoing.end(body);
}

function listen(server: http.Server, agent: http.Agent, path: string): Promise<NaiveForwarder> {
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      resolve({
        url: `http://127.0.0.1:${port}${path}`,
        close: () =>
          new Promise<void>((done) => {
            agent.destroy();
            server.closeAllConnections();
            server.close(() => {
              done();
            });
          }),
      });
    });
  });
}

/** Where a naive reply forwarder sends the replies of one HubSpot thread. */
export interface TelegramChat {
  readonly botToken: string;
  readonly chatId: number;
}

/**
 * The outbound baseline: HubSpot's OUTGOING_CHANNEL_MESSAGE_CREATED webhook in, its signature checked, the text
 * sent to the customer's Telegram chat at once, the webhook answered when Telegram has answered. No queue, no
 * database, no retries, no status back to HubSpot, no ordering: what a naive bridge does.
 */
export function startNaiveReplyForwarder(options: {
  readonly clientSecret: string;
  readonly telegramBaseUrl: string;
  /** The chat of each HubSpot thread id. */
  readonly chats: ReadonlyMap<string, TelegramChat>;
}): Promise<NaiveForwarder> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 256 });
  const path = '/webhooks/hubspot';
  let ownUrl = '';
  const server = http.createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const raw = Buffer.concat(chunks).toString('utf8');
      const signed = isValidV3(options.clientSecret, {
        method: 'POST',
        url: ownUrl,
        rawBody: raw,
        timestamp: String(request.headers['x-hubspot-request-timestamp'] ?? ''),
        signature: String(request.headers['x-hubspot-signature-v3'] ?? ''),
      });
      if (!signed) {
        response.writeHead(401).end();
        return;
      }
      const event = JSON.parse(raw) as {
        type?: string;
        message?: { conversationsThreadId?: string; text?: string };
      };
      const chat = options.chats.get(event.message?.conversationsThreadId ?? '');
      if (event.type !== 'OUTGOING_CHANNEL_MESSAGE_CREATED' || chat === undefined) {
        response.writeHead(200).end();
        return;
      }
      const body = JSON.stringify({ chat_id: chat.chatId, text: event.message?.text ?? '' });
      relay(
        agent,
        new URL(`/bot${chat.botToken}/sendMessage`, options.telegramBaseUrl),
        {},
        body,
        200,
        response,
      );
    });
  });
  return listen(server, agent, path).then((forwarder) => {
    ownUrl = forwarder.url;
    return forwarder;
  });
}
