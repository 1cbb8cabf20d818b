import {
  SandboxControlClient,
  startHubSpotSandbox,
  type RunningHubSpotSandbox,
} from '@inbox-bridge/hubspot-sandbox';
import { Messaging } from '@inbox-bridge/messaging';
import { DATA_SOURCE, MediaLinkSigner } from '@inbox-bridge/service-kit';
import type { MessageOf, RoutingKey } from '@inbox-bridge/shared';
import * as testing from '@inbox-bridge/testing';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { DataSource } from 'typeorm';
import { ChannelAccountRepository } from '../../src/accounts/channel-account.repository.js';
import { gatewayMigrations } from '../../src/database/data-source.js';
import { PortalTokens } from '../../src/hubspot/portal-tokens.js';
import { INSTALL_SCOPES } from '../../src/platform/oauth/oauth-install.service.js';
import { DEV_MEDIA_LINK_SECRET } from '../../src/platform/platform.wiring.js';
import { freePort, startPlatformGateway, type PlatformGateway } from './platform-gateway.js';

export const OPS_TOKEN = 'ops-token-for-platform-flow-tests-0001';
export const USER_ID = 77;
export const INBOX_ID = '311';

/** Media the stand-in for the connector's `/internal/media` serves, by download reference. */
export const MEDIA: Record<string, { type: string; bytes: Buffer }> = {
  'media:photo-1': { type: 'image/jpeg', bytes: Buffer.alloc(300 * 1024, 1) },
  'media:voice-1': { type: 'audio/ogg', bytes: Buffer.alloc(20 * 1024, 2) },
  /** A connector that knows no better than "some bytes": the message's declared type is used instead. */
  'media:octet-1': { type: 'application/octet-stream', bytes: Buffer.alloc(2 * 1024, 3) },
  'media:program-1': { type: 'application/x-msdownload', bytes: Buffer.alloc(1024, 4) },
};

/**
 * A real gateway, a real hubspot-sandbox, a test schema and vhost, an installed portal, the registered
 * channel, and a stand-in for the connector's `/internal/media` that checks the gateway's signed links.
 */
export class PlatformFixture {
  sandbox!: RunningHubSpotSandbox;
  control!: SandboxControlClient;
  db!: testing.TestDatabase;
  vhost!: testing.TestVhost;
  gateway!: PlatformGateway;
  channelId = '';
  mediaServer!: Server;
  readonly mediaRequests: string[] = [];
  private nextAccount = 0;

  /** Set with `{ proxied: true }`: the gateway reaches HubSpot through it, so a test can cut HubSpot off. */
  proxy: testing.TcpProxy | undefined;

  constructor(
    readonly hubId: number,
    private readonly env: Record<string, string> = {},
    private readonly options: {
      readonly proxied?: boolean;
      readonly sandboxEnv?: Record<string, string>;
    } = {},
  ) {}

  async start(prefix: string): Promise<void> {
    this.vhost = await testing.createTestVhost(prefix);
    this.db = await testing.createTestDatabase(prefix, gatewayMigrations, { poolSize: 2 });
    this.sandbox = await startHubSpotSandbox(
      { LOG_LEVEL: 'silent', SANDBOX_WEBHOOK_TIME_SCALE: '0.001', ...this.options.sandboxEnv },
      { port: 0 },
    );
    this.control = new SandboxControlClient(this.sandbox.url);
    await this.control.seedPortal({
      hubId: this.hubId,
      teams: [{ id: '11', name: 'Support' }],
      users: [{ id: USER_ID, email: 'rep@example.com', ownerId: '501', teamIds: ['11'] }],
      contacts: [{ id: '9001', properties: { email: 'ada@example.com', hubspot_owner_id: '501' } }],
      inboxes: [
        { id: INBOX_ID, name: 'Support' },
        { id: '312', name: 'Help desk', helpDesk: true },
      ],
    });
    this.mediaServer = await this.startMediaServer();
    const mediaPort = (this.mediaServer.address() as AddressInfo).port;
    const port = await freePort();
    if (this.options.proxied === true) {
      const sandboxPort = Number(new URL(this.sandbox.url).port);
      this.proxy = await new testing.TcpProxy('127.0.0.1', sandboxPort).start();
    }
    this.gatewayEnv = {
      HUBSPOT_API_BASE_URL:
        this.proxy === undefined ? this.sandbox.url : this.proxy.via(this.sandbox.url).replace(/\/$/, ''),
      PUBLIC_BASE_URL: `http://127.0.0.1:${port}`,
      OPS_API_TOKEN: OPS_TOKEN,
      CONNECTOR_INTERNAL_URL: `http://127.0.0.1:${mediaPort}`,
      HUBSPOT_RETRY_BASE_MS: '50',
      HUBSPOT_MAX_ATTEMPTS: '2',
      ...this.env,
    };
    this.gateway = await startPlatformGateway(this.db, this.vhost, this.gatewayEnv, port);
    this.accessToken = await this.installApp(this.hubId);
    const registered = await fetch(`${this.gateway.baseUrl}/admin/channel/register`, {
      method: 'POST',
      headers: { authorization: `Bearer ${OPS_TOKEN}` },
    });
    this.channelId = ((await registered.json()) as { channelId: string }).channelId;
  }

