import { SettingsLinkSigner, TablePruner } from '@inbox-bridge/service-kit';
import { RoutingKeys } from '@inbox-bridge/shared';
import * as testing from '@inbox-bridge/testing';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { routerMigrations } from '../src/database/data-source.js';
import {
  adminClient,
  GatewayEvents,
  RouterCommands,
  started,
  startRouter,
  user,
  type RunningRouter,
} from './router-harness.js';

const PORTAL_A = 5_550_001;
const PORTAL_B = 5_550_002;
const TOKEN_A = 'portal-a-admin-token-0123456789';
const TOKEN_B = 'portal-b-admin-token-9876543210';
const LINK_SECRET = 'settings-link-secret-for-tests-0123456789';

describe('router admin API and settings page (tenant isolation, validation, headless Chromium)', () => {
  let db: testing.TestDatabase;
  let vhost: testing.TestVhost;
  let router: RunningRouter;
  let events: GatewayEvents;
  let commands: RouterCommands;
  let context: BrowserContext;
  let page: Page;
  let profileDir: string;
  const adminA = () => adminClient(router.baseUrl, TOKEN_A);
  const adminB = () => adminClient(router.baseUrl, TOKEN_B);

  beforeAll(async () => {
    vhost = await testing.createTestVhost('router_admin');
    db = await testing.createTestDatabase('router_admin', routerMigrations, { poolSize: 2 });
    router = await startRouter(db, vhost, {
      adminTokens: `${PORTAL_A}:${TOKEN_A},${PORTAL_B}:${TOKEN_B}`,
      env: { SETTINGS_LINK_SECRET: LINK_SECRET, ROUTER_PUBLIC_URL: 'https://router.example.com/' },
    });
    events = await GatewayEvents.open(vhost.url);
    commands = await RouterCommands.capture(vhost.url);
    for (const [portalId, channelAccountId] of [
      [PORTAL_A, 'ca-a'],
      [PORTAL_B, 'ca-b'],
    ] as const) {
      await events.publish(portalId, RoutingKeys.GatewayChannelAccountConnectedV1, {
        channelAccountId,
        hubspotChannelId: '1001',
        inboxId: '9001',
        provider: 'twilio',
        name: `SMS line ${channelAccountId}`,
      });
      await events.publish(portalId, RoutingKeys.GatewayRosterChangedV1, {
        users: [
          user('u1', { name: `Agent one of ${channelAccountId}`, email: `one@${channelAccountId}.example` }),
          user('u2', { name: `Agent two of ${channelAccountId}` }),
        ],
        teams: [],
        full: true,
      });
    }
    await testing.expectEventually(async () => {
      expect((await adminA().call('GET', '/admin/channel-accounts/ca-a/rules')).status).toBe(200);
      expect((await adminB().call('GET', '/admin/channel-accounts/ca-b/rules')).status).toBe(200);
    });
    profileDir = await mkdtemp(join(tmpdir(), 'router-chromium-'));
    context = await chromium.launchPersistentContext(profileDir, {
      executablePath: '/usr/bin/chromium',
      headless: true,
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--no-first-run',
        '--disable-background-networking',
      ],
    });
    page = context.pages()[0] ?? (await context.newPage());
  }, 90_000);

  afterAll(async () => {
    await context.close();
    await rm(profileDir, { recursive: true, force: true });
    await commands.close();
    await events.close();
    await router.close();
    await db.dispose();
    await vhost.dispose();
  });

  it('answers 401 problem+json without a valid bearer token', async () => {
    for (const headers of [
      {},
      { authorization: 'Bearer wrong-token-wrong-token' },
      { authorization: TOKEN_A },
    ] as Record<string, string>[]) {
      const response = await fetch(`${router.baseUrl}/admin/channel-accounts/ca-a/rules`, { headers });
      expect(response.status).toBe(401);
      expect(response.headers.get('content-type')).toMatch(/application\/problem\+json/);
      expect(await response.json()).toMatchObject({ code: 'UNAUTHORIZED' });
    }
  });

  /** Every `METHOD /path` the running app serves under `/admin` and `/settings` (Express's own route table). */
  const servedRoutes = (): string[] => {
    const express = router.app.getHttpAdapter().getInstance() as {
      router: { stack: { route?: { path: string; methods: Record<string, boolean> } }[] };
    };
    return express.router.stack
      .flatMap(({ route }) =>
        route === undefined
          ? []
          : Object.keys(route.methods).map((method) => `${method.toUpperCase()} ${route.path}`),
      )
      .filter((route) => / \/(admin|settings)\//.test(route))
      .sort();
  };

  it('authenticates every admin and settings route it serves, except the OpenAPI document', async () => {
    const routes = servedRoutes().filter((route) => route !== 'GET /admin/openapi.json');
    expect(routes.length).toBeGreaterThanOrEqual(8);
    for (const route of routes) {
      const [method = '', path = ''] = route.split(' ');
      const url = `${router.baseUrl}${path.replace(/:(\w+)/g, (_, name: string) => (name === 'hubspotThreadId' ? 'thread-b' : 'ca-a'))}`;
      for (const headers of [{}, { authorization: 'Bearer not-a-token-of-any-portal' }] as Record<
        string,
        string
      >[]) {
        const response = await fetch(url, {
          method,
          headers: { ...headers, 'content-type': 'application/json' },
          ...(method === 'GET' ? {} : { body: JSON.stringify({ mode: 'off' }) }),
        });
        expect({ route, status: response.status }).toEqual({ route, status: 401 });
        expect(response.headers.get('content-type')).toMatch(/application\/problem\+json/);
      }
    }
  });

  it('scopes every request to the token portal: the other portal’s resources are 404', async () => {
    expect((await adminA().call('GET', '/admin/channel-accounts/ca-b/rules')).status).toBe(404);
    expect((await adminA().call('GET', '/admin/channel-accounts/ca-b/queue')).status).toBe(404);
    const put = await adminA().putRules('ca-b', { mode: 'users-and-teams', targets: { userIds: ['u1'] } });
    expect(put.status).toBe(404);
    expect((await adminB().call('GET', '/admin/channel-accounts/ca-b/rules')).body?.['rules']).toMatchObject({
      mode: 'off',
    });
    const listed = await adminA().call('GET', '/admin/channel-accounts');
    expect((listed.body as unknown as { channelAccountId: string }[]).map((a) => a.channelAccountId)).toEqual(
      ['ca-a'],
    );

    await adminB().putRules('ca-b', { mode: 'users-and-teams', targets: { userIds: ['u2'] } });
    await events.publish(PORTAL_B, RoutingKeys.GatewayConversationStartedV1, started('ca-b', 'thread-b'));
    await commands.nth(PORTAL_B, 'thread-b');
    expect((await adminB().audit('thread-b')).status).toBe(200);
    expect((await adminA().audit('thread-b')).status).toBe(404);
    // The same thread id in portal A is a different conversation: B's decision is invisible to A.
    await adminA().putRules('ca-a', { mode: 'users-and-teams', targets: { userIds: ['u1'] } });
    await events.publish(PORTAL_A, RoutingKeys.GatewayConversationStartedV1, started('ca-a', 'thread-b'));
    const inA = await commands.nth(PORTAL_A, 'thread-b');
    expect(inA.assignee).toEqual({ type: 'user', userId: 'u1' });
    const trailA = (await adminA().audit('thread-b')).body as {
      channelAccountId: string;
      entries: unknown[];
    };
    expect(trailA.channelAccountId).toBe('ca-a');
    expect(trailA.entries).toHaveLength(1);
  });

  it('prunes audit entries older than ROUTING_AUDIT_RETENTION_MS (90 days) and keeps the rest', async () => {
    await db.dataSource.query(
      `INSERT INTO "${db.schema}".routing_audit (portal_id, hubspot_thread_id, channel_account_id, action, reason, recorded_at)
       VALUES ($1, 'thread-b', 'ca-a', 'assigned', 'a decision of last season', now() - interval '91 days')`,
      [PORTAL_A],
    );
    const entriesOf = async () =>
      ((await adminA().audit('thread-b')).body as { entries: { reason: string }[] }).entries;
    expect(await entriesOf()).toHaveLength(2);
    expect(await router.app.get(TablePruner).prune()).toEqual({ routing_audit: 1 });
    const kept = await entriesOf();
    expect(kept).toHaveLength(1);
    expect(kept[0]?.reason).not.toBe('a decision of last season');
  });

  it('answers 400 naming the path id when it holds a control character (found by the fuzz run: it was a 500)', async () => {
    for (const [method, path] of [
      ['PUT', '/admin/channel-accounts/ca-a%00/rules'],
      ['GET', '/admin/channel-accounts/ca-a%00/rules'],
      ['GET', '/admin/channel-accounts/ca%0Aa/queue'],
      ['POST', '/admin/channel-accounts/ca-a%00/settings-link'],
      ['GET', '/admin/conversations/thread%00/audit'],
      ['GET', '/settings/ca-a%00'],
    ] as const) {
      const response = await adminA().call(method, path, method === 'PUT' ? { mode: 'off' } : undefined);
      expect({ path, status: response.status }).toEqual({ path, status: 400 });
      expect(response.contentType).toMatch(/application\/problem\+json/);
      expect((response.body?.['errors'] as { field: string }[])[0]?.field).toMatch(
        /^(channelAccountId|hubspotThreadId)$/,
      );
    }
  });

  it('settings page: another portal’s bearer token neither opens nor saves an account (404)', async () => {
    const before = (await adminA().call('GET', '/admin/channel-accounts/ca-a/rules')).body?.['rules'];
    const opened = await fetch(`${router.baseUrl}/settings/ca-a`, {
      headers: { authorization: `Bearer ${TOKEN_B}` },
    });
    expect(opened.status).toBe(404);
    expect(opened.headers.get('content-type')).toMatch(/application\/problem\+json/);
    expect(await opened.text()).not.toContain('SMS line ca-a');
    const posted = await fetch(`${router.baseUrl}/settings/ca-a`, {
      method: 'POST',
      headers: { authorization: `Bearer ${TOKEN_B}`, 'content-type': 'application/x-www-form-urlencoded' },
      body: 'mode=users-and-teams&userIds=u2&distribution=fewest-open',
    });
    expect(posted.status).toBe(404);
    // A signed link of portal B's account does not open portal A's account of another id either.
    const linkB = new URL(
      String((await adminB().call('POST', '/admin/channel-accounts/ca-b/settings-link')).body?.['url']),
    );
    const crossed = await fetch(`${router.baseUrl}/settings/ca-a${linkB.search}`);
    expect(crossed.status).toBe(401);
    expect((await adminA().call('GET', '/admin/channel-accounts/ca-a/rules')).body?.['rules']).toEqual(
      before,
    );
  });

  it('settings page: a signed link to an account the router has not heard of yet reloads until it has', async () => {
    const link = new SettingsLinkSigner(LINK_SECRET).sign(PORTAL_A, 'ca-late', 15 * 60_000);
    const url = `${router.baseUrl}/settings/ca-late?${new URLSearchParams({ ...link }).toString()}`;
    const early = await fetch(url);
    expect(early.status).toBe(503);
    expect(early.headers.get('retry-after')).toBe('2');
    expect(early.headers.get('content-type')).toMatch(/text\/html/);
    const body = await early.text();
    expect(body).toContain('<meta http-equiv="refresh" content="2">');
    expect(body).toContain('data-pending="ca-late"');
    // A bearer token is an API client, not a browser that reloads: an unknown account stays a 404 problem.
    const byToken = await fetch(`${router.baseUrl}/settings/ca-late`, {
      headers: { authorization: `Bearer ${TOKEN_A}` },
    });
    expect(byToken.status).toBe(404);
    expect(byToken.headers.get('content-type')).toMatch(/application\/problem\+json/);

    await events.publish(PORTAL_A, RoutingKeys.GatewayChannelAccountConnectedV1, {
      channelAccountId: 'ca-late',
      hubspotChannelId: '1001',
      inboxId: '9001',
      provider: 'telegram',
      name: 'Late bot',
    });
    await testing.expectEventually(async () => {
      const ready = await fetch(url);
      expect(ready.status).toBe(200);
      expect(await ready.text()).toContain('<strong>Late bot</strong>');
    });
  });

  it('settings form: a field holding a NUL is a 400 page naming it (found by the fuzz run: it was a 500)', async () => {
    const response = await fetch(`${router.baseUrl}/settings/ca-a`, {
      method: 'POST',
      headers: { authorization: `Bearer ${TOKEN_A}`, 'content-type': 'application/x-www-form-urlencoded' },
      body: 'mode=users-and-teams&teamIds=11%00',
    });
    expect(response.status).toBe(400);
    expect(response.headers.get('content-type')).toMatch(/^text\/html/);
    expect(await response.text()).toMatch(/id="teamIds"[^>]*aria-invalid="true"/);
  });

  it('rejects invalid rules with field-level problem+json errors', async () => {
    const response = await adminA().putRules('ca-a', {
      mode: 'users-and-teams',
      capacity: { maxOpenPerAgent: 0 },
      businessHours: {
        timeZone: 'Not/AZone',
        weekly: { mon: [{ start: '17:00', end: '09:00' }] },
        outsideHours: { action: 'wait' },
      },
    });
    expect(response.status).toBe(400);
    expect(response.contentType).toMatch(/application\/problem\+json/);
    expect(response.body?.['errors']).toEqual(
      expect.arrayContaining([
        { field: 'targets.userIds', message: 'name at least one user or team to route to' },
        { field: 'capacity.maxOpenPerAgent', message: expect.any(String) },
        { field: 'businessHours.timeZone', message: 'must be an IANA time zone such as Europe/Madrid' },
        { field: 'businessHours.weekly.mon.0.end', message: 'must end after it starts' },
      ]),
    );
    const unknownField = await adminA().call('PUT', '/admin/channel-accounts/ca-a/rules', {
      mode: 'off',
      colour: 1,
      targets: { groups: ['g1'] },
    });
    expect(unknownField.status).toBe(400);
    expect(unknownField.contentType).toMatch(/application\/problem\+json/);
    expect(unknownField.body?.['errors']).toHaveLength(2);
    expect(unknownField.body?.['errors']).toEqual(
      expect.arrayContaining([
        { field: 'colour', message: 'is not a known field' },
        { field: 'targets.groups', message: 'is not a known field' },
      ]),
    );
  });

  it('serves its OpenAPI document with the rules schema', async () => {
    const response = await fetch(`${router.baseUrl}/admin/openapi.json`);
    expect(response.status).toBe(200);
    const document = (await response.json()) as {
      openapi: string;
      paths: Record<string, unknown>;
      components: { schemas: { RoutingRules: { properties: Record<string, unknown> } } };
    };
    expect(document.openapi).toBe('3.1.0');
    expect(Object.keys(document.paths)).toEqual(
      expect.arrayContaining([
        '/admin/channel-accounts/{channelAccountId}/rules',
        '/admin/channel-accounts/{channelAccountId}/queue',
        '/admin/conversations/{hubspotThreadId}/audit',
      ]),
    );
    // Every route the app serves is in the document, with its method.
    const documented = Object.entries(document.paths).flatMap(([path, operations]) =>
      Object.keys(operations as Record<string, unknown>)
        .filter((key) => ['get', 'put', 'post', 'patch', 'delete'].includes(key))
        .map((method) => `${method.toUpperCase()} ${path.replace(/\{(\w+)\}/g, ':$1')}`),
    );
    expect(documented).toEqual(
      expect.arrayContaining(servedRoutes().filter((r) => !r.endsWith('openapi.json'))),
    );
    expect(Object.keys(document.components.schemas.RoutingRules.properties)).toEqual(
      expect.arrayContaining(['mode', 'targets', 'distribution', 'capacity', 'businessHours', 'sticky']),
    );
  });

  it('settings page in headless Chromium: shows field errors, saves, and the rules route conversations', async () => {
    // A signed link, minted by the admin API for portal A's account (the popup's last step links it).
    const minted = await adminA().call('POST', '/admin/channel-accounts/ca-a/settings-link');
    expect(minted.status).toBe(201);
    const link = new URL(String(minted.body?.['url']));
    expect(`${link.origin}${link.pathname}`).toBe('https://router.example.com/settings/ca-a');
    expect(link.search).not.toContain(TOKEN_A);
    const local = `${router.baseUrl}${link.pathname}${link.search}`;

    // Portal B cannot mint a link to A's account; a link is bound to its account; a forged one is refused.
    expect((await adminB().call('POST', '/admin/channel-accounts/ca-a/settings-link')).status).toBe(404);
    const otherAccount = await fetch(local.replace('/settings/ca-a', '/settings/ca-b'));
    expect(otherAccount.status).toBe(401);
    const forged = await fetch(local.replace(/sig=[^&]+/, 'sig=AAAA'));
    expect(forged.status).toBe(401);
    expect((await fetch(`${router.baseUrl}/settings/ca-a`)).status).toBe(401);

    const response = await page.goto(local);
    expect(response?.status()).toBe(200);
    await expect(page.locator('h1').textContent()).resolves.toBe('Automatic assignment');
    await expect(page.locator('body').textContent()).resolves.toContain('SMS line ca-a');

    await page.selectOption('#mode', 'users-and-teams');
    await page.fill('#userIds', '');
    await page.fill('#maxOpenPerAgent', 'lots');
    await page.check('#businessHoursEnabled');
    await page.fill('#timeZone', 'Mars/Base');
    await Promise.all([page.waitForLoadState('load'), page.click('button[type=submit]')]);
    const errorFields: (string | null)[] = [];
    for (const error of await page.locator('p.error[data-field]').all()) {
      errorFields.push(await error.getAttribute('data-field'));
    }
    expect(errorFields.sort()).toEqual(['maxOpenPerAgent', 'timeZone', 'userIds']);
    expect(await page.inputValue('#maxOpenPerAgent')).toBe('lots');

    await page.fill('#userIds', 'u2');
    await page.fill('#maxOpenPerAgent', '3');
    await page.uncheck('#businessHoursEnabled');
    await page.selectOption('#distribution', 'fewest-open');
    await Promise.all([page.waitForLoadState('load'), page.click('button[type=submit]')]);
    await expect(page.locator('[role=status]').textContent()).resolves.toContain('Saved');
    expect(await page.inputValue('#userIds')).toBe('u2');

    const saved = (await adminA().call('GET', '/admin/channel-accounts/ca-a/rules')).body as {
      rules: Record<string, unknown>;
    };
    expect(saved.rules).toMatchObject({
      mode: 'users-and-teams',
      targets: { userIds: ['u2'], teamIds: [] },
      distribution: 'fewest-open',
      capacity: { maxOpenPerAgent: 3, perUser: {} },
      businessHours: null,
    });
    await events.publish(PORTAL_A, RoutingKeys.GatewayConversationStartedV1, started('ca-a', 'thread-page'));
    expect((await commands.nth(PORTAL_A, 'thread-page')).assignee).toEqual({ type: 'user', userId: 'u2' });

    // The page lists the portal's own users and teams by name, and warns (without refusing) about an id the
    // roster does not have, which would leave conversations waiting.
    const directory = await page.locator('#directory').textContent();
    expect(directory).toContain('Agent one of ca-a');
    expect(directory).toContain('one@ca-a.example');
    expect(directory).not.toContain('of ca-b');
    await page.fill('#userIds', 'u2, ghost-user');
    await Promise.all([page.waitForLoadState('load'), page.click('button[type=submit]')]);
    await expect(page.locator('[role=status]').textContent()).resolves.toContain('Saved');
    expect(new URL(page.url()).pathname).toBe('/settings/ca-a');
    const warnings: (string | null)[] = [];
    for (const warning of await page.locator('p.warning[data-warning]').all()) {
      warnings.push(`${await warning.getAttribute('data-warning')}: ${await warning.textContent()}`);
    }
    expect(warnings).toEqual([expect.stringMatching(/^userIds: Not in this portal's roster: ghost-user\./)]);
  });
});
