import { EVENTS_EXCHANGE } from '@inbox-bridge/messaging';
import { startServiceApp } from '@inbox-bridge/service-kit';
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
import { gatewayMigrations } from '../../src/database/data-source.js';
import { freePort, startGatewayUnderTest, type GatewayUnderTest } from './gateway-under-test.js';
import { SANDBOX_APP, startHubSpotFixture, type HubSpotFixture } from './hubspot-fixture.js';

const CHROMIUM = '/usr/bin/chromium';
const HUB_ID = 8282;
const INBOX_ID = '621';
const OPS_API_TOKEN = 'ops-token-for-e2e-popup-tests-0123456789';
const MEDIA_LINK_SECRET = 'e2e-popup-media-link-secret-0123456789ab';
/** Well formed, but no bot of the provider sandbox has it: the Telegram emulator answers 401. */
const UNKNOWN_TOKEN = '999999999:AAH-no-such-bot-0123456789abcdefghijk';

interface Envelope {
  readonly type: string;
  readonly payload: Record<string, unknown>;
}

describe('end to end in Chromium: sandbox "Connect a channel" → gateway popup → real connector → Telegram emulator', () => {
  let hubspot: HubSpotFixture;
  let providers: RunningSandbox;
  let providerClient: ProviderSandboxClient;
  let db: testing.TestDatabase;
  let connectorDb: testing.TestDatabase;
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
    [db, connectorDb, vhost] = await Promise.all([
      testing.createTestDatabase('gateway_popup_e2e', gatewayMigrations, { poolSize: 2 }),
      testing.createTestDatabase('connector_popup_e2e', connectorMigrations, { poolSize: 2 }),
      testing.createTestVhost('gateway_popup_e2e'),
    ]);
    published = await testing.captureMessages<Envelope>(vhost.url, EVENTS_EXCHANGE, '#');

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
    await hubspot.close();
    await providers.close();
    await published.close();
    await db.dispose();
    await connectorDb.dispose();
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
    await popup.close();
    await page.reload();
    await expect(page.locator('#accounts').count()).resolves.toBe(0);
  });

  it("the bot's real token: connected in HubSpot, announced with its credentials request, and the connector sets the bot's webhook", async () => {
    const popup = await openTelegramForm();
    await popup.fill('input[name=botToken]', bot.token);
    await Promise.all([popup.waitForEvent('close'), popup.getByRole('button', { name: 'Connect' }).click()]);
    await page.waitForSelector('#accounts .account-name');

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