  accessToken = '';
  gatewayEnv: Record<string, string> = {};

  /** Another replica of the same gateway (same schema, vhost and settings). */
  replica(): Promise<PlatformGateway> {
    return startPlatformGateway(this.db, this.vhost, this.gatewayEnv);
  }

  get dataSource(): DataSource {
    return this.gateway.app.get<DataSource>(DATA_SOURCE, { strict: false });
  }

  private readonly otherPortals = new Map<number, string>();

  /** Another portal in the same sandbox with the app installed (the same seed: inboxes, users, teams). */
  async addPortal(hubId: number): Promise<void> {
    await this.control.seedPortal({
      hubId,
      users: [{ id: USER_ID, email: 'rep@example.com', ownerId: '501', teamIds: [] }],
      inboxes: [{ id: INBOX_ID, name: 'Support' }],
    });
    this.otherPortals.set(hubId, await this.installApp(hubId));
  }

  /** Installs the app in the portal as the OAuth callback does; the portal's access token. */
  private async installApp(hubId: number): Promise<string> {
    const issued = await this.control.issueTokens(hubId, {
      appId: 1_000_001,
      userId: USER_ID,
      scopes: [...INSTALL_SCOPES],
    });
    await this.dataSource.transaction((manager) =>
      this.gateway.app
        .get(PortalTokens, { strict: false })
        .install(manager, { portalId: String(hubId), tokens: issued, scopes: [...INSTALL_SCOPES] }),
    );
    return issued.access_token;
  }

  /** A channel account in the sandbox and in the gateway's account store (as the accounts feature keeps it). */
  async account(
    options: { inboxId?: string; provider?: 'telegram' | 'twilio'; hubId?: number } = {},
  ): Promise<string> {
    this.nextAccount += 1;
    const hubId = options.hubId ?? this.hubId;
    const accessToken = this.otherPortals.get(hubId) ?? this.accessToken;
    const botId = `bot-${hubId}-${this.nextAccount}`;
    const response = await fetch(
      `${this.sandbox.url}/conversations/v3/custom-channels/${this.channelId}/channel-accounts`,
      {
        method: 'POST',
        headers: { authorization: `Bearer ${accessToken}`, 'content-type': 'application/json' },
        body: JSON.stringify({
          inboxId: options.inboxId ?? INBOX_ID,
          name: `Bot ${this.nextAccount}`,
          authorized: true,
          deliveryIdentifier: { type: 'CHANNEL_SPECIFIC_OPAQUE_ID', value: botId },
        }),
      },
    );
    const created = (await response.json()) as { id: string };
    const repository = this.gateway.app.get(ChannelAccountRepository, { strict: false });
    await this.dataSource.transaction((manager) =>
      repository.insertIfNew(manager, {
        channelAccountId: created.id,
        portalId: String(hubId),
        channelId: this.channelId,
        inboxId: options.inboxId ?? INBOX_ID,
        inboxType: options.inboxId === '312' ? 'HELP_DESK' : 'INBOX',
        provider: options.provider ?? 'telegram',
        name: `Bot ${this.nextAccount}`,
        deliveryIdentifier: { type: 'CHANNEL_SPECIFIC_OPAQUE_ID', value: botId },
        authorized: true,
        active: true,
        archived: false,
      }),
    );
    return created.id;
  }

  /** Publishes an event as another service would (through the gateway's own outbox and relay). */
  async publish<K extends RoutingKey>(type: K, payload: MessageOf<K>, hubId = this.hubId): Promise<void> {
    const messaging = this.gateway.app.get(Messaging, { strict: false });
    await this.dataSource.transaction((manager) =>
      messaging.outbox.publish(manager, type, payload, { portalId: hubId }),
    );
  }

  async stop(): Promise<void> {
    await this.gateway.app.close();
    await this.proxy?.stop();
    await this.sandbox.close();
    await new Promise((resolve) => this.mediaServer.close(resolve));
    await this.db.dispose();
    await this.vhost.dispose();
  }

  private async startMediaServer(): Promise<Server> {
    const signer = new MediaLinkSigner(DEV_MEDIA_LINK_SECRET, 'provider-media');
    const server = createServer((request, response) => {
      const url = new URL(request.url ?? '/', 'http://localhost');
      const verdict = signer.verify({
        ref: url.searchParams.get('ref') ?? undefined,
        exp: url.searchParams.get('exp') ?? undefined,
        sig: url.searchParams.get('sig') ?? undefined,
      });
      if (url.pathname !== '/internal/media' || !verdict.ok) {
        response.writeHead(403).end();
        return;
      }
      this.mediaRequests.push(verdict.ref);
      const media = MEDIA[verdict.ref];
      if (media === undefined) {
        response.writeHead(404).end();
        return;
      }
      response.writeHead(200, { 'content-type': media.type, 'content-length': String(media.bytes.length) });
      response.end(media.bytes);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return server;
  }
}
