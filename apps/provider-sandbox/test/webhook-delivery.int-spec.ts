/* eslint-disable @typescript-eslint/no-unsafe-member-access, @typescript-eslint/no-unsafe-assignment, @typescript-eslint/no-unsafe-return, @typescript-eslint/restrict-plus-operands -- Bot API bodies are arbitrary JSON */
import { expectEventually } from '@inbox-bridge/testing';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import type { SandboxBot, SandboxCustomer } from '../src/client/sandbox-client.js';
import { closedPortUrl, LocalReceiver, startHarness, type Harness } from './harness.js';

describe('Telegram webhook delivery', () => {
  let h: Harness;
  let bot: SandboxBot;
  let customer: SandboxCustomer;
  let receiver: LocalReceiver;
  let receiverUrl: string;

  beforeAll(async () => {
    h = await startHarness();
  });
  afterAll(() => h.sandbox.close());
  beforeEach(async () => {
    await h.client.reset();
    bot = await h.client.createBot();
    customer = await h.client.createCustomer(bot.id, { first_name: 'Ana', username: 'anagarcia' });
    receiver = new LocalReceiver();
    receiverUrl = await receiver.start();
  });
  afterEach(() => receiver.stop());

  it('POSTs one JSON Update per request with the secret token header and increasing update_id', async () => {
    await h.json(bot.token, 'setWebhook', { url: `${receiverUrl}/telegram`, secret_token: 'hook_Secret-1' });
    await h.client.customerSends(bot.id, customer.chat.id, { kind: 'text', text: 'hello' });
    await h.client.customerSends(bot.id, customer.chat.id, { kind: 'text', text: 'again' });

    await expectEventually(() => {
      expect(receiver.delivered()).toHaveLength(2);
    });
    const [first, second] = receiver.delivered();
    expect(first!.headers['content-type']).toBe('application/json');
    expect(first!.headers['x-telegram-bot-api-secret-token']).toBe('hook_Secret-1');
    expect(first!.body.message.text).toBe('hello');
    expect(second!.body.message.text).toBe('again');
    expect(second!.body.update_id).toBe(first!.body.update_id + 1);
    expect((await h.callApi(bot.token, 'getWebhookInfo')).body.result.pending_update_count).toBe(0);
  });

  it('delivers an update twice (same update_id) under the duplicate fault, for `times` updates', async () => {
    await h.json(bot.token, 'setWebhook', { url: `${receiverUrl}/telegram`, secret_token: 'dup_secret' });
    expect(await h.client.setWebhookFaults(bot.id, { duplicate: true, times: 1 })).toEqual({
      duplicate: true,
      remaining: 1,
    });
    await h.client.customerSends(bot.id, customer.chat.id, { kind: 'text', text: 'once' });
    await h.client.customerSends(bot.id, customer.chat.id, { kind: 'text', text: 'twice?' });

    await expectEventually(() => {
      expect(receiver.delivered()).toHaveLength(3);
    });
    const delivered = receiver
      .delivered()
      .map((request) => [request.body.update_id, request.body.message.text]);
    const firstId = delivered[0]?.[0] as number;
    expect(delivered).toEqual([
      [firstId, 'once'],
      [firstId, 'once'],
      [firstId + 1, 'twice?'],
    ]);
    expect(
      receiver
        .delivered()
        .every((request) => request.headers['x-telegram-bot-api-secret-token'] === 'dup_secret'),
    ).toBe(true);
    expect((await h.callApi(bot.token, 'getWebhookInfo')).body.result.pending_update_count).toBe(0);

    await h.client.setWebhookFaults(bot.id, { duplicate: true });
    await h.client.clearWebhookFaults(bot.id);
    await h.client.customerSends(bot.id, customer.chat.id, { kind: 'text', text: 'after clear' });
    await expectEventually(() => {
      expect(receiver.delivered()).toHaveLength(4);
    });
  });

  it('omits the secret header when none is set', async () => {
    await h.json(bot.token, 'setWebhook', { url: receiverUrl });
    await h.client.customerSends(bot.id, customer.chat.id, { kind: 'text', text: 'hi' });
    await expectEventually(() => {
      expect(receiver.delivered()).toHaveLength(1);
    });
    expect(receiver.delivered()[0]!.headers['x-telegram-bot-api-secret-token']).toBeUndefined();
  });

  it('retries a failing receiver with back-off, keeps the chat in order and reports the last error', async () => {
    receiver.failures = 3;
    await h.json(bot.token, 'setWebhook', { url: receiverUrl });
    await h.client.customerSends(bot.id, customer.chat.id, { kind: 'text', text: 'first' });
    await h.client.customerSends(bot.id, customer.chat.id, { kind: 'text', text: 'second' });

    await expectEventually(async () => {
      const info = (await h.callApi(bot.token, 'getWebhookInfo')).body.result;
      expect(info.pending_update_count).toBe(2);
      expect(info.last_error_message).toBe('Wrong response from the webhook: 500 Internal Server Error');
      expect(typeof info.last_error_date).toBe('number');
    });
    await expectEventually(
      () => {
        expect(receiver.delivered()).toHaveLength(2);
      },
      { timeoutMs: 10_000 },
    );
    // Head-of-line blocking: "second" was never sent before "first" got its 2xx.
    expect(receiver.received.map((request) => request.body.message.text)).toEqual([
      'first',
      'first',
      'first',
      'first',
      'second',
    ]);
    const { attempts } = await h.client.deliveries(bot.id);
    expect(attempts.map((attempt) => attempt.status)).toEqual([500, 500, 500, 200, 200]);
    const times = attempts.slice(0, 4).map((attempt) => Date.parse(attempt.at));
    // 1 s, 2 s, 4 s at time scale 0.01 → ≥ 10, 20, 40 ms apart.
    expect(times[1]! - times[0]!).toBeGreaterThanOrEqual(8);
    expect(times[3]! - times[2]!).toBeGreaterThanOrEqual(35);
    expect((await h.callApi(bot.token, 'getWebhookInfo')).body.result.pending_update_count).toBe(0);
  });

  it('retries after connection errors and honours the receiver Retry-After header', async () => {
    await h.json(bot.token, 'setWebhook', { url: await closedPortUrl() });
    await h.client.customerSends(bot.id, customer.chat.id, { kind: 'text', text: 'lost?' });
    await expectEventually(async () => {
      expect((await h.callApi(bot.token, 'getWebhookInfo')).body.result.last_error_message).toBe(
        'Connection refused',
      );
    });

    receiver.failures = 1;
    receiver.failStatus = 429;
    receiver.retryAfterSeconds = 3; // → 30 ms at scale 0.01
    await h.json(bot.token, 'setWebhook', { url: receiverUrl });
    await expectEventually(() => {
      expect(receiver.delivered()).toHaveLength(1);
    });
    expect(receiver.received[0]!.status).toBe(429);
    expect(receiver.delivered()[0]!.body.message.text).toBe('lost?');
  });

  it('delivers chats in parallel and applies allowed_updates and drop_pending_updates', async () => {
    await h.json(bot.token, 'setWebhook', { url: await closedPortUrl(), allowed_updates: ['message'] });
    const other = await h.client.createCustomer(bot.id, { first_name: 'Bob' });
    await h.client.customerSends(bot.id, customer.chat.id, { kind: 'text', text: 'from ana' });
    const filtered = await h.client.customerSends(bot.id, customer.chat.id, {
      kind: 'text',
      text: 'edited',
      edit_of_message_id: 1,
    });
    expect(filtered.update).toBeNull();
    await h.client.customerSends(bot.id, other.chat.id, { kind: 'text', text: 'from bob' });
    expect((await h.callApi(bot.token, 'getWebhookInfo')).body.result.pending_update_count).toBe(2);

    await h.json(bot.token, 'setWebhook', { url: receiverUrl, drop_pending_updates: true });
    expect((await h.callApi(bot.token, 'getWebhookInfo')).body.result.pending_update_count).toBe(0);
    await h.client.customerSends(bot.id, other.chat.id, { kind: 'text', text: 'after drop' });
    await expectEventually(() => {
      expect(receiver.delivered()).toHaveLength(1);
    });
    expect(receiver.delivered()[0]!.body.message.text).toBe('after drop');
  });

  it('sends Basic credentials from the URL userinfo and reports receiver timeouts', async () => {
    const fast = await startHarness({ TELEGRAM_WEBHOOK_TIMEOUT_MS: '100' });
    try {
      const fastBot = await fast.client.createBot();
      const ana = await fast.client.createCustomer(fastBot.id, { first_name: 'Ana' });
      receiver.hangs = 1;
      const withUserinfo = receiverUrl.replace('http://', 'http://hook:p%40ss@');
      await fast.json(fastBot.token, 'setWebhook', { url: `${withUserinfo}/tg` });
      await fast.client.customerSends(fastBot.id, ana.chat.id, { kind: 'text', text: 'slow' });
      await expectEventually(() => {
        expect(receiver.delivered()).toHaveLength(1);
      });
      expect(receiver.delivered()[0]!.headers.authorization).toBe(
        `Basic ${Buffer.from('hook:p@ss').toString('base64')}`,
      );
      const info = (await fast.callApi(fastBot.token, 'getWebhookInfo')).body.result;
      expect(info.last_error_message).toBe('Read timeout expired');
      expect(info.pending_update_count).toBe(0);
    } finally {
      await fast.sandbox.close();
    }
  });
});
