import { SandboxControlClient } from '@inbox-bridge/hubspot-sandbox';
import { ProviderSandboxClient } from '@inbox-bridge/provider-sandbox';
import * as testing from '@inbox-bridge/testing';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import pg from 'pg';
import { chromium, type Browser } from 'playwright-core';
import { DEMO_PORTAL_ID, registerChannel, seedPortal } from '../../../scripts/demo/seed.mjs';
import { startStack, type RunningStack } from '../src/stack.js';

interface PublicMessage {
  readonly id: string;
  readonly direction: 'INCOMING' | 'OUTGOING';
  readonly text: string;
  readonly attachments: readonly { type: string; fileUsageType?: string }[];
  readonly status?: { statusType: string; failureDetails?: { errorMessage?: string } };
}
interface PublicThread {
  readonly id: string;
  readonly channelAccountId: string;
  readonly assignedTo?: string;
  readonly messages: readonly PublicMessage[];
}

const SUPPORT_TEAM_USERS = ['A-77', 'A-78'];

describe('the whole story: install, connect, route, converse both ways, switch off, purge', () => {
  let stack: RunningStack;
  let browser: Browser;
  let hubspot: SandboxControlClient;
  let provider: ProviderSandboxClient;

  beforeAll(async () => {
    stack = await startStack(DEMO_PORTAL_ID);
    hubspot = new SandboxControlClient(stack.urls['hubspot-sandbox']);
    provider = new ProviderSandboxClient(stack.urls['provider-sandbox']);
    browser = await chromium.launch({
      executablePath: '/usr/bin/chromium',
      args: ['--headless', '--no-sandbox', '--disable-gpu'],
    });
  });

  afterAll(async () => {
    await browser.close();
    await stack.stop();
  });

  const threadsOfAccount = async (channelAccountId: string): Promise<PublicThread[]> =>
    ((await hubspot.threads(DEMO_PORTAL_ID)) as unknown as PublicThread[]).filter(
      (thread) => thread.channelAccountId === channelAccountId,
    );

  it('carries a customer conversation through every service, as a person would see it', async () => {
    const gatewayUrl = stack.urls.gateway;
    await seedPortal({ hubspotUrl: stack.urls['hubspot-sandbox'] });
    const channelId = await registerChannel({ gatewayUrl, opsToken: stack.opsToken });

    // Install the app through HubSpot's consent page, in a real browser.
    const page = await browser.newPage();
    await page.goto(`${gatewayUrl}/oauth/install`);
    await page.selectOption('#account', `${DEMO_PORTAL_ID}:77`);
    await page.click('button[value="grant"]');
    await page.waitForURL(`${gatewayUrl}/oauth/callback**`);
    expect(await page.textContent('body')).toContain('connected');

    // Connect a Telegram bot from HubSpot's "Connect a channel", through the bridge's popup: a wrong token is
    // refused in the popup, the right one connects the account and the connector registers the bot's webhook.
    const bot = await provider.createBot({ username: 'acme_support_bot', first_name: 'Acme Support' });
    await page.goto(`${stack.urls['hubspot-sandbox']}/ui/${DEMO_PORTAL_ID}/settings/inbox`);
    const [popup] = await Promise.all([
      page.waitForEvent('popup'),
      page
        .locator(`[data-channel-id="${channelId}"]`)
        .getByRole('button', { name: 'Continue with Inbox Bridge' })
        .click(),
    ]);
    await popup.waitForURL(/\/connect\?/);
    await popup.getByRole('link', { name: /Telegram bot/ }).click();
    await popup.fill('input[name=botToken]', '123456789:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA');
    await popup.getByRole('button', { name: 'Connect' }).click();
    await popup.locator('[role=alert]').waitFor();
    expect(popup.url()).toContain('/connect');
    await popup.fill('input[name=botToken]', bot.token);
    await Promise.all([popup.waitForEvent('close'), popup.getByRole('button', { name: 'Connect' }).click()]);
    const channelAccountId = await testing.expectEventually(
      async () => {
        const webhook = (await provider.getBot(bot.id)).webhook.url;
        const id = /\/webhooks\/telegram\/(\d+)$/.exec(webhook)?.[1];
        expect(id).toBeDefined();
        return id as string;
      },
      { timeoutMs: 30_000, description: 'the connector set the bot webhook' },
    );
    const account = { channelAccountId };

    // Route new conversations of this account to the Support team.
    const rules = await fetch(
      `${stack.urls.router}/admin/channel-accounts/${account.channelAccountId}/rules`,
      {
        method: 'PUT',
        headers: { authorization: `Bearer ${stack.routerAdminToken}`, 'content-type': 'application/json' },
        body: JSON.stringify({ mode: 'users-and-teams', targets: { teamIds: ['11'] } }),
      },
    );
    expect(rules.status).toBe(200);

    // The customer writes: text, then every media kind, then a location.
    const customer = await provider.createCustomer(bot.id, { first_name: 'Casey' });
    const chatId = customer.chat.id;
    const sent = [
      { kind: 'text', text: 'Hello, my parcel is late' },
      { kind: 'photo', caption: 'the label' },
      { kind: 'voice' },
      { kind: 'sticker' },
      { kind: 'video' },
      { kind: 'location', latitude: 52.52, longitude: 13.405 },
    ] as const;
    for (const message of sent) {
      await provider.customerSends(bot.id, chatId, message);
    }
    const thread = await testing.expectEventually(
      async () => {
        const [found] = await threadsOfAccount(account.channelAccountId);
        expect(found?.messages.filter((m) => m.direction === 'INCOMING')).toHaveLength(sent.length);
        expect(found?.assignedTo).toBeDefined();
        return found as PublicThread;
      },
      { timeoutMs: 60_000, description: 'six customer messages in one thread, assigned' },
    );
    const incoming = thread.messages.filter((m) => m.direction === 'INCOMING');
    expect(incoming[0]?.text).toBe('Hello, my parcel is late');
    expect(incoming.slice(1).map((m) => m.attachments.map((a) => a.fileUsageType ?? a.type))).toEqual([
      ['IMAGE'],
      ['VOICE_RECORDING'],
      ['STICKER'],
      ['OTHER'],
      ['LOCATION'],
    ]);
    expect(SUPPORT_TEAM_USERS).toContain(thread.assignedTo);
    expect(await threadsOfAccount(account.channelAccountId)).toHaveLength(1);

    // The agent replies: the customer gets it, HubSpot shows it sent.
    const reply = await hubspot.agentReply(thread.id, { userId: 77, text: 'Sorry! It ships today.' });
    await testing.expectEventually(
      async () => {
        const fromBot = await provider.messages(bot.id, chatId, 'from_bot');
        expect(fromBot.map((m) => m.message.text)).toContain('Sorry! It ships today.');
      },
      { timeoutMs: 30_000, description: 'the customer received the reply' },
    );
    await testing.expectEventually(
      async () => {
        const [current] = await threadsOfAccount(account.channelAccountId);
        expect(current?.messages.find((m) => m.id === reply.id)?.status?.statusType).toBe('SENT');
      },
      { timeoutMs: 30_000, description: 'the reply marked SENT in HubSpot' },
    );

    // A customer who blocked the bot: the reply fails with a reason an agent understands.
    await provider.setBlocked(bot.id, chatId, true);
    const unreachable = await hubspot.agentReply(thread.id, { userId: 77, text: 'Are you still there?' });
    const failed = await testing.expectEventually(
      async () => {
        const [current] = await threadsOfAccount(account.channelAccountId);
        const status = current?.messages.find((m) => m.id === unreachable.id)?.status;
        expect(status?.statusType).toBe('FAILED');
        return status;
      },
      { timeoutMs: 30_000, description: 'the reply to a blocked customer marked FAILED' },
    );
    expect(failed?.failureDetails?.errorMessage).toMatch(/block/i);
    await provider.setBlocked(bot.id, chatId, false);

    // The admin turns the account off in HubSpot: new customer messages no longer reach the inbox.
    await hubspot.updateChannelAccount(account.channelAccountId, { active: false });
    await testing.expectEventually(
      async () => {
        const client = new pg.Client({ connectionString: testing.testDatabaseUrl });
        await client.connect();
        try {
          const rows = await client.query<{ active: boolean }>(
            `SELECT active FROM "${stack.schemas.connector}".channel_accounts WHERE channel_account_id = $1`,
            [account.channelAccountId],
          );
          expect(rows.rows[0]?.active).toBe(false);
        } finally {
          await client.end();
        }
      },
      { timeoutMs: 30_000, description: 'the connector switched the account off' },
    );
    await provider.customerSends(bot.id, chatId, { kind: 'text', text: 'hello again?' });
    await testing.delay(3_000);
    const [afterOff] = await threadsOfAccount(account.channelAccountId);
    expect(afterOff?.messages.map((m) => m.text)).not.toContain('hello again?');

    // The admin deletes the account: its credentials are purged from the connector.
    await hubspot.purgeChannelAccount(account.channelAccountId);
    await testing.expectEventually(
      async () => {
        const client = new pg.Client({ connectionString: testing.testDatabaseUrl });
        await client.connect();
        try {
          const rows = await client.query(
            `SELECT 1 FROM "${stack.schemas.connector}".channel_accounts WHERE channel_account_id = $1`,
            [account.channelAccountId],
          );
          expect(rows.rowCount).toBe(0);
        } finally {
          await client.end();
        }
      },
      { timeoutMs: 30_000, description: 'the connector purged the account' },
    );
    // The agent's thread page renders the media.
    await page.goto(`${stack.urls['hubspot-sandbox']}/ui/${DEMO_PORTAL_ID}/inbox/threads/${thread.id}`);
    expect(await page.locator('img').count()).toBeGreaterThan(0);
    expect(await page.locator('audio').count()).toBeGreaterThan(0);
    expect(await page.locator('video').count()).toBeGreaterThan(0);
    await page.close();
  });
});
