import { expectEventually } from '@inbox-bridge/testing';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { SandboxClientError } from '../src/client/sandbox-client.js';
import { LocalReceiver, startHarness, type Harness } from './harness.js';

describe('control API', () => {
  let h: Harness;

  beforeAll(async () => {
    h = await startHarness();
  });
  afterAll(() => h.sandbox.close());
  beforeEach(() => h.client.reset());

  it('answers problem+json for unknown bots and invalid bodies; the client raises SandboxClientError', async () => {
    const missing = await fetch(`${h.sandbox.baseUrl}/__sandbox/telegram/bots/999`);
    expect(missing.status).toBe(404);
    expect(missing.headers.get('content-type')).toMatch(/^application\/problem\+json/);

    const bot = await h.client.createBot();
    const invalid = h.client.createCustomer(bot.id, { first_name: '' });
    await expect(invalid).rejects.toBeInstanceOf(SandboxClientError);
    await expect(invalid).rejects.toMatchObject({ status: 400 });
    await expect(h.client.createBot({ token: 'bad' })).rejects.toMatchObject({ status: 400 });
    await expect(h.client.createBot({ token: bot.token })).rejects.toMatchObject({ status: 400 });
    await expect(h.client.customerSends(bot.id, 12345, { kind: 'text', text: 'x' })).rejects.toMatchObject({
      status: 404,
    });
  });

  it('accepts a caller-chosen token and reset forgets it', async () => {
    const token = '123456:ABC-DEF1234ghIkl-zyx57W2v1u123ew11';
    const bot = await h.client.createBot({ token });
    expect(bot).toEqual({
      id: 123456,
      token,
      username: 'sandbox123456_bot',
      first_name: 'Sandbox Bot',
      revoked: false,
    });
    expect((await h.callApi(token, 'getMe')).status).toBe(200);
    await h.client.reset();
    expect((await h.callApi(token, 'getMe')).status).toBe(401);
  });

  it('adds latency to a method without failing it', async () => {
    const bot = await h.client.createBot();
    await h.client.setFault(bot.id, '*', { latencyMs: 120 });
    const started = Date.now();
    expect((await h.callApi(bot.token, 'getMe')).status).toBe(200);
    expect(Date.now() - started).toBeGreaterThanOrEqual(100);
    await h.client.clearFaults(bot.id);
    const calls = await h.client.calls(bot.id);
    expect(calls).toHaveLength(1);
    expect(calls[0]).toMatchObject({ method: 'getMe', httpMethod: 'GET', status: 200 });
  });

  it('low-overhead mode: bounded (or no) inspection logs, no request logs, deliveries unaffected', async () => {
    const bounded = await startHarness({ SANDBOX_RECORD_LIMIT: '3', SANDBOX_REQUEST_LOGS: 'false' });
    const silent = await startHarness({ SANDBOX_RECORD_LIMIT: '0', SANDBOX_REQUEST_LOGS: 'false' });
    const receiver = new LocalReceiver();
    const receiverUrl = await receiver.start();
    try {
      const bot = await bounded.client.createBot();
      for (let index = 0; index < 5; index += 1) {
        await bounded.callApi(bot.token, `getMe?n=${index}`);
      }
      const calls = await bounded.client.calls(bot.id);
      expect(calls).toHaveLength(3);

      const quiet = await silent.client.createBot();
      const customer = await silent.client.createCustomer(quiet.id, { first_name: 'Ana' });
      await silent.json(quiet.token, 'setWebhook', { url: receiverUrl });
      await silent.client.customerSends(quiet.id, customer.chat.id, { kind: 'text', text: 'hi' });
      await expectEventually(() => {
        expect(receiver.delivered()).toHaveLength(1);
      });
      expect(await silent.client.calls(quiet.id)).toEqual([]);
      expect((await silent.client.deliveries(quiet.id)).attempts).toEqual([]);
    } finally {
      await receiver.stop();
      await bounded.sandbox.close();
      await silent.sandbox.close();
    }
  });
});
