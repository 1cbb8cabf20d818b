/* eslint-disable @typescript-eslint/no-explicit-any -- HubSpot JSON bodies are asserted with expect(), not typed */
import type { NestExpressApplication } from '@nestjs/platform-express';
import type { AddressInfo } from 'node:net';
import { SandboxControlClient } from '../src/client/sandbox-control.client.js';
import { loadSandboxConfig } from '../src/config/sandbox.config.js';
import { createSandboxApp } from '../src/sandbox-app.js';

export const APP_ID = 1_000_001;
export const CLIENT_ID = 'sandbox-client-id';
export const CLIENT_SECRET = 'sandbox-client-secret';
export const HAPIKEY = 'sandbox-developer-api-key';
export const REDIRECT_URI = 'http://localhost:3000/oauth/callback';
export const HUB_ID = 4242;
export const USER_ID = 77;
export const INBOX_ID = '311';
export const OWNER_ID = '501';
export const TEAM_ID = '11';
/** A user of the portal without a seat (cannot be assigned). */
export const SEATLESS_USER_ID = 78;
export const CONTACT_ID = '201';
export const HELP_DESK_ID = '312';
export const ALL_CHANNEL_SCOPES = [
  'conversations.custom_channels.read',
  'conversations.custom_channels.write',
  'conversations.read',
];

export interface ApiResponse {
  readonly status: number;
  readonly headers: Headers;
  readonly body: any;
}

/** One running sandbox on an ephemeral port, with helpers that speak HTTP like the gateway will. */
export class SandboxHarness {
  private constructor(
    private readonly app: NestExpressApplication,
    readonly baseUrl: string,
    readonly control: SandboxControlClient,
  ) {}

  static async start(env: Record<string, string> = {}): Promise<SandboxHarness> {
    const config = loadSandboxConfig({ LOG_LEVEL: 'silent', ...env });
    const app = await createSandboxApp(config);
    await app.listen(0, '127.0.0.1');
    const { port } = app.getHttpServer().address() as AddressInfo;
    const baseUrl = `http://127.0.0.1:${port}`;
    return new SandboxHarness(app, baseUrl, new SandboxControlClient(baseUrl));
  }

  async stop(): Promise<void> {
    await this.app.close();
  }

  /** Reset, one portal with a user, an inbox and a help desk. */
  async seed(): Promise<void> {
    await this.control.reset();
    await this.control.seedPortal({
      hubId: HUB_ID,
      teams: [
        { id: TEAM_ID, name: 'Support team' },
        { id: '12', name: 'Sales team' },
      ],
      users: [
        {
          id: USER_ID,
          email: 'rep@example.com',
          firstName: 'Rita',
          lastName: 'Rep',
          ownerId: OWNER_ID,
          teamIds: [TEAM_ID, '12'],
        },
        { id: SEATLESS_USER_ID, email: 'viewer@example.com', seat: false, availability: 'away' },
      ],
      contacts: [
        {
          id: CONTACT_ID,
          properties: {
            email: 'ada@example.com',
            firstname: 'Ada',
            lastname: 'Lovelace',
            phone: '+4915112345678',
            hubspot_owner_id: OWNER_ID,
          },
        },
      ],
      inboxes: [
        { id: INBOX_ID, name: 'Support' },
        { id: HELP_DESK_ID, name: 'Help desk', helpDesk: true },
      ],
    });
  }

  async token(scopes: string[] = ALL_CHANNEL_SCOPES): Promise<string> {
    const issued = await this.control.issueTokens(HUB_ID, { appId: APP_ID, userId: USER_ID, scopes });
    return issued.access_token;
  }

  async request(
    method: string,
    path: string,
    options: { token?: string; body?: unknown; form?: Record<string, string> } = {},
  ): Promise<ApiResponse> {
    const headers: Record<string, string> = {};
    let body: string | undefined;
    if (options.token !== undefined) {
      headers.Authorization = `Bearer ${options.token}`;
    }
    if (options.form !== undefined) {
      headers['Content-Type'] = 'application/x-www-form-urlencoded';
      body = new URLSearchParams(options.form).toString();
    } else if (options.body !== undefined) {
      headers['Content-Type'] = 'application/json';
      body = JSON.stringify(options.body);
    }
    const response = await fetch(`${this.baseUrl}${path}`, { method, headers, body, redirect: 'manual' });
    const text = await response.text();
    let parsed: unknown = text;
    try {
      parsed = text === '' ? undefined : JSON.parse(text);
    } catch {
      // HTML pages and redirects stay text.
    }
    return { status: response.status, headers: response.headers, body: parsed };
  }

