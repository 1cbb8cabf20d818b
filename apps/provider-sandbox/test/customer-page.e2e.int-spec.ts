/* eslint-disable @typescript-eslint/no-explicit-any, @typescript-eslint/no-unsafe-member-access, @typescript-eslint/no-unsafe-return, @typescript-eslint/no-unsafe-call -- received webhook bodies are asserted with expect() */
import { expectEventually } from '@inbox-bridge/testing';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
// playwright-core is hoisted from the hubspot-sandbox workspace (declaring it here would change the shared lockfile).
import { chromium, type Browser, type Page } from 'playwright-core';
import { twilioSignature } from '../src/twilio/signature.js';
import { startHarness, type Harness } from './harness.js';

const CHROMIUM = '/usr/bin/chromium';
const SECRET_TOKEN = 'connector-secret_123';
const BUSINESS_NUMBER = '+14155550100';
const CUSTOMER = '+14155550199';
const UNREACHABLE = '+14155550198';

interface Received {
  readonly path: string;
  readonly headers: IncomingHttpHeaders;
  readonly raw: string;
}

/** Stands in for the connector's public webhook endpoints: records every request, answers 200 (TwiML 204). */
class ConnectorStub {
  readonly received: Received[] = [];
  private server!: Server;
  origin = '';

  async start(): Promise<void> {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        this.received.push({
          path: req.url ?? '',
          headers: req.headers,
          raw: Buffer.concat(chunks).toString('utf8'),
        });
        res.writeHead(req.url?.startsWith('/webhooks/twilio') === true ? 204 : 200).end();
      });
    });
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.origin = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  on(prefix: string): Received[] {
    return this.received.filter((request) => request.path.startsWith(prefix));
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => {
      this.server.close(() => {
        resolve();
      });
    });
  }
}

function waitFor<T>(description: string, probe: () => T | undefined): Promise<T> {
  return expectEventually(
    () => {
      const value = probe();
      if (value === undefined) {
        throw new Error(`not yet: ${description}`);
      }
      return value;
    },
    { timeoutMs: 10_000, description },
  );
}

