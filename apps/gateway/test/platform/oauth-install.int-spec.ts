import {
  SandboxControlClient,
  startHubSpotSandbox,
  type RunningHubSpotSandbox,
} from '@inbox-bridge/hubspot-sandbox';
import { EVENTS_EXCHANGE } from '@inbox-bridge/messaging';
import * as testing from '@inbox-bridge/testing';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { gatewayMigrations } from '../../src/database/data-source.js';
import { INSTALL_SCOPES } from '../../src/platform/oauth/oauth-install.service.js';
import { PlatformScheduler } from '../../src/platform/platform-scheduler.js';
import { startPlatformGateway, type PlatformGateway } from './platform-gateway.js';

const APP = {
  appId: 2_000_002,
  clientId: 'platform-oauth-client',
  clientSecret: 'platform-oauth-secret',
  developerApiKeys: ['platform-oauth-dev-key'],
};
const HUB_ID = 5_151;
const ROSTER = 'gateway.roster.changed.v1';

interface Envelope {
  readonly type: string;
  readonly portalId: number;
  readonly payload: {
    users: { userId: string; ownerId?: string; teamIds: string[]; availability: string }[];
    teams: unknown[];
  };
}

describe('OAuth install: /oauth/install → HubSpot consent → /oauth/callback (real sandbox)', () => {
  let sandbox: RunningHubSpotSandbox;
  let control: SandboxControlClient;
  let db: testing.TestDatabase;
  let vhost: testing.TestVhost;
  let gateway: PlatformGateway;
  let published: testing.CapturedMessages<Envelope>;

  /** What HubSpot's consent page does when the admin picks the portal and clicks "Connect app". */
  const consent = async (authorizeUrl: string): Promise<string> => {
    const url = new URL(authorizeUrl);
    const form = new URLSearchParams({
      client_id: url.searchParams.get('client_id') ?? '',
      redirect_uri: url.searchParams.get('redirect_uri') ?? '',
      scope: url.searchParams.get('scope') ?? '',
      state: url.searchParams.get('state') ?? '',
      portalId: String(HUB_ID),
      userId: '77',
      decision: 'grant',
    });
    const answer = await fetch(`${sandbox.url}/oauth/authorize/decision`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: form,
      redirect: 'manual',
    });
    expect(answer.status).toBe(302);
    return answer.headers.get('location') ?? '';
  };

  const startInstall = async (): Promise<string> => {
    const answer = await fetch(`${gateway.baseUrl}/oauth/install`, { redirect: 'manual' });
    expect(answer.status).toBe(302);
    return answer.headers.get('location') ?? '';
  };

  beforeAll(async () => {
    vhost = await testing.createTestVhost('gateway_oauth');
    db = await testing.createTestDatabase('gateway_oauth', gatewayMigrations, { poolSize: 2 });
    published = await testing.captureMessages<Envelope>(vhost.url, EVENTS_EXCHANGE, ROSTER);
    sandbox = await startHubSpotSandbox({ LOG_LEVEL: 'silent' }, { port: 0 });
    control = new SandboxControlClient(sandbox.url);
    await control.seedPortal({
      hubId: HUB_ID,
      teams: [{ id: '11', name: 'Support' }],
      users: [
        { id: 77, email: 'rep@example.com', firstName: 'Ada', ownerId: '501', teamIds: ['11'] },
        { id: 78, email: 'away@example.com', ownerId: '502', availability: 'away' },
      ],
      inboxes: [{ id: '311', name: 'Support' }],
    });
    gateway = await startPlatformGateway(db, vhost, {
      HUBSPOT_API_BASE_URL: sandbox.url,
      HUBSPOT_AUTHORIZE_BASE_URL: sandbox.url,
      HUBSPOT_APP_ID: String(APP.appId),
      HUBSPOT_CLIENT_ID: APP.clientId,
      HUBSPOT_CLIENT_SECRET: APP.clientSecret,
      HUBSPOT_DEVELOPER_API_KEY: APP.developerApiKeys[0] ?? '',
      ROSTER_REFRESH_INTERVAL: '1ms',
    });
    await control.registerApp({
      ...APP,
      name: 'Inbox Bridge test',
      redirectUris: [`${gateway.baseUrl}/oauth/callback`],
      scopes: [...INSTALL_SCOPES, 'oauth'],
    });
  });

  afterAll(async () => {
    await gateway.app.close();
    await sandbox.close();
    await published.close();
    await db.dispose();
    await vhost.dispose();
  });

  it('installs a portal: state checked once, tokens stored encrypted, roster published', async () => {
    const authorize = new URL(await startInstall());
    expect(authorize.origin + authorize.pathname).toBe(`${sandbox.url}/oauth/authorize`);
    expect(authorize.searchParams.get('client_id')).toBe(APP.clientId);
    expect(authorize.searchParams.get('redirect_uri')).toBe(`${gateway.baseUrl}/oauth/callback`);
    expect(authorize.searchParams.get('scope')?.split(' ')).toEqual([...INSTALL_SCOPES]);
    expect(authorize.searchParams.get('state')).toMatch(/^[A-Za-z0-9_-]{43}$/);

    const callback = await consent(authorize.toString());
    expect(callback.startsWith(`${gateway.baseUrl}/oauth/callback?`)).toBe(true);
    const done = await fetch(callback);
    expect(done.status).toBe(200);
    expect(await done.text()).toContain(`HubSpot account ${HUB_ID} is connected`);

    const [portal] = await db.dataSource.query<
      { status: string; access_token: string; refresh_token: string; scopes: string[] }[]
    >(
      `SELECT status, access_token, refresh_token, scopes FROM "${db.schema}".hubspot_portals WHERE portal_id = $1`,
      [HUB_ID],
    );
    expect(portal?.status).toBe('connected');
    expect(portal?.access_token).toMatch(/^v1\.k1\./);
    expect(portal?.refresh_token).toMatch(/^v1\.k1\./);
    expect(portal?.scopes).toEqual(
      expect.arrayContaining(['conversations.custom_channels.write', 'tickets']),
    );

    const roster = await testing.expectEventually(
      () => {
        const found = published.messages.find((message) => message.portalId === HUB_ID);
        if (found === undefined) {
          throw new Error('no roster yet');
        }
        return found;
      },
      { timeoutMs: 15_000, description: 'the roster published on install' },
    );
    expect(roster.payload.users).toEqual([
      expect.objectContaining({ userId: '77', ownerId: '501', teamIds: ['11'], availability: 'available' }),
      expect.objectContaining({ userId: '78', ownerId: '502', teamIds: [], availability: 'away' }),
    ]);
    expect(roster.payload.teams).toEqual([{ teamId: '11', name: 'Support' }]);

    // The 2026-03 endpoints (v1 is deprecated on 16 Feb 2027): the code and the token in form bodies, no URL.
    const oauthCalls = (await control.allCalls()).filter(
      (call) => call.path.startsWith('/oauth/') && !call.path.startsWith('/oauth/authorize'),
    );
    expect(oauthCalls.map((call) => `${call.method} ${call.path} ${call.status}`)).toEqual([
      'POST /oauth/2026-03/token 200',
      'POST /oauth/2026-03/token/introspect 200',
    ]);
    expect(oauthCalls[1]?.body).toMatchObject({ token: '***', token_type_hint: 'access_token' });

    // The same callback again: the state was single-use.
    const replay = await fetch(callback);
    expect(replay.status).toBe(400);
    expect(await replay.text()).toContain('INVALID_STATE');
  });

  it('re-reads rosters on schedule and publishes only when something changed', async () => {
    const scheduler = gateway.app.get(PlatformScheduler, { strict: false });
    const rostersOf = () => published.messages.filter((message) => message.portalId === HUB_ID);
    const before = rostersOf().length;
    expect(before).toBeGreaterThan(0);
    await scheduler.tick();
    await scheduler.tick();
    await control.updateUser(HUB_ID, 78, { availability: 'available' });
    await scheduler.tick();
    const changed = await testing.expectEventually(
      () => {
        const rosters = rostersOf();
        if (rosters.length <= before) {
          throw new Error('no new roster');
        }
        return rosters;
      },
      { timeoutMs: 15_000, description: 'the changed roster published' },
    );
    expect(changed).toHaveLength(before + 1);
    expect(changed.at(-1)?.payload.users.find((user) => user.userId === '78')?.availability).toBe(
      'available',
    );
  });

  it('refuses a forged state, a denied consent and a missing code without storing anything new', async () => {
    const forged = await fetch(`${gateway.baseUrl}/oauth/callback?code=abc&state=forged`);
    expect(forged.status).toBe(400);

    const authorize = new URL(await startInstall());
    const denied = await fetch(
      `${gateway.baseUrl}/oauth/callback?error=access_denied&state=${authorize.searchParams.get('state') ?? ''}`,
    );
    expect(denied.status).toBe(400);
    expect(await denied.text()).toContain('INSTALL_DENIED');
    const [count] = await db.dataSource.query<{ n: number }[]>(
      `SELECT count(*)::int AS n FROM "${db.schema}".hubspot_portals`,
    );
    expect(count?.n).toBe(1);
  });
});
