import type { GatewayOutboundMessageRequestedV1, ProviderMessageReceivedV1 } from '@inbox-bridge/shared';
import * as testing from '@inbox-bridge/testing';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
// playwright-core is hoisted from the sandbox workspaces (declaring it here would change the shared lockfile).
import { chromium, type Browser, type Page } from 'playwright-core';
import { startConnectorHarness, type ConnectorHarness } from './support/connector-harness.js';

const CHROMIUM = '/usr/bin/chromium';
const KINDS = ['text', 'photo', 'voice', 'sticker', 'video', 'location'] as const;

/**
 * A person on the provider sandbox's customer page (headless Chromium) writes to a Telegram bot and a Twilio
 * number connected to the real connector: every kind reaches `provider.message.received.v1`, and the agent's
 * replies come back out to the page.
 */
describe('customer page in headless Chromium ↔ connector', () => {
  let h: ConnectorHarness;
  let browser: Browser;
  let page: Page;

  beforeAll(async () => {
    h = await startConnectorHarness('connector_ui', { sandboxEnv: { TELEGRAM_RATE_LIMITS: 'false' } });
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      args: ['--headless', '--no-sandbox', '--disable-gpu'],
    });
    page = await browser.newPage();
  });

  afterAll(async () => {
    await browser.close();
    await h.dispose();
  });

  /** Validates and connects a channel account, as the gateway does after the connect popup. */
  async function connect(
    channelAccountId: string,
    credentials: Parameters<ConnectorHarness['validate']>[0],
  ): Promise<void> {
    const answer = await h.validate(credentials);
    expect(answer.ok).toBe(true);
    await h.publish('gateway.channel-account.connected.v1', {
      channelAccountId,
      hubspotChannelId: '5009',
      inboxId: '311',
      provider: credentials.provider,
      name: `UI ${credentials.provider}`,
      credentialsRequestId: answer.requestId,
    });
  }

  /** Clicks every kind button on the open chat page (text and photo with a text typed first). */
  async function sendEveryKind(prefix: string): Promise<void> {
    for (const kind of KINDS) {
      await page.fill('#text', kind === 'text' || kind === 'photo' ? `${prefix} ${kind}` : '');
      await Promise.all([page.waitForURL(/\/chats\//), page.click(`button[data-kind="${kind}"]`)]);
    }
  }

  function receivedFrom(channelAccountId: string, count: number): Promise<ProviderMessageReceivedV1[]> {
    return testing.expectEventually(
      () => {
        const found = h
          .messagesOf<ProviderMessageReceivedV1>('provider.message.received.v1')
          .filter((m) => m.channelAccountId === channelAccountId);
        expect(found.length).toBeGreaterThanOrEqual(count);
        return found;
      },
      { timeoutMs: 15_000, description: `${count} messages of ${channelAccountId}` },
    );
  }

  async function reply(
    channelAccountId: string,
    to: ProviderMessageReceivedV1,
    overrides: Partial<GatewayOutboundMessageRequestedV1>,
  ): Promise<string> {
    const id = await h.requestReply({
      channelAccountId,
      conversationKey: to.conversationKey,
      recipient: {
        deliveryIdentifier:
          to.provider === 'twilio'
            ? { type: 'HS_PHONE_NUMBER', value: to.conversationKey }
            : { type: 'CHANNEL_SPECIFIC_OPAQUE_ID', value: to.conversationKey },
      },
      ...overrides,
    });
    expect(await h.firstStatus(id)).toMatchObject({ status: 'SENT' });
    return id;
  }

  async function agentBubbles(count: number): Promise<string[]> {
    await page.waitForFunction(`document.querySelectorAll('.bubble.agent').length >= ${count}`, undefined, {
      timeout: 15_000,
    });
    return page.locator('.bubble.agent .text').allTextContents();
  }

  it('Telegram: every kind from the page reaches the contract, media streams back, replies show up', async () => {
    const accountId = '9400001';
    const bot = await h.client.createBot({ username: 'ui_support_bot', first_name: 'UI Support' });
    await connect(accountId, { provider: 'telegram', botToken: bot.token });
    await testing.expectEventually(async () => {
      expect((await h.client.getBot(bot.id)).webhook.url).toBe(`${h.baseUrl}/webhooks/telegram/${accountId}`);
    });

    await page.goto(`${h.sandbox.baseUrl}/ui`);
    const row = page.locator(`li[data-bot="${bot.id}"]`);
    await row.locator('input[name=first_name]').fill('Ana');
    await Promise.all([page.waitForURL(/\/ui\/telegram\/\d+\/chats\/\d+$/), row.locator('button').click()]);
    await sendEveryKind('Hola');

    const messages = await receivedFrom(accountId, KINDS.length);
    expect(messages.map((m) => m.attachments[0]?.kind ?? 'text')).toEqual([
      'text',
      'image',
      'voice-note',
      'sticker',
      'video',
      'location',
    ]);
    expect(messages[0]).toMatchObject({ provider: 'telegram', text: 'Hola text', sender: { name: 'Ana' } });
    expect(messages[1]?.text).toBe('Hola photo');
    const photoRef = (messages[1]?.attachments[0] as { media: { downloadRef: string } }).media.downloadRef;
    const photo = await fetch(h.mediaLink(photoRef));
    expect(photo.status).toBe(200);
    expect([...new Uint8Array(await photo.arrayBuffer()).subarray(0, 3)]).toEqual([0xff, 0xd8, 0xff]);

    const customer = messages[0] as ProviderMessageReceivedV1;
    await reply(accountId, customer, { text: 'We are on it', richText: '<p>We are <b>on it</b></p>' });
    h.gatewayFiles.files.set('hubspot-file:ui-1', {
      contentType: 'image/jpeg',
      body: Buffer.from(await (await fetch(h.mediaLink(photoRef))).arrayBuffer()),
    });
    await reply(accountId, customer, {
      text: 'your invoice',
      richText: undefined,
      attachments: [
        { kind: 'image', downloadRef: 'hubspot-file:ui-1', mimeType: 'image/jpeg', fileName: 'invoice.jpg' },
      ],
    });
    expect(await agentBubbles(2)).toEqual(['We are on it', 'your invoice']);
    const fromBot = await h.client.messages(bot.id, Number(customer.conversationKey), 'from_bot');
    expect(fromBot[0]?.message).toMatchObject({
      text: 'We are on it',
      entities: [{ type: 'bold', offset: 7, length: 5 }],
    });
    await expect(page.locator('.bubble.agent img.photo').count()).resolves.toBe(1);
  });

  it('Twilio: every kind texted from the page reaches the contract as MMS, replies show their delivery', async () => {
    const accountId = '9400002';
    const account = await h.client.twilioCreateAccount({ friendly_name: 'UI' });
    const number = await h.client.twilioCreateNumber(account.sid, { phone_number: '+14155550170' });
    await connect(accountId, {
      provider: 'twilio',
      accountSid: account.sid,
      authToken: account.auth_token,
      phoneNumber: '+14155550170',
    });
    const customerPhone = '+14155550171';
    await testing.expectEventually(async () => {
      await page.goto(`${h.sandbox.baseUrl}/ui`);
      await expect(page.locator(`li[data-number="${number.sid}"]`).textContent()).resolves.toContain(
        `/webhooks/twilio/${accountId}`,
      );
    });
    const row = page.locator(`li[data-number="${number.sid}"]`);
    await row.locator('input[name=phone]').fill(customerPhone);
    await Promise.all([page.waitForURL(/\/ui\/twilio\/PN[0-9a-f]+\/chats\//), row.locator('button').click()]);
    await sendEveryKind('Hi');

    const messages = await receivedFrom(accountId, KINDS.length);
    expect(messages.map((m) => [m.attachments[0]?.kind ?? 'text', m.sender.phoneNumber])).toEqual([
      ['text', customerPhone],
      ['image', customerPhone],
      ['audio', customerPhone],
      ['image', customerPhone],
      ['video', customerPhone],
      ['file', customerPhone],
    ]);
    expect(messages[1]?.text).toBe('Hi photo');
    const voiceRef = (messages[2]?.attachments[0] as { media: { downloadRef: string } }).media.downloadRef;
    const voice = await fetch(h.mediaLink(voiceRef));
    expect(Buffer.from(await voice.arrayBuffer()).toString('latin1', 0, 4)).toBe('OggS');

    await reply(accountId, messages[0] as ProviderMessageReceivedV1, {
      text: 'Thanks, your order ships today',
      richText: undefined,
    });
    expect(await agentBubbles(1)).toEqual(['Thanks, your order ships today']);
    await page.waitForFunction(
      `document.querySelector('.bubble.agent .state')?.getAttribute('data-status') === 'delivered'`,
      undefined,
      { timeout: 15_000 },
    );
  });
});
