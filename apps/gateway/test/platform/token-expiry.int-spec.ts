import { EVENTS_EXCHANGE } from '@inbox-bridge/messaging';
import { RoutingKeys } from '@inbox-bridge/shared';
import * as testing from '@inbox-bridge/testing';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { PlatformFixture } from './platform-fixture.js';

interface Envelope {
  readonly type: string;
  readonly payload: Record<string, unknown>;
}

const HUB_ID = 6_464;

describe('access tokens expiring in the middle of traffic (real gateway, sandbox tokens living 2 s)', () => {
  const fixture = new PlatformFixture(
    HUB_ID,
    { HUBSPOT_CONTACT_LOOKUP: 'false' },
    {
      sandboxEnv: { SANDBOX_ACCESS_TOKEN_TTL_MS: '2000ms' },
    },
  );
  let captured: testing.CapturedMessages<Envelope>;

  beforeAll(async () => {
    await fixture.start('gateway_tokens');
    captured = await testing.captureMessages<Envelope>(
      fixture.vhost.url,
      EVENTS_EXCHANGE,
      RoutingKeys.GatewayMessagePublishedV1,
    );
  });

  afterAll(async () => {
    await captured.close();
    await fixture.stop();
  });

  it('keeps publishing across several token lifetimes: every message once, in order, no call refused for good', async () => {
    const account = await fixture.account();
    const texts: string[] = [];
    for (let index = 0; index < 12; index += 1) {
      const text = `tick ${index}`;
      texts.push(text);
      await fixture.publish(RoutingKeys.ProviderMessageReceivedV1, {
        provider: 'telegram',
        channelAccountId: account,
        conversationKey: 'expiring',
        sender: { id: 'customer-1' },
        providerMessageId: `t-${index}`,
        sentAt: new Date(Date.UTC(2026, 10, 25, 14, 0, index)).toISOString(),
        text,
        attachments: [],
      });
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
    const thread = await testing.expectEventually(
      async () => {
        const threads = (await fixture.control.threads(HUB_ID)) as unknown as {
          integrationThreadId: string;
          messages: { text: string }[];
        }[];
        const found = threads.find((candidate) => candidate.integrationThreadId === 'expiring');
        if (found === undefined || found.messages.length < texts.length) {
          throw new Error(`${found?.messages.length ?? 0} of ${texts.length}`);
        }
        return found;
      },
      { timeoutMs: 60_000, intervalMs: 200, description: 'all messages in HubSpot' },
    );
    expect(thread.messages.map((message) => message.text)).toEqual(texts);
    await testing.expectEventually(() => captured.messages.length === texts.length, {
      timeoutMs: 15_000,
      description: 'one published event per message',
    });
    const calls = await fixture.control.calls(HUB_ID);
    const publishes = calls.filter((call) => call.method === 'POST' && call.path.endsWith('/messages'));
    expect(publishes.filter((call) => call.status === 201)).toHaveLength(texts.length);
    // Tokens were replaced during the run (each lives 2 s; the run takes 6 s or more).
    const [portal] = await fixture.db.dataSource.query<{ status: string; refreshed: boolean }[]>(
      `SELECT status, updated_at > installed_at + interval '4 seconds' AS refreshed
         FROM "${fixture.db.schema}".hubspot_portals WHERE portal_id = $1`,
      [HUB_ID],
    );
    expect(portal).toEqual({ status: 'connected', refreshed: true });
  }, 120_000);
});
