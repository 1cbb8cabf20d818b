import { EVENTS_EXCHANGE } from '@inbox-bridge/messaging';
import { SettingsLinkSigner, startServiceApp } from '@inbox-bridge/service-kit';
import * as testing from '@inbox-bridge/testing';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { loadConnectorConfig } from '../../../connector/src/config/connector.config.js';
import { createConnectorApp } from '../../../connector/src/connector-app.js';
import { connectorMigrations } from '../../../connector/src/database/data-source.js';
import {
  ProviderSandboxClient,
  startProviderSandbox,
  type RunningSandbox,
} from '../../../provider-sandbox/src/index.js';
import { routerMigrations } from '../../../router/src/database/data-source.js';
import { startRouter, type RunningRouter } from '../../../router/test/router-harness.js';
import { gatewayMigrations } from '../../src/database/data-source.js';
import { freePort, startGatewayUnderTest, type GatewayUnderTest } from './gateway-under-test.js';
import { SANDBOX_APP, startHubSpotFixture, type HubSpotFixture } from './hubspot-fixture.js';

const CHROMIUM = '/usr/bin/chromium';
const HUB_ID = 8282;
const INBOX_ID = '621';
const OPS_API_TOKEN = 'ops-token-for-e2e-popup-tests-0123456789';
const MEDIA_LINK_SECRET = 'e2e-popup-media-link-secret-0123456789ab';
const SETTINGS_LINK_SECRET = 'e2e-popup-settings-link-secret-0123456789';
const ROUTER_ADMIN_TOKEN = 'e2e-popup-router-admin-token-0123456789';
/** Well formed, but no bot of the provider sandbox has it: the Telegram emulator answers 401. */
const UNKNOWN_TOKEN = '999999999:AAH-no-such-bot-0123456789abcdefghijk';

interface Envelope {
  readonly type: string;
  readonly payload: Record<string, unknown>;
}

