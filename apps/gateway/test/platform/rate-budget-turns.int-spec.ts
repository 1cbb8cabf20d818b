import { Messaging } from '@inbox-bridge/messaging';
import { RoutingKeys, type ProviderMessageReceivedV1 } from '@inbox-bridge/shared';
import * as testing from '@inbox-bridge/testing';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { PlatformFixture } from './platform-fixture.js';

const HUB_ID = 6_262;

describe('a portal over its HubSpot budget takes promised turns instead of holding the queues (real sandbox, PostgreSQL, RabbitMQ)', () => {
  // 11 per 10 s: one call of burst, then one a second. A message may wait 300 ms for budget while it holds
  // a consumer; beyond that it is deferred to a turn promised for later.
  const fixture = new PlatformFixture(HUB_ID, {
    HUBSPOT_RATE_LIMIT_PER_10S: '11',
    HUBSPOT_INBOUND_MAX_RATE_WAIT_MS: '300',
    HUBSPOT_CONTACT_LOOKUP: 'false',
  });

  beforeAll(async () => {
    await fixture.start('gateway_turns');
  });

  afterAll(async () => {
    await fixture.stop();
  });

  it('publishes a burst in order, once each, through deferred turns that use no attempt', async () => {
    const account = await fixture.account();
    const sent: ProviderMessageReceivedV1[] = Array.from({ length: 6 }, (_, index) => ({
      provider: 'telegram',
      channelAccountId: account,
      conversationKey: 'burst-chat',
      sender: { id: 'user-burst', name: 'Grace Hopper' },
      providerMessageId: `burst-${index + 1}`,
      sentAt: new Date(Date.UTC(2026, 10, 25, 12, 0, index)).toISOString(),
      text: `burst ${index + 1}`,
      attachments: [],
    }));
    for (const message of sent) {
      await fixture.publish(RoutingKeys.ProviderMessageReceivedV1, message);
    }

    const thread = await testing.expectEventually(
      async () => {
        const threads = (await fixture.control.threads(HUB_ID)) as unknown as {
          integrationThreadId: string;
          messages: { text: string }[];
        }[];
        const found = threads.find((candidate) => candidate.integrationThreadId === 'burst-chat');
        if (found === undefined || found.messages.length < sent.length) {
          throw new Error(`${found?.messages.length ?? 0} of ${sent.length} messages in HubSpot`);
        }
        return found;
      },
      { timeoutMs: 60_000, description: 'the burst in HubSpot' },
    );
    expect(thread.messages.map((message) => message.text)).toEqual(sent.map((message) => message.text));

    const metrics = fixture.gateway.app.get(Messaging, { strict: false }).metrics;
    const retried = (await metrics.retried.get()).values;
    const deferred = retried.filter((value) => String(value.labels.tier).startsWith('deferred-'));
    expect(deferred.reduce((sum, value) => sum + value.value, 0)).toBeGreaterThan(0);
    // Turns are not failures: nothing went through a retry tier as a failed attempt, nothing was dead-lettered.
    expect(retried.filter((value) => !String(value.labels.tier).startsWith('deferred-'))).toEqual([]);
    expect((await metrics.deadLettered.get()).values.filter((value) => value.value > 0)).toEqual([]);
  });
});
