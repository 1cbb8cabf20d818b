import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { isValidV3, signV1 } from '../src/webhooks/signature.js';
import { CLIENT_SECRET } from './sandbox-harness.js';

export interface ReceivedWebhook {
  readonly payload: Record<string, unknown>;
  readonly validSignature: boolean;
}

const PNG_1X1 = Buffer.from(
  'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==',
  'base64',
);

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      resolve(Buffer.concat(chunks).toString('utf8'));
    });
  });
}

/**
 * What the custom-channel app runs: its connection pop-up (`/connect`: a credentials form that finishes
 * the staging token through the sandbox API with the app's OAuth token, then redirects to `redirectUrl`),
 * its logo, and its webhook endpoint (`/hook`), which checks the v3 signature of every delivery.
 */
export class AppStub {
  readonly webhooks: ReceivedWebhook[] = [];
  /** Webhooks API events (§2.6) received at `/events`, flattened from their arrays. */
  readonly events: Record<string, unknown>[] = [];
  /** The portal's OAuth access token, set by the test once it has one. */
  accessToken = '';
  /** Answers of the staging-token PATCH, for assertions. */
  readonly stagingAnswers: number[] = [];
  private server!: Server;
  origin = '';

  constructor(private readonly sandboxUrl: string) {}

  async start(): Promise<void> {
    this.server = createServer((req, res) => {
      void this.handle(req, res);
    });
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.origin = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  stop(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((resolve) =>
      this.server.close(() => {
        resolve();
      }),
    );
  }

  ofType(type: string): ReceivedWebhook[] {
    return this.webhooks.filter((webhook) => webhook.payload.type === type);
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', this.origin);
    const body = await readBody(req);
    if (url.pathname === '/hook' && req.method === 'POST') {
      this.webhooks.push({
        payload: JSON.parse(body) as Record<string, unknown>,
        validSignature: isValidV3(CLIENT_SECRET, {
          method: 'POST',
          url: `${this.origin}${req.url ?? ''}`,
          rawBody: body,
          timestamp: String(req.headers['x-hubspot-request-timestamp']),
          signature: String(req.headers['x-hubspot-signature-v3']),
        }),
      });
      res.writeHead(200).end();
    } else if (url.pathname === '/events' && req.method === 'POST') {
      if (req.headers['x-hubspot-signature'] === signV1(CLIENT_SECRET, body)) {
        this.events.push(...(JSON.parse(body) as Record<string, unknown>[]));
      }
      res.writeHead(200).end();
    } else if (url.pathname === '/logo.png') {
      res.writeHead(200, { 'Content-Type': 'image/png' }).end(PNG_1X1);
    } else if (url.pathname === '/connect' && req.method === 'GET') {
      const hidden = ['accountToken', 'channelId', 'inboxId', 'portalId', 'redirectUrl']
        .map((name) => {
          const value = (url.searchParams.get(name) ?? '').replace(/[&<>"']/g, '');
          return `<input type="hidden" name="${name}" value="${value}">`;
        })
        .join('');
      res
        .writeHead(200, { 'Content-Type': 'text/html' })
        .end(
          `<!doctype html><title>Connect Telegram</title><form method="post" action="/connect">${hidden}<label>Bot name <input name="botName"></label><button id="connect">Connect</button></form>`,
        );
    } else if (url.pathname === '/connect' && req.method === 'POST') {
      const form = new URLSearchParams(body);
      const patch = await fetch(
        `${this.sandboxUrl}/conversations/v3/custom-channels/${form.get('channelId') ?? ''}/channel-account-staging-tokens/${form.get('accountToken') ?? ''}`,
        {
          method: 'PATCH',
          headers: { Authorization: `Bearer ${this.accessToken}`, 'Content-Type': 'application/json' },
          body: JSON.stringify({
            accountName: form.get('botName'),
            deliveryIdentifier: {
              type: 'CHANNEL_SPECIFIC_OPAQUE_ID',
              value: `bot-${form.get('botName') ?? ''}`,
            },
          }),
        },
      );
      this.stagingAnswers.push(patch.status);
      res.writeHead(303, { Location: form.get('redirectUrl') ?? '/' }).end();
    } else {
      res.writeHead(404).end();
    }
  }
}
