import {
  SandboxControlClient,
  startHubSpotSandbox,
  type RunningHubSpotSandbox,
} from '@inbox-bridge/hubspot-sandbox';
import { DATA_SOURCE } from '@inbox-bridge/service-kit';
import type { INestApplication } from '@nestjs/common';
import type { DataSource } from 'typeorm';
import { PortalTokens } from '../../src/hubspot/portal-tokens.js';

/** The sandbox's default app (its seeded developer key, app id and client secret). */
export const SANDBOX_APP = {
  appId: 1_000_001,
  hapikey: 'sandbox-developer-api-key',
  clientSecret: 'sandbox-client-secret',
} as const;

export const PORTAL_SCOPES = [
  'conversations.custom_channels.read',
  'conversations.custom_channels.write',
  'conversations.read',
  'conversations.write',
  'files',
];

export interface HubSpotFixture {
  readonly sandbox: RunningHubSpotSandbox;
  readonly control: SandboxControlClient;
  readonly hubId: number;
  readonly userId: number;
  accessToken(): string;
  /** Stores the portal's tokens in the gateway as its OAuth callback would. */
  installInto(app: INestApplication): Promise<void>;
  /** Seeds another portal (the same rep, its own inboxes) and installs the app into it in the gateway. */
  installAnotherPortal(
    app: INestApplication,
    hubId: number,
    inboxes: readonly { id: string; name: string }[],
  ): Promise<void>;
  /** Calls the emulated HubSpot API; throws unless the answer is 2xx. */
  api<T>(method: string, path: string, body?: unknown, auth?: 'bearer' | 'hapikey'): Promise<T>;
  createChannel(
    webhookUrl: string,
    capabilities?: Record<string, unknown>,
    extra?: Record<string, unknown>,
  ): Promise<string>;
  uploadFile(name: string, type: string, bytes: Uint8Array): Promise<string>;
  close(): Promise<void>;
}

/** A real hubspot-sandbox with one portal (an inbox and a help desk) and a portal token of the default app. */
export async function startHubSpotFixture(options: {
  hubId: number;
  inboxes: readonly { id: string; name: string; helpDesk?: boolean }[];
}): Promise<HubSpotFixture> {
  const sandbox = await startHubSpotSandbox(
    { LOG_LEVEL: 'silent', SANDBOX_WEBHOOK_TIME_SCALE: '0.001' },
    { port: 0 },
  );
  const control = new SandboxControlClient(sandbox.url);
  const userId = 77;
  const seedAndIssue = async (hubId: number, inboxes: readonly { id: string; name: string }[]) => {
    await control.seedPortal({
      hubId,
      users: [{ id: userId, email: 'rep@example.com', firstName: 'Riley', lastName: 'Rep' }],
      inboxes,
    });
    return control.issueTokens(hubId, { appId: SANDBOX_APP.appId, userId, scopes: PORTAL_SCOPES });
  };
  const install = async (app: INestApplication, hubId: number, tokens: typeof issued) => {
    const dataSource = app.get<DataSource>(DATA_SOURCE, { strict: false });
    await app.get(PortalTokens, { strict: false }).install(dataSource.manager, {
      portalId: String(hubId),
      tokens,
      scopes: PORTAL_SCOPES,
    });
  };
  const issued = await seedAndIssue(options.hubId, options.inboxes);

  const api = async <T>(
    method: string,
    path: string,
    body?: unknown,
    auth: 'bearer' | 'hapikey' = 'bearer',
  ): Promise<T> => {
    const url = new URL(path, sandbox.url);
    const headers: Record<string, string> = {};
    if (auth === 'hapikey') {
      url.searchParams.set('hapikey', SANDBOX_APP.hapikey);
      url.searchParams.set('appId', String(SANDBOX_APP.appId));
    } else {
      headers.authorization = `Bearer ${issued.access_token}`;
    }
    const init: RequestInit = { method, headers };
    if (body instanceof FormData) {
      init.body = body;
    } else if (body !== undefined) {
      headers['content-type'] = 'application/json';
      init.body = JSON.stringify(body);
    }
    const response = await fetch(url, init);
    const text = await response.text();
    if (!response.ok) {
      throw new Error(`${method} ${path} answered ${response.status}: ${text}`);
    }
    return (text === '' ? undefined : JSON.parse(text)) as T;
  };

  return {
    sandbox,
    control,
    hubId: options.hubId,
    userId,
    accessToken: () => issued.access_token,
    installInto: (app) => install(app, options.hubId, issued),
    installAnotherPortal: async (app, hubId, inboxes) => {
      await install(app, hubId, await seedAndIssue(hubId, inboxes));
    },
    api,
    createChannel: async (webhookUrl, capabilities = {}, extra = {}) => {
      const channel = await api<{ id: string }>(
        'POST',
        '/conversations/v3/custom-channels',
        {
          name: 'Bridge accounts test',
          webhookUrl,
          capabilities: {
            deliveryIdentifierTypes: ['CHANNEL_SPECIFIC_OPAQUE_ID', 'HS_PHONE_NUMBER'],
            threadingModel: 'INTEGRATION_THREAD_ID',
            allowOutgoingMessages: true,
            outgoingAttachmentTypes: ['FILE'],
            maxFileAttachmentCount: 5,
            maxFileAttachmentSizeBytes: 1_000_000,
            maxTotalFileAttachmentSizeBytes: 5_000_000,
            ...capabilities,
          },
          ...extra,
        },
        'hapikey',
      );
      return channel.id;
    },
    uploadFile: async (name, type, bytes) => {
      const form = new FormData();
      form.set('file', new Blob([bytes], { type }), name);
      form.set('folderPath', '/conversations/replies');
      form.set('options', JSON.stringify({ access: 'PRIVATE' }));
      const file = await api<{ id: string }>('POST', '/files/v3/files', form);
      return file.id;
    },
    close: () => sandbox.close(),
  };
}
