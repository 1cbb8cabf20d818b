import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { OPAQUE_CAPABILITIES, SandboxHarness, incomingMessage } from './sandbox-harness.js';

describe('rate limit per portal and app (§6)', () => {
  let sandbox: SandboxHarness;

  beforeAll(async () => {
    sandbox = await SandboxHarness.start();
  });
  afterAll(() => sandbox.stop());
  beforeEach(() => sandbox.seed());

  it('sends X-HubSpot-RateLimit-* headers and answers the 111th call in 10 s with HubSpot 429', async () => {
    const channelId = await sandbox.createChannel(OPAQUE_CAPABILITIES);
    const token = await sandbox.token();
    const path = `/conversations/v3/custom-channels/${channelId}/channel-accounts`;
    const first = await sandbox.request('GET', path, { token });
    expect(first.status).toBe(200);
    expect(first.headers.get('x-hubspot-ratelimit-max')).toBe('110');
    expect(first.headers.get('x-hubspot-ratelimit-remaining')).toBe('109');
    expect(first.headers.get('x-hubspot-ratelimit-interval-milliseconds')).toBe('10000');
    const rest = await Promise.all(
      Array.from({ length: 109 }, () => sandbox.request('GET', path, { token })),
    );
    expect(rest.every((response) => response.status === 200)).toBe(true);

    const limited = await sandbox.request('GET', path, { token });
    expect(limited.status).toBe(429);
    expect(limited.headers.get('x-hubspot-ratelimit-remaining')).toBe('0');
    expect(limited.body).toEqual({
      status: 'error',
      message: 'You have reached your ten_secondly_rolling limit.',
      errorType: 'RATE_LIMIT',
      correlationId: expect.any(String),
      policyName: 'TEN_SECONDLY_ROLLING',
      requestId: expect.any(String),
    });
    // Another portal's token (another installation) has its own budget.
    await sandbox.control.seedPortal({ hubId: 5151, users: [{ id: 1, email: 'a@b.co' }] });
    const other = await sandbox.control.issueTokens(5151, {
      appId: 1_000_001,
      userId: 1,
      scopes: ['conversations.custom_channels.read'],
    });
    const otherResponse = await sandbox.request('GET', path, { token: other.access_token });
    expect(otherResponse.headers.get('x-hubspot-ratelimit-remaining')).toBe('109');
    // Another app installed in the same portal has its own budget too (per portal **and** app).
    await sandbox.control.registerApp({
      appId: 2_000_002,
      clientId: 'second-client',
      clientSecret: 'second-secret',
      developerApiKeys: ['second-key'],
      redirectUris: ['http://localhost:3000/cb'],
      scopes: ['conversations.custom_channels.read'],
    });
    const secondApp = await sandbox.control.issueTokens(4242, {
      appId: 2_000_002,
      userId: 77,
      scopes: ['conversations.custom_channels.read'],
    });
    const secondAppResponse = await sandbox.request('GET', '/conversations/v3/conversations/inboxes', {
      token: secondApp.access_token,
    });
    expect(secondAppResponse.headers.get('x-hubspot-ratelimit-remaining')).toBe('109');
    expect((await sandbox.request('GET', path, { token })).status).toBe(429);
    const calls = await sandbox.control.calls(4242);
    expect(calls.filter((call) => call.status === 429)).toHaveLength(2);
  });

  it('applies a runtime rate limit and injected faults', async () => {
    const channelId = await sandbox.createChannel(OPAQUE_CAPABILITIES);
    const token = await sandbox.token();
    const path = `/conversations/v3/custom-channels/${channelId}/channel-accounts`;
    await sandbox.control.setRateLimit(2, 60_000);
    expect((await sandbox.request('GET', path, { token })).headers.get('x-hubspot-ratelimit-max')).toBe('2');
    await sandbox.request('GET', path, { token });
    expect((await sandbox.request('GET', path, { token })).status).toBe(429);

    // A rolling window: once the oldest calls leave it, calls succeed again.
    const pause = () => new Promise((resolve) => setTimeout(resolve, 500));
    await sandbox.control.setRateLimit(2, 400);
    await pause();
    expect((await sandbox.request('GET', path, { token })).status).toBe(200);
    expect((await sandbox.request('GET', path, { token })).status).toBe(200);
    expect((await sandbox.request('GET', path, { token })).status).toBe(429);
    await pause();
    const again = await sandbox.request('GET', path, { token });
    expect(again.status).toBe(200);
    expect(again.headers.get('x-hubspot-ratelimit-remaining')).toBe('1');

    await sandbox.control.setRateLimit(110, 10_000);
    await sandbox.control.setFaults([
      {
        method: 'GET',
        pathPrefix: '/conversations/v3/custom-channels',
        errorRate: 1,
        status: 503,
        latencyMs: 30,
      },
    ]);
    const started = Date.now();
    const faulted = await sandbox.request('GET', path, { token });
    expect(faulted.status).toBe(503);
    expect(Date.now() - started).toBeGreaterThanOrEqual(25);
    expect(faulted.body).toMatchObject({ status: 'error', category: 'INTERNAL_ERROR' });
  });

  it('turns the limit off with max 0: no 429s and no rate-limit headers', async () => {
    const channelId = await sandbox.createChannel(OPAQUE_CAPABILITIES);
    const token = await sandbox.token();
    const path = `/conversations/v3/custom-channels/${channelId}/channel-accounts`;
    await sandbox.control.setRateLimit(0, 10_000);
    const responses = await Promise.all(
      Array.from({ length: 130 }, () => sandbox.request('GET', path, { token })),
    );
    expect(responses.map((response) => response.status)).toEqual(responses.map(() => 200));
    expect(responses[0]?.headers.get('x-hubspot-ratelimit-max')).toBeNull();
    await sandbox.control.setSearchRateLimit(0, 1_000);
    const crmToken = await sandbox.token(['crm.objects.contacts.read']);
    const searches = await Promise.all(
      Array.from({ length: 8 }, () =>
        sandbox.request('POST', '/crm/v3/objects/contacts/search', { token: crmToken, body: {} }),
      ),
    );
    expect(searches.map((response) => response.status)).toEqual(searches.map(() => 200));
  });

  it('caps the call log, can drop bodies, and records nothing with max 0', async () => {
    const token = await sandbox.token();
    const path = '/conversations/v3/conversations/inboxes';
    await sandbox.control.setCallLog(3, false);
    for (let index = 0; index < 5; index += 1) {
      await sandbox.request('GET', `${path}?limit=${index + 1}`, { token });
    }
    const capped = await sandbox.control.calls(4242);
    expect(capped.map((call) => call.query.limit)).toEqual(['3', '4', '5']);
    await sandbox.createChannel(OPAQUE_CAPABILITIES);
    const all = (await fetch(`${sandbox.baseUrl}/__sandbox/calls`).then((response) => response.json())) as {
      method: string;
      body?: unknown;
    }[];
    expect(all.at(-1)?.method).toBe('POST');
    expect(all.every((call) => call.body === undefined)).toBe(true);

    await sandbox.control.setCallLog(0);
    await sandbox.request('GET', path, { token });
    expect(await sandbox.control.calls(4242)).toEqual([]);
    expect((await sandbox.control.settings()).callLog).toEqual({ max: 0, bodies: false });
  });

  it('runs in low-overhead mode (no request logs, no call log, no limit) and still dedupes and threads', async () => {
    const fast = await SandboxHarness.start({
      SANDBOX_REQUEST_LOGS: 'false',
      SANDBOX_CALL_LOG_MAX: '0',
      SANDBOX_RATE_LIMIT_MAX: '0',
    });
    try {
      await fast.seed();
      const channelId = await fast.createChannel(OPAQUE_CAPABILITIES);
      const token = await fast.token();
      const accountId = await fast.createAccount(token, channelId);
      const path = `/conversations/v3/custom-channels/${channelId}/messages`;
      const publish = (index: number) =>
        fast.request('POST', path, {
          token,
          body: incomingMessage(accountId, {
            integrationThreadId: `chat-${index % 7}`,
            integrationIdempotencyId: `message-${index}`,
          }),
        });
      const first = await Promise.all(Array.from({ length: 150 }, (_, index) => publish(index)));
      expect(first.map((response) => response.status)).toEqual(first.map(() => 201));
      expect(first[0]?.headers.get('x-hubspot-ratelimit-max')).toBeNull();
      const repeated = await publish(3);
      expect(repeated.status).toBe(200);
      const bodies = first.map((response) => response.body as { id: string; conversationsThreadId: string });
      expect((repeated.body as { id: string }).id).toBe(bodies[3]?.id);
      expect(new Set(bodies.map((body) => body.conversationsThreadId)).size).toBe(7);
      expect(await fast.control.calls(4242)).toEqual([]);
    } finally {
      await fast.stop();
    }
  });
});