describe('customer page in headless Chromium', () => {
  let harness: Harness;
  let connector: ConnectorStub;
  let browser: Browser;
  let page: Page;

  beforeAll(async () => {
    harness = await startHarness({ TELEGRAM_RATE_LIMITS: 'false' });
    connector = new ConnectorStub();
    await connector.start();
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      args: ['--headless', '--no-sandbox', '--disable-gpu'],
    });
    page = await browser.newPage();
  });
  afterAll(async () => {
    await browser.close();
    await connector.stop();
    await harness.sandbox.close();
  });

  /** Clicks a kind button (with `text` typed first) and waits for the page to come back. */
  async function send(kind: string, text = ''): Promise<void> {
    await page.fill('#text', text);
    await Promise.all([page.waitForURL(/\/chats\//), page.click(`button[data-kind="${kind}"]`)]);
  }

  it('chats as a Telegram customer: every kind arrives as a real update with the secret token, replies show up', async () => {
    const bot = await harness.client.createBot({ username: 'acme_support_bot' });
    const webhookUrl = `${connector.origin}/webhooks/telegram/account-1`;
    const set = await harness.json(bot.token, 'setWebhook', { url: webhookUrl, secret_token: SECRET_TOKEN });
    expect(set.body.ok).toBe(true);

    await page.goto(`${harness.sandbox.baseUrl}/ui`);
    const row = page.locator(`li[data-bot="${bot.id}"]`);
    await expect(row.textContent()).resolves.toContain(webhookUrl);
    await row.locator('input[name=first_name]').fill('Ana <b>');
    await Promise.all([page.waitForURL(/\/ui\/telegram\/\d+\/chats\/\d+$/), row.locator('button').click()]);
    await expect(page.locator('h1').textContent()).resolves.toContain('Ana <b>');

    await send('text', 'Hola, where is my order?');
    await send('photo', 'the receipt');
    await send('voice');
    await send('sticker');
    await send('video');
    await send('location');

    const updates = await waitFor('six updates at the webhook', () => {
      const received = connector.on('/webhooks/telegram/account-1');
      return received.length >= 6 ? received : undefined;
    });
    for (const update of updates) {
      expect(update.headers['x-telegram-bot-api-secret-token']).toBe(SECRET_TOKEN);
      expect(update.headers['content-type']).toMatch(/^application\/json/);
    }
    const messages = updates.map(
      (update) => (JSON.parse(update.raw) as { message: Record<string, any> }).message,
    );
    const chatId = messages[0]?.chat.id as number;
    expect(messages.map((message) => message.chat.id)).toEqual(messages.map(() => chatId));
    expect(messages[0]).toMatchObject({ text: 'Hola, where is my order?', from: { first_name: 'Ana <b>' } });
    expect(messages[1]?.photo.at(-1)).toMatchObject({ width: 320, height: 240 });
    expect(messages[1]?.caption).toBe('the receipt');
    expect(messages[2]?.voice).toMatchObject({ mime_type: 'audio/ogg', duration: 1 });
    expect(messages[3]?.sticker).toMatchObject({ is_animated: false, is_video: false, emoji: '🙂' });
    expect(messages[4]?.video).toMatchObject({ mime_type: 'video/mp4' });
    expect(messages[5]?.location).toEqual({ latitude: 52.521918, longitude: 13.413215 });

    // The connector downloads the media as usual: getFile + /file/bot<token>/<path>.
    const file = await harness.json(bot.token, 'getFile', { file_id: messages[1]?.photo.at(-1).file_id });
    const photo = await fetch(
      `${harness.sandbox.baseUrl}/file/bot${bot.token}/${file.body.result.file_path}`,
    );
    expect([...new Uint8Array(await photo.arrayBuffer()).subarray(0, 3)]).toEqual([0xff, 0xd8, 0xff]);

    // The page shows each message delivered and rendered: a decoded JPEG, players, a sticker, a map link.
    await page.waitForFunction(
      `[...document.querySelectorAll('.bubble.customer .state')].filter( (state) => state.textContent === 'delivered to the webhook', ).length === 6`,
      undefined,
      { timeout: 10_000 },
    );
    await page.waitForFunction(
      `(document.querySelector('.bubble.customer img.photo'))?.naturalWidth === 320`,
      undefined,
      { timeout: 10_000 },
    );
    await expect(page.locator('.bubble.customer audio[data-kind=voice]').count()).resolves.toBe(1);
    await expect(page.locator('.bubble.customer img.sticker').count()).resolves.toBe(1);
    await expect(page.locator('.bubble.customer video').count()).resolves.toBe(1);
    await expect(page.locator('.bubble.customer a.location').getAttribute('href')).resolves.toContain(
      'mlat=52.521918',
    );
    await expect(page.locator('h1 b').count()).resolves.toBe(0);

    // The agent's replies (the connector calling the Bot API) appear without a reload.
    const reply = await harness.json(bot.token, 'sendMessage', { chat_id: chatId, text: 'We are on it <3' });
    expect(reply.body.ok).toBe(true);
    const form = new FormData();
    form.set('chat_id', String(chatId));
    form.set('caption', 'your invoice');
    const jpeg = await (
      await fetch(`${harness.sandbox.baseUrl}/file/bot${bot.token}/${file.body.result.file_path}`)
    ).blob();
    form.set('photo', jpeg, 'invoice.jpg');
    const photoReply = await harness.callApi(bot.token, 'sendPhoto', { method: 'POST', body: form });
    expect(photoReply.body.ok).toBe(true);
    await page.waitForFunction(`document.querySelectorAll('.bubble.agent').length === 2`, undefined, {
      timeout: 10_000,
    });
    await expect(page.locator('.bubble.agent .text').allTextContents()).resolves.toEqual([
      'We are on it <3',
      'your invoice',
    ]);
    await expect(page.locator('.bubble.agent img.photo').count()).resolves.toBe(1);
    await expect(page.locator('.bubble.agent .state').first().textContent()).resolves.toBe('✓ sent');

    // The customer blocks the bot: a my_chat_member update, and the agent's next send is refused.
    await Promise.all([page.waitForURL(/\/chats\/\d+$/), page.click('#block-button')]);
    await expect(page.locator('#blocked-note').count()).resolves.toBe(1);
    const kicked = await waitFor('my_chat_member', () =>
      connector
        .on('/webhooks/telegram/account-1')
        .map((request) => JSON.parse(request.raw) as Record<string, any>)
        .find((update) => update.my_chat_member !== undefined),
    );
    expect(kicked.my_chat_member.new_chat_member.status).toBe('kicked');
    const refused = await harness.json(bot.token, 'sendMessage', { chat_id: chatId, text: 'Still there?' });
    expect(refused.body).toMatchObject({
      ok: false,
      error_code: 403,
      description: 'Forbidden: bot was blocked by the user',
    });
    await Promise.all([page.waitForURL(/\/chats\/\d+$/), page.click('#block-button')]);
    await expect(page.locator('#block-button').textContent()).resolves.toBe('Block the bot');
    if (process.env.SANDBOX_SCREENSHOT !== undefined) {
      await page.screenshot({ path: process.env.SANDBOX_SCREENSHOT, fullPage: true });
    }
  });

  it('texts a Twilio number as a customer: signed webhooks with MMS media, replies with their delivery state', async () => {
    const account = await harness.client.twilioCreateAccount();
    const number = await harness.client.twilioCreateNumber(account.sid, { phone_number: BUSINESS_NUMBER });
    const smsUrl = `${connector.origin}/webhooks/twilio/account-2`;
    const statusUrl = `${smsUrl}/status`;
    const basic = `Basic ${Buffer.from(`${account.sid}:${account.auth_token}`).toString('base64')}`;
    // The connector points the number at itself, as Twilio's IncomingPhoneNumbers update does it.
    const update = await fetch(
      `${harness.sandbox.baseUrl}/2010-04-01/Accounts/${account.sid}/IncomingPhoneNumbers/${number.sid}.json`,
      {
        method: 'POST',
        headers: { Authorization: basic, 'Content-Type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({
          SmsUrl: smsUrl,
          SmsMethod: 'POST',
          StatusCallback: statusUrl,
        }).toString(),
      },
    );
    expect(update.status).toBe(200);
    expect(await update.json()).toMatchObject({
      sms_url: smsUrl,
      sms_method: 'POST',
      status_callback: statusUrl,
    });

    await page.goto(`${harness.sandbox.baseUrl}/ui`);
    const row = page.locator(`li[data-number="${number.sid}"]`);
    await row.locator('input[name=phone]').fill(CUSTOMER);
    await Promise.all([page.waitForURL(/\/ui\/twilio\/PN[0-9a-f]+\/chats\//), row.locator('button').click()]);
    await send('text', 'Hi from SMS');
    await send('photo', 'receipt');
    await send('voice');
    await send('sticker');
    await send('video');
    await send('location');

    const webhooks = await waitFor('six Twilio webhooks', () => {
      const received = connector
        .on('/webhooks/twilio/account-2')
        .filter((request) => !request.path.endsWith('/status'));
      return received.length >= 6 ? received : undefined;
    });
    const params = webhooks.map((request) => Object.fromEntries(new URLSearchParams(request.raw)));
    webhooks.forEach((request, index) => {
      expect(request.headers['x-twilio-signature']).toBe(
        twilioSignature(account.auth_token, smsUrl, params[index]!),
      );
    });
    expect(params.map((item) => [item.From, item.To])).toEqual(params.map(() => [CUSTOMER, BUSINESS_NUMBER]));
    expect(params[0]).toMatchObject({ Body: 'Hi from SMS', NumMedia: '0' });
    expect(params.slice(1).map((item) => [item.NumMedia, item.MediaContentType0])).toEqual([
      ['1', 'image/jpeg'],
      ['1', 'audio/ogg'],
      ['1', 'image/png'],
      ['1', 'video/mp4'],
      ['1', 'text/vcard'],
    ]);
    expect(params[1]?.Body).toBe('receipt');
    const media = await fetch(params[2]!.MediaUrl0!, { headers: { Authorization: basic } });
    expect(Buffer.from(await media.arrayBuffer()).toString('latin1', 0, 4)).toBe('OggS');

    // Replies through the Messages API: one delivered, one to an unreachable customer.
    await harness.client.twilioSetRecipientOutcome(UNREACHABLE, 'undelivered', 30003);
    const sendSms = (to: string, body: string) =>
      fetch(`${harness.sandbox.baseUrl}/2010-04-01/Accounts/${account.sid}/Messages.json`, {
        method: 'POST',
        headers: { Authorization: basic, 'Content-Type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({
          To: to,
          From: BUSINESS_NUMBER,
          Body: body,
          StatusCallback: statusUrl,
        }).toString(),
      });
    expect((await sendSms(CUSTOMER, 'Thanks, Ana')).status).toBe(201);
    await page.waitForFunction(
      `document.querySelector('.bubble.agent .state')?.getAttribute('data-status') === 'delivered'`,
      undefined,
      { timeout: 10_000 },
    );
    await expect(page.locator('.bubble.agent .text').textContent()).resolves.toBe('Thanks, Ana');
    await expect(page.locator('.bubble.customer .state').allTextContents()).resolves.toEqual(
      Array.from({ length: 6 }, () => 'delivered to the webhook'),
    );

    expect((await sendSms(UNREACHABLE, 'Hello?')).status).toBe(201);
    await page.goto(`${harness.sandbox.baseUrl}/ui`);
    await expect(page.locator(`li[data-number="${number.sid}"] a`).allTextContents()).resolves.toEqual([
      CUSTOMER,
      UNREACHABLE,
    ]);
    await page.goto(
      `${harness.sandbox.baseUrl}/ui/twilio/${number.sid}/chats/${encodeURIComponent(UNREACHABLE)}`,
    );
    await page.waitForFunction(
      `document.querySelector('.bubble.agent .state')?.textContent === 'undelivered (30003)'`,
      undefined,
      { timeout: 10_000 },
    );
    const callbacks = await waitFor('status callbacks sent → delivered and sent → undelivered', () => {
      const received = connector.on('/webhooks/twilio/account-2/status');
      return received.length >= 4 ? received : undefined;
    });
    const statuses = callbacks.map((request) => Object.fromEntries(new URLSearchParams(request.raw)));
    expect(statuses.map((item) => [item.To, item.MessageStatus, item.ErrorCode ?? null])).toEqual(
      expect.arrayContaining([
        [CUSTOMER, 'sent', null],
        [CUSTOMER, 'delivered', null],
        [UNREACHABLE, 'sent', null],
        [UNREACHABLE, 'undelivered', '30003'],
      ]),
    );
  });
});
