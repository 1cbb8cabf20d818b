import { EVENTS_EXCHANGE } from '@inbox-bridge/messaging';
import { RoutingKeys, type ProviderMessageReceivedV1 } from '@inbox-bridge/shared';
import * as testing from '@inbox-bridge/testing';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { PlatformFixture } from './platform-fixture.js';
import type { PlatformGateway } from './platform-gateway.js';

interface Envelope {
  readonly type: string;
  readonly payload: Record<string, unknown>;
}

interface SandboxThread {
  readonly integrationThreadId: string;
  readonly messages: { readonly text: string }[];
}

const HUB_ID = 6_363;

describe('resilience: HubSpot unreachable, two gateway replicas on one portal budget (real sandbox, PostgreSQL, RabbitMQ)', () => {
  // Both replicas: 10 requests per second for the portal; the sandbox allows 11.
  const fixture = new PlatformFixture(
    HUB_ID,
    {
      HUBSPOT_RATE_LIMIT_PER_10S: '10',
      HUBSPOT_RATE_LIMIT_INTERVAL_MS: '1000',
      HUBSPOT_CONTACT_LOOKUP: 'false',
    },
    { proxied: true },
  );
  let captured: testing.CapturedMessages<Envelope>;
  let second: PlatformGateway | undefined;
  let sequence = 0;

  const message = (channelAccountId: string, conversationKey: string): ProviderMessageReceivedV1 => {
    sequence += 1;
    return {
      provider: 'telegram',
      channelAccountId,
      conversationKey,
      sender: { id: `customer-${conversationKey}` },
      providerMessageId: `r-${sequence}`,
      sentAt: new Date(Date.UTC(2026, 10, 25, 13, 0, 0, sequence)).toISOString(),
      text: `${conversationKey} #${sequence}`,
      attachments: [],
    };
  };

  /** Waits until HubSpot holds exactly these texts per conversation, then checks nothing else arrived. */
  const expectDelivered = async (expected: Map<string, string[]>, timeoutMs: number): Promise<void> => {
    const all = [...expected.values()].flat();
    await testing.expectEventually(
      async () => {
        const threads = (await fixture.control.threads(HUB_ID)) as unknown as SandboxThread[];
        const count = threads
          .filter((thread) => expected.has(thread.integrationThreadId))
          .reduce((sum, thread) => sum + thread.messages.length, 0);
        if (count < all.length) {
          throw new Error(`${count} of ${all.length} in HubSpot`);
        }
      },
      { timeoutMs, intervalMs: 200, description: 'every message in HubSpot' },
    );
    const threads = (await fixture.control.threads(HUB_ID)) as unknown as SandboxThread[];
    for (const [conversationKey, texts] of expected) {
      const thread = threads.find((candidate) => candidate.integrationThreadId === conversationKey);
      expect(thread?.messages.map((published) => published.text)).toEqual(texts);
    }
    await testing.expectEventually(
      () => {
        const published = captured.messages.filter(
          (envelope) =>
            envelope.type === RoutingKeys.GatewayMessagePublishedV1 &&
            expected.has(String(envelope.payload['conversationKey'])),
        );
        if (published.length < all.length) {
          throw new Error(`${published.length} published events`);
        }
        return published;
      },
      { timeoutMs: 15_000, description: 'one published event per message' },
    );
    const ids = captured.messages
      .filter(
        (envelope) =>
          envelope.type === RoutingKeys.GatewayMessagePublishedV1 &&
          expected.has(String(envelope.payload['conversationKey'])),
      )
      .map((envelope) => envelope.payload['providerMessageId']);
    expect(new Set(ids).size).toBe(ids.length);
  };

  beforeAll(async () => {
    await fixture.start('gateway_resilience');
    captured = await testing.captureMessages<Envelope>(fixture.vhost.url, EVENTS_EXCHANGE, 'gateway.#');
  });

  afterAll(async () => {
    await second?.app.close();
    await captured.close();
    await fixture.stop();
  });

  it('HubSpot unreachable for a while: nothing lost, nothing duplicated, order kept per conversation', async () => {
    const account = await fixture.account();
    fixture.proxy?.cut();
    const expected = new Map<string, string[]>();
    for (let round = 0; round < 3; round += 1) {
      for (const key of ['outage-a', 'outage-b']) {
        const item = message(account, key);
        expected.set(key, [...(expected.get(key) ?? []), item.text ?? '']);
        await fixture.publish(RoutingKeys.ProviderMessageReceivedV1, item);
      }
    }
    // The gateway has tried and failed (connection refused) before HubSpot comes back.
    await testing.expectEventually(
      async () => {
        const [row] = await fixture.db.dataSource.query<{ n: number }[]>(
          `SELECT count(*)::int AS n FROM "${fixture.db.schema}".published_messages WHERE channel_account_id = $1`,
          [account],
        );
        const metrics = await (await fetch(`${fixture.gateway.baseUrl}/metrics`)).text();
        return row?.n === 0 && /hubspot_requests_total\{[^}]*status="network"[^}]*\} [1-9]/.test(metrics);
      },
      { timeoutMs: 15_000, description: 'failed attempts while HubSpot is cut off' },
    );
    fixture.proxy?.restore();
    await expectDelivered(expected, 60_000);
  });

  it('two gateway replicas publishing for one portal stay under its limit together: no 429 from HubSpot', async () => {
    second = await fixture.replica();
    await fixture.control.setRateLimit(11, 1_000);
    const account = await fixture.account();
    const before = (await fixture.control.calls(HUB_ID)).length;
    const expected = new Map<string, string[]>();
    for (let round = 0; round < 4; round += 1) {
      for (const key of ['pair-a', 'pair-b', 'pair-c', 'pair-d', 'pair-e', 'pair-f']) {
        const item = message(account, key);
        expected.set(key, [...(expected.get(key) ?? []), item.text ?? '']);
        await fixture.publish(RoutingKeys.ProviderMessageReceivedV1, item);
      }
    }
    await expectDelivered(expected, 50_000);
    const calls = (await fixture.control.calls(HUB_ID)).slice(before);
    expect(calls.filter((call) => call.status === 429)).toEqual([]);
    expect(calls.filter((call) => call.method === 'POST' && call.path.endsWith('/messages'))).toHaveLength(
      24,
    );
  });
});
