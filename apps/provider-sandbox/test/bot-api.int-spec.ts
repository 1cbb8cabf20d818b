/* eslint-disable @typescript-eslint/no-unsafe-member-access, @typescript-eslint/no-unsafe-call -- Bot API bodies are arbitrary JSON */
import { delay } from '@inbox-bridge/testing';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import type { SandboxBot } from '../src/client/sandbox-client.js';
import { startHarness, type Harness } from './harness.js';

describe('Telegram Bot API: routing, auth, envelope, webhook management, polling', () => {
  let h: Harness;
  let bot: SandboxBot;

  beforeAll(async () => {
    h = await startHarness();
  });
  afterAll(() => h.sandbox.close());
  beforeEach(async () => {
    await h.client.reset();
    bot = await h.client.createBot({ username: 'acme_support_bot', first_name: 'Acme Support' });
  });

  it('getMe answers the bot User over GET, POST JSON and form, with case-insensitive method names', async () => {
    const get = await h.callApi(bot.token, 'getMe');
    expect(get.status).toBe(200);
    expect(get.headers.get('content-type')).toMatch(/^application\/json/);
    expect(get.body).toEqual({
      ok: true,
      result: {
        id: bot.id,
        is_bot: true,
        first_name: 'Acme Support',
        username: 'acme_support_bot',
        can_join_groups: true,
        can_read_all_group_messages: false,
        supports_inline_queries: false,
        can_connect_to_business: false,
        has_main_web_app: false,
      },
    });
    expect(bot.token).toMatch(new RegExp(`^${bot.id}:[A-Za-z0-9_-]{35}$`));
    expect((await h.json(bot.token, 'GETME', {})).body.result.id).toBe(bot.id);
    const form = await h.callApi(bot.token, 'getme', {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      body: '',
    });
    expect(form.body.ok).toBe(true);
  });

  it('rejects unknown and revoked tokens with 401, malformed paths and unknown methods with 404', async () => {
    const unknown = await h.callApi('123456:ABC-DEF1234ghIkl-zyx57W2v1u123ew11', 'getMe');
    expect(unknown.status).toBe(401);
    expect(unknown.body).toEqual({ ok: false, error_code: 401, description: 'Unauthorized' });

    const malformed = await h.callApi('not-a-token', 'getMe');
    expect(malformed.status).toBe(404);
    expect(malformed.body).toEqual({ ok: false, error_code: 404, description: 'Not Found' });

    const noMethod = await fetch(`${h.sandbox.baseUrl}/bot${bot.token}`);
    expect(noMethod.status).toBe(404);

    const method = await h.callApi(bot.token, 'sendTelepathy');
    expect(method.status).toBe(404);
    expect(method.body).toEqual({ ok: false, error_code: 404, description: 'Not Found: method not found' });

    await h.client.revokeBot(bot.id);
    expect((await h.callApi(bot.token, 'getMe')).status).toBe(401);
  });

  it("regenerates a bot's token as BotFather does: the old one is refused, the new one is the same bot", async () => {
    const renewed = await h.client.createBot({ username: 'renewed_bot' });
    const { token } = await h.client.regenerateBotToken(renewed.id);
    expect(token).toMatch(new RegExp(`^${renewed.id}:[A-Za-z0-9_-]{35}$`));
    expect(await h.callApi(renewed.token, 'getMe')).toMatchObject({
      status: 401,
      body: { ok: false, error_code: 401, description: 'Unauthorized' },
    });
    expect(await h.callApi(token, 'getMe')).toMatchObject({
      status: 200,
      body: { ok: true, result: { id: renewed.id, username: 'renewed_bot' } },
    });
  });

  it('setWebhook validates the secret token and reports the settings in getWebhookInfo', async () => {
    const tooLong = await h.json(bot.token, 'setWebhook', {
      url: 'https://bridge.example/tg',
      secret_token: 'a'.repeat(257),
    });
    expect(tooLong.status).toBe(400);
    expect(tooLong.body.description).toBe('Bad Request: secret token is too long');
    const badChars = await h.json(bot.token, 'setWebhook', {
      url: 'https://bridge.example/tg',
      secret_token: 'no spaces!',
    });
    expect(badChars.body).toEqual({
      ok: false,
      error_code: 400,
      description: 'Bad Request: secret token contains unallowed characters',
    });

    const set = await h.callApi(
      bot.token,
      `setWebhook?url=${encodeURIComponent('https://bridge.example/tg')}&secret_token=s3cr3t_-X&max_connections=10&allowed_updates=${encodeURIComponent('["message","edited_message"]')}`,
    );
    expect(set.body).toEqual({ ok: true, result: true, description: 'Webhook was set' });
    const info = await h.callApi(bot.token, 'getWebhookInfo');
    expect(info.body.result).toEqual({
      url: 'https://bridge.example/tg',
      has_custom_certificate: false,
      pending_update_count: 0,
      max_connections: 10,
      allowed_updates: ['message', 'edited_message'],
    });

    expect((await h.json(bot.token, 'deleteWebhook', {})).body).toEqual({
      ok: true,
      result: true,
      description: 'Webhook was deleted',
    });
    expect((await h.json(bot.token, 'deleteWebhook', {})).body.description).toBe(
      'Webhook is already deleted',
    );
    expect((await h.callApi(bot.token, 'getWebhookInfo')).body.result.url).toBe('');
  });

  it('getUpdates conflicts with an active webhook (409) and confirms updates by offset when polling', async () => {
    const customer = await h.client.createCustomer(bot.id, { first_name: 'Ana' });
    await h.client.customerSends(bot.id, customer.chat.id, { kind: 'text', text: 'one' });
    await h.client.customerSends(bot.id, customer.chat.id, { kind: 'text', text: 'two' });

    const first = await h.json(bot.token, 'getUpdates', {});
    expect(first.body.result.map((update: { message: { text: string } }) => update.message.text)).toEqual([
      'one',
      'two',
    ]);
    const [a, b] = first.body.result as { update_id: number }[];
    expect(b!.update_id).toBe(a!.update_id + 1);

    const confirmed = await h.json(bot.token, 'getUpdates', { offset: b!.update_id });
    expect(confirmed.body.result).toHaveLength(1);
    expect((await h.callApi(bot.token, 'getWebhookInfo')).body.result.pending_update_count).toBe(1);

    await h.json(bot.token, 'setWebhook', { url: 'https://bridge.example/tg' });
    const conflict = await h.json(bot.token, 'getUpdates', {});
    expect(conflict.status).toBe(409);
    expect(conflict.body).toEqual({
      ok: false,
      error_code: 409,
      description:
        "Conflict: can't use getUpdates method while webhook is active; use deleteWebhook to delete the webhook first",
    });
  });

  it('long polling wakes up on a new update', async () => {
    const customer = await h.client.createCustomer(bot.id, { first_name: 'Ana' });
    const poll = h.json(bot.token, 'getUpdates', { timeout: 5 });
    await delay(50); // let the poll start waiting; the test also passes if the update wins the race
    await h.client.customerSends(bot.id, customer.chat.id, { kind: 'text', text: 'wake up' });
    const answer = await poll;
    expect(answer.body.result[0].message.text).toBe('wake up');
  });

  it('a second poller terminates the first with 409', async () => {
    const first = h.json(bot.token, 'getUpdates', { timeout: 5 });
    await delay(50); // the first poll must be waiting before the second arrives
    const second = h.json(bot.token, 'getUpdates', { timeout: 0 });
    expect((await first).body).toEqual({
      ok: false,
      error_code: 409,
      description:
        'Conflict: terminated by other getUpdates request; make sure that only one bot instance is running',
    });
    expect((await second).body).toEqual({ ok: true, result: [] });
  });

  it('enforces the real webhook URL rules unless insecure webhooks are allowed', async () => {
    const strict = await startHarness({ TELEGRAM_ALLOW_INSECURE_WEBHOOKS: 'false' });
    try {
      const strictBot = await strict.client.createBot();
      const http = await strict.json(strictBot.token, 'setWebhook', { url: 'http://bridge.example/tg' });
      expect(http.body.description).toBe(
        'Bad Request: bad webhook: An HTTPS URL must be provided for webhook',
      );
      const port = await strict.json(strictBot.token, 'setWebhook', {
        url: 'https://bridge.example:3000/tg',
      });
      expect(port.body.description).toBe(
        'Bad Request: bad webhook: Webhook can be set up only on ports 80, 88, 443 or 8443',
      );
      expect(
        (await strict.json(strictBot.token, 'setWebhook', { url: 'https://bridge.example:8443/tg' })).body.ok,
      ).toBe(true);
    } finally {
      await strict.sandbox.close();
    }
    const local = await startHarness({
      TELEGRAM_ALLOW_INSECURE_WEBHOOKS: 'false',
      SANDBOX_ALLOW_HTTP_WEBHOOKS: 'true',
    });
    try {
      const localBot = await local.client.createBot();
      const set = await local.json(localBot.token, 'setWebhook', {
        url: 'http://127.0.0.1:3001/webhooks/telegram/account-1',
      });
      expect(set.body).toEqual({ ok: true, result: true, description: 'Webhook was set' });
      const ftp = await local.json(localBot.token, 'setWebhook', { url: 'ftp://127.0.0.1/hook' });
      expect(ftp.body.description).toBe(
        'Bad Request: bad webhook: An HTTPS URL must be provided for webhook',
      );
    } finally {
      await local.sandbox.close();
    }
  });

  it('records every call for inspection and injects faults per method', async () => {
    await h.client.setFault(bot.id, 'getMe', { status: 500, times: 1, latencyMs: 20 });
    const failed = await h.callApi(bot.token, 'getMe');
    expect(failed.status).toBe(500);
    expect(failed.body).toEqual({ ok: false, error_code: 500, description: 'Internal Server Error' });
    expect((await h.callApi(bot.token, 'getMe')).status).toBe(200);
    const calls = await h.client.calls(bot.id, 'getMe');
    expect(calls.map((call) => call.status)).toEqual([500, 200]);
  });
});