describe('end to end in Chromium: sandbox "Connect a channel" → gateway popup → real connector → Telegram emulator → router settings', () => {
  let hubspot: HubSpotFixture;
  let providers: RunningSandbox;
  let providerClient: ProviderSandboxClient;
  let db: testing.TestDatabase;
  let connectorDb: testing.TestDatabase;
  let routerDb: testing.TestDatabase;
  let router: RunningRouter;
  let vhost: testing.TestVhost;
  let gateway: GatewayUnderTest;
  let connector: NestExpressApplication;
  let published: testing.CapturedMessages<Envelope>;
  let context: BrowserContext;
  let page: Page;
  let profileDir: string;
  let channelId: string;
  let bot: { id: number; token: string };

  beforeAll(async () => {
    hubspot = await startHubSpotFixture({ hubId: HUB_ID, inboxes: [{ id: INBOX_ID, name: 'Support' }] });
    providers = await startProviderSandbox(
      { LOG_LEVEL: 'silent', TELEGRAM_ALLOW_INSECURE_WEBHOOKS: 'true', SANDBOX_TIME_SCALE: '0.01' },
      { port: 0 },
    );
    providerClient = new ProviderSandboxClient(providers.baseUrl);
    bot = await providerClient.createBot({ username: 'acme_help_bot', first_name: 'Acme Help' });
    [db, connectorDb, routerDb, vhost] = await Promise.all([
      testing.createTestDatabase('gateway_popup_e2e', gatewayMigrations, { poolSize: 2 }),
      testing.createTestDatabase('connector_popup_e2e', connectorMigrations, { poolSize: 2 }),
      testing.createTestDatabase('router_popup_e2e', routerMigrations, { poolSize: 2 }),
      testing.createTestVhost('gateway_popup_e2e'),
    ]);
    published = await testing.captureMessages<Envelope>(vhost.url, EVENTS_EXCHANGE, '#');
    router = await startRouter(routerDb, vhost, {
      adminTokens: `${HUB_ID}:${ROUTER_ADMIN_TOKEN}`,
      env: { SETTINGS_LINK_SECRET },
    });

    const gatewayPort = await freePort();
    const connectorPort = await freePort();
    connector = await createConnectorApp(
      loadConnectorConfig({
        NODE_ENV: 'test',
        DATABASE_URL: testing.testDatabaseUrl,
        DATABASE_SCHEMA: connectorDb.schema,
        AMQP_URL: vhost.url,
        ENCRYPTION_KEYS: `k1:${randomBytes(32).toString('base64')}`,
        ENCRYPTION_ACTIVE_KEY_ID: 'k1',
        LOG_LEVEL: 'error',
        CONNECTOR_PUBLIC_BASE_URL: `http://127.0.0.1:${connectorPort}`,
        TELEGRAM_API_BASE_URL: providers.baseUrl,
        TWILIO_API_BASE_URL: providers.baseUrl,
        GATEWAY_INTERNAL_URL: `http://127.0.0.1:${gatewayPort}`,
        MEDIA_LINK_SECRET,
      }),
    );
    await startServiceApp(connector, { port: connectorPort, host: '127.0.0.1' });
    gateway = await startGatewayUnderTest(
      db,
      vhost,
      {
        PUBLIC_BASE_URL: `http://127.0.0.1:${gatewayPort}`,
        HUBSPOT_API_BASE_URL: hubspot.sandbox.url,
        HUBSPOT_CLIENT_SECRET: SANDBOX_APP.clientSecret,
        OPS_API_TOKEN,
        MEDIA_LINK_SECRET,
        CHANNEL_NAME: 'Inbox Bridge',
        ROUTER_PUBLIC_URL: router.baseUrl,
        SETTINGS_LINK_SECRET,
      },
      gatewayPort,
    );
    await hubspot.installInto(gateway.app);
    const registered = await fetch(`${gateway.baseUrl}/admin/channel/register`, {
      method: 'POST',
      headers: { authorization: `Bearer ${OPS_API_TOKEN}` },
    });
    channelId = ((await registered.json()) as { channelId: string }).channelId;

    profileDir = await mkdtemp(join(tmpdir(), 'gateway-popup-e2e-'));
    context = await chromium.launchPersistentContext(profileDir, {
      executablePath: CHROMIUM,
      headless: true,
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-sync',
      ],
      viewport: { width: 1280, height: 900 },
    });
    page = context.pages()[0] ?? (await context.newPage());
  });

  afterAll(async () => {
    await context.close();
    await rm(profileDir, { recursive: true, force: true });
    await gateway.app.close();
    await connector.close();
    await router.close();
    await hubspot.close();
    await providers.close();
    await published.close();
    await db.dispose();
    await connectorDb.dispose();
    await routerDb.dispose();
    await vhost.dispose();
  });

  const openTelegramForm = async (): Promise<Page> => {
    await page.goto(`${hubspot.sandbox.url}/ui/${HUB_ID}/settings/inbox`);
    const card = page.locator(`[data-channel-id="${channelId}"]`);
    const [popup] = await Promise.all([
      page.waitForEvent('popup'),
      card.getByRole('button', { name: 'Continue with Inbox Bridge' }).click(),
    ]);
    await popup.waitForURL(/\/connect\?/);
    await popup.getByRole('link', { name: /Telegram bot/ }).click();
    return popup;
  };

  it("a bot token Telegram does not know: the connector's reason is shown in the popup, nothing is connected", async () => {
    const popup = await openTelegramForm();
    await popup.fill('input[name=botToken]', UNKNOWN_TOKEN);
    await popup.getByRole('button', { name: 'Connect' }).click();
    const refused = published.messages.find(
      (e) => e.type === 'connector.credentials.validated.v1' && e.payload['ok'] === false,
    );
    const error = refused?.payload['error'] as { message: string } | undefined;
    expect(error?.message).toMatch(/\S/);
    await expect(popup.locator('[role=alert]').textContent()).resolves.toContain(error?.message ?? '?');
    expect(popup.url()).toContain('/connect');
    // The settings page reloads itself once the pop-up is closed, as HubSpot's does; a reload of the test's own
    // would race that one, and the next test's navigation would be cut short by it.
    await Promise.all([page.waitForEvent('load'), popup.close()]);
    await expect(page.locator('#accounts').count()).resolves.toBe(0);
  });

  it("the bot's real token: connected in HubSpot, announced with its credentials request, the connector sets the bot's webhook, and the last step opens the router's settings page", async () => {
    const popup = await openTelegramForm();
    await popup.fill('input[name=botToken]', bot.token);
    await Promise.all([
      popup.waitForURL(/\/connect\/done\?/),
      popup.getByRole('button', { name: 'Connect' }).click(),
    ]);

    // The last step: the account's name, the routing link once HubSpot has named the account, and "Done".
    await expect(popup.locator('h1').textContent()).resolves.toBe('Connected as Acme Help (@acme_help_bot)');
    const routing = popup.getByRole('link', { name: 'Set up routing for this account' });
    await routing.waitFor({ timeout: 15_000 });
    const done = popup.getByRole('link', { name: 'Done' });
    await expect(done.getAttribute('href')).resolves.toMatch(new RegExp(`^${hubspot.sandbox.url}/`));
    // It fits HubSpot's ~600×600 popup: nothing scrolls sideways, "Done" is visible without scrolling.
    await popup.setViewportSize({ width: 600, height: 600 });
    const scrollWidth = await popup
      .locator('html')
      .evaluate((html: { scrollWidth: number }) => html.scrollWidth);
    const doneBox = await done.boundingBox();
    expect(scrollWidth).toBeLessThanOrEqual(600);
    expect((doneBox?.y ?? Infinity) + (doneBox?.height ?? 0)).toBeLessThanOrEqual(600);

    const validated = published.messages.find(
      (e) => e.type === 'connector.credentials.validated.v1' && e.payload['ok'] === true,
    );
    expect(validated?.payload).toMatchObject({ deliveryIdentifier: { value: String(bot.id) } });
    const connected = await testing.expectEventually(
      () => {
        const found = published.messages.find((e) => e.type === 'gateway.channel-account.connected.v1');
        if (found === undefined) {
          throw new Error('connected.v1 not published yet');
        }
        return found;
      },
      { timeoutMs: 15_000, description: 'connected.v1 after the popup' },
    );
    expect(connected.payload).toMatchObject({
      hubspotChannelId: channelId,
      inboxId: INBOX_ID,
      provider: 'telegram',
      deliveryIdentifier: { type: 'CHANNEL_SPECIFIC_OPAQUE_ID', value: String(bot.id) },
      credentialsRequestId: validated?.payload['requestId'],
    });
    const accountId = String(connected.payload['channelAccountId']);

    // The link is the router's own format for this portal and account, signed with the shared secret.
    const href = new URL(String(await routing.getAttribute('href')));
    expect(`${href.origin}${href.pathname}`).toBe(`${router.baseUrl}/settings/${accountId}`);
    expect(
      new SettingsLinkSigner(SETTINGS_LINK_SECRET).verify(Object.fromEntries(href.searchParams)),
    ).toEqual({
      ok: true,
      portalId: HUB_ID,
      channelAccountId: accountId,
    });

    // The last step's address opens only in the window that connected (its cookie), unaltered.
    const doneUrl = popup.url();
    const cookie = (await context.cookies(doneUrl)).map((c) => `${c.name}=${c.value}`).join('; ');
    expect((await fetch(doneUrl, { headers: { cookie } })).status).toBe(200);
    expect((await fetch(doneUrl)).status).toBe(403);
    const tampered = new URL(doneUrl);
    tampered.searchParams.set('redirectUrl', 'https://evil.example/');
    expect((await fetch(tampered, { headers: { cookie } })).status).toBe(403);

    // The router learns the account from connected.v1 (asynchronously); then following the link opens its
    // settings page for that account in a new tab, the popup staying on its last step.
    await testing.expectEventually(
      async () => {
        const response = await fetch(`${router.baseUrl}/admin/channel-accounts/${accountId}/rules`, {
          headers: { authorization: `Bearer ${ROUTER_ADMIN_TOKEN}` },
        });
        if (response.status !== 200) {
          throw new Error(`router answered ${response.status}`);
        }
      },
      { timeoutMs: 15_000, description: 'the router knows the new account' },
    );
    const [settings] = await Promise.all([popup.waitForEvent('popup'), routing.click()]);
    await settings.waitForLoadState('load');
    expect(new URL(settings.url()).pathname).toBe(`/settings/${accountId}`);
    await expect(settings.locator('h1').textContent()).resolves.toBe('Automatic assignment');
    await expect(settings.title()).resolves.toBe('Routing — Acme Help (@acme_help_bot)');
    await settings.close();

    // "Done" returns to HubSpot, which closes the popup and lists the account.
    await Promise.all([popup.waitForEvent('close'), done.click()]);
    await page.waitForSelector('#accounts .account-name');

    await testing.expectEventually(
      async () => {
        const info = await providerClient.getBot(bot.id);
        if (!info.webhook.url.endsWith(`/webhooks/telegram/${accountId}`)) {
          throw new Error(`webhook is "${info.webhook.url}"`);
        }
      },
      { timeoutMs: 15_000, description: "the bot's webhook set by the connector" },
    );
  });
});
