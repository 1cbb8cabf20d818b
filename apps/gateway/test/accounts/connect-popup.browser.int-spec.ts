import * as testing from '@inbox-bridge/testing';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import type { GatewayUnderTest } from './gateway-under-test.js';
import type { HubSpotFixture } from './hubspot-fixture.js';
import { startPopupStack, type GatewayEnvelope, type PopupStack } from './popup-stack.js';

const CHROMIUM = '/usr/bin/chromium';
const HUB_ID = 8181;
const INBOX_ID = '611';
const OPS_API_TOKEN = 'ops-token-for-browser-tests-0123456789';
const GOOD_TOKEN = '800100200:AAH-browser-token-0123456789abcdefghij';
const WRONG_TOKEN = '800100201:AAH-WRONG-browser-0123456789abcdefghi';

describe('the connection popup in headless Chromium, opened from the sandbox\'s "Connect a channel"', () => {
  let stack: PopupStack;
  let hubspot: HubSpotFixture;
  let gateway: GatewayUnderTest;
  let published: testing.CapturedMessages<GatewayEnvelope>;
  let context: BrowserContext;
  let page: Page;
  let profileDir: string;
  let channelId: string;

  beforeAll(async () => {
    stack = await startPopupStack({
      name: 'gateway_popup_browser',
      hubId: HUB_ID,
      inboxId: INBOX_ID,
      gatewayEnv: { OPS_API_TOKEN, CHANNEL_NAME: 'Inbox Bridge' },
    });
    ({ hubspot, gateway, published } = stack);
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
    await stack.close();
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
      credentialsRequestId: stack.responder.requests.at(-1)?.requestId,
    });
  });
});
