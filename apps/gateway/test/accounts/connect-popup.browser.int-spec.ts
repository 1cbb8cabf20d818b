import { EVENTS_EXCHANGE } from '@inbox-bridge/messaging';
import * as testing from '@inbox-bridge/testing';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { gatewayMigrations } from '../../src/database/data-source.js';
import {
  startCredentialsResponder,
  telegramVerdict,
  type CredentialsResponder,
} from './credentials-responder.js';
import { freePort, startGatewayUnderTest, type GatewayUnderTest } from './gateway-under-test.js';
import { SANDBOX_APP, startHubSpotFixture, type HubSpotFixture } from './hubspot-fixture.js';

const CHROMIUM = '/usr/bin/chromium';
const HUB_ID = 8181;
const INBOX_ID = '611';
const OPS_API_TOKEN = 'ops-token-for-browser-tests-0123456789';
const GOOD_TOKEN = '800100200:AAH-browser-token-0123456789abcdefghij';
const WRONG_TOKEN = '800100201:AAH-WRONG-browser-0123456789abcdefghi';

interface Envelope {
  readonly type: string;
  readonly payload: Record<string, unknown>;
}

describe('the connection popup in headless Chromium, opened from the sandbox\'s "Connect a channel"', () => {
  let hubspot: HubSpotFixture;
  let db: testing.TestDatabase;
  let vhost: testing.TestVhost;
  let gateway: GatewayUnderTest;
  let published: testing.CapturedMessages<Envelope>;
  let responder: CredentialsResponder;
  let context: BrowserContext;
  let page: Page;
  let profileDir: string;
  let channelId: string;

  beforeAll(async () => {
    hubspot = await startHubSpotFixture({ hubId: HUB_ID, inboxes: [{ id: INBOX_ID, name: 'Support' }] });
    [db, vhost] = await Promise.all([
      testing.createTestDatabase('gateway_popup_browser', gatewayMigrations, { poolSize: 2 }),
      testing.createTestVhost('gateway_popup_browser'),
    ]);
    published = await testing.captureMessages<Envelope>(vhost.url, EVENTS_EXCHANGE, 'gateway.#');
    responder = await startCredentialsResponder(vhost.url, telegramVerdict);
    const port = await freePort();
    gateway = await startGatewayUnderTest(
      db,
      vhost,
      {
        PUBLIC_BASE_URL: `http://127.0.0.1:${port}`,
        HUBSPOT_API_BASE_URL: hubspot.sandbox.url,
        HUBSPOT_CLIENT_SECRET: SANDBOX_APP.clientSecret,
        OPS_API_TOKEN,
        CHANNEL_NAME: 'Inbox Bridge',
      },
      port,
    );
    await hubspot.installInto(gateway.app);
    const registered = await fetch(`${gateway.baseUrl}/admin/channel/register`, {
      method: 'POST',
      headers: { authorization: `Bearer ${OPS_API_TOKEN}` },
    });
    channelId = ((await registered.json()) as { channelId: string }).channelId;

    profileDir = await mkdtemp(join(tmpdir(), 'gateway-popup-chromium-'));
    context = await chromium.launchPersistentContext(profileDir, {
      executablePath: CHROMIUM,
      headless: true,
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
      viewport: { width: 1280, height: 900 },
    });
    page = context.pages()[0] ?? (await context.newPage());
  });

  afterAll(async () => {
    await context.close();
    await rm(profileDir, { recursive: true, force: true });
    await hubspot.close();
    await gateway.app.close();
    await responder.close();
    await published.close();
    await db.dispose();
    await vhost.dispose();
  });

  const openPopup = async (): Promise<Page> => {
    await page.goto(`${hubspot.sandbox.url}/ui/${HUB_ID}/settings/inbox`);
    const card = page.locator(`[data-channel-id="${channelId}"]`);
    const [popup] = await Promise.all([
      page.waitForEvent('popup'),
      card.getByRole('button', { name: 'Continue with Inbox Bridge' }).click(),
    ]);
    await popup.waitForURL(/\/connect\?/);
    return popup;
  };

  it("wrong credentials: the popup shows the provider's reason and stays open, nothing is connected", async () => {
    const popup = await openPopup();
    await popup.getByRole('link', { name: /Telegram bot/ }).click();
    await popup.fill('input[name=botToken]', WRONG_TOKEN);
    await popup.getByRole('button', { name: 'Connect' }).click();
    await expect(popup.locator('[role=alert]').textContent()).resolves.toContain(
      'Telegram did not accept this bot token',
    );
    expect(popup.isClosed()).toBe(false);
    expect(popup.url()).toContain('/connect');
    // The settings page reloads itself once it sees the popup closed; a reload of our own raced with that one
    // and could interrupt the next test's navigation (CI, once).
    await Promise.all([page.waitForEvent('load'), popup.close()]);
    await expect(page.locator('#accounts').count()).resolves.toBe(0);
  });

  it('correct credentials: the popup finishes the connection, returns to HubSpot and closes; the account is connected', async () => {
    const popup = await openPopup();
    await popup.getByRole('link', { name: /Telegram bot/ }).click();
    await popup.fill('input[name=botToken]', 'not a token');
    await popup.getByRole('button', { name: 'Connect' }).click();
    await expect(popup.locator('[data-error-for=botToken]').textContent()).resolves.toContain(
      'Telegram bot token',
    );
    await popup.fill('input[name=botToken]', GOOD_TOKEN);
    await Promise.all([popup.waitForEvent('close'), popup.getByRole('button', { name: 'Connect' }).click()]);

    await page.waitForSelector('#accounts .account-name:has-text("Support bot 800100200")');
    await expect(page.locator('.flash').textContent()).resolves.toContain('Support bot 800100200');
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
      name: 'Support bot 800100200',
      credentialsRequestId: responder.requests.at(-1)?.requestId,
    });
  });
});