  /** `POST /files/v3/files` as multipart, like the SDK sends it. */
  uploadFile(
    token: string,
    options: {
      name?: string;
      bytes?: Uint8Array;
      type?: string;
      fields?: Record<string, string>;
      access?: string;
    } = {},
  ): Promise<ApiResponse> {
    const form = new FormData();
    form.set(
      'file',
      new Blob([options.bytes ?? new TextEncoder().encode('voice-note')], {
        type: options.type ?? 'audio/ogg',
      }),
      options.name ?? 'note.ogg',
    );
    const fields = options.fields ?? {
      folderPath: '/conversations/bridge',
      options: JSON.stringify({ access: options.access ?? 'PRIVATE' }),
    };
    for (const [name, value] of Object.entries(fields)) {
      form.set(name, value);
    }
    return this.send('POST', '/files/v3/files', { Authorization: `Bearer ${token}` }, form);
  }

  async send(
    method: string,
    path: string,
    headers: Record<string, string>,
    body?: FormData | string,
  ): Promise<ApiResponse> {
    const response = await fetch(path.startsWith('http') ? path : `${this.baseUrl}${path}`, {
      method,
      headers,
      body,
      redirect: 'manual',
    });
    const text = await response.text();
    let parsed: unknown = text;
    try {
      parsed = text === '' ? undefined : JSON.parse(text);
    } catch {
      // Plain text stays text.
    }
    return { status: response.status, headers: response.headers, body: parsed };
  }

  developer(method: string, path: string, body?: unknown): Promise<ApiResponse> {
    const separator = path.includes('?') ? '&' : '?';
    return this.request(method, `${path}${separator}hapikey=${HAPIKEY}&appId=${APP_ID}`, { body });
  }

  async createChannel(
    capabilities: Record<string, unknown>,
    extra: Record<string, unknown> = {},
  ): Promise<string> {
    const response = await this.developer('POST', '/conversations/v3/custom-channels', {
      name: 'Bridge',
      capabilities,
      ...extra,
    });
    if (response.status !== 201) {
      throw new Error(`channel create failed: ${JSON.stringify(response.body)}`);
    }
    return (response.body as { id: string }).id;
  }

  async createAccount(
    token: string,
    channelId: string,
    deliveryIdentifier?: { type: string; value: string },
  ): Promise<string> {
    const response = await this.request(
      'POST',
      `/conversations/v3/custom-channels/${channelId}/channel-accounts`,
      {
        token,
        body: {
          inboxId: INBOX_ID,
          name: 'Bot',
          authorized: true,
          ...(deliveryIdentifier === undefined ? {} : { deliveryIdentifier }),
        },
      },
    );
    if (response.status !== 201) {
      throw new Error(`account create failed: ${JSON.stringify(response.body)}`);
    }
    return (response.body as { id: string }).id;
  }
}

export const OPAQUE_CAPABILITIES = {
  deliveryIdentifierTypes: ['CHANNEL_SPECIFIC_OPAQUE_ID'],
  threadingModel: 'INTEGRATION_THREAD_ID',
  allowOutgoingMessages: true,
  outgoingAttachmentTypes: ['FILE'],
  maxFileAttachmentCount: 2,
  maxFileAttachmentSizeBytes: 1_000_000,
  maxTotalFileAttachmentSizeBytes: 2_000_000,
};

export function incomingMessage(
  channelAccountId: string,
  overrides: Record<string, unknown> = {},
): Record<string, unknown> {
  return {
    channelAccountId,
    messageDirection: 'INCOMING',
    text: 'hello',
    senders: [
      { deliveryIdentifier: { type: 'CHANNEL_SPECIFIC_OPAQUE_ID', value: 'tg-user-1' }, name: 'Customer' },
    ],
    recipients: [{ deliveryIdentifier: { type: 'CHANNEL_SPECIFIC_OPAQUE_ID', value: 'tg-bot-1' } }],
    timestamp: '2026-11-25T10:00:00.000Z',
    attachments: [],
    integrationThreadId: 'chat-1',
    ...overrides,
  };
}
