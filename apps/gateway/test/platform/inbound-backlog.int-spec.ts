import { Messaging } from '@inbox-bridge/messaging';
import { METRICS_REGISTRY } from '@inbox-bridge/service-kit';
import { RoutingKeys, type ProviderMessageReceivedV1 } from '@inbox-bridge/shared';
import * as testing from '@inbox-bridge/testing';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { Registry } from 'prom-client';
import { PlatformFixture } from './platform-fixture.js';

const HUB_ID = 6_262;
const QUIET_HUB_ID = 6_263;

interface SandboxThread {
  readonly integrationThreadId: string;
  readonly messages: readonly { text: string }[];
}

describe('a portal over its HubSpot budget waits in its own backlog, not in the queues every portal shares (real sandbox, PostgreSQL, RabbitMQ)', () => {
  // 11 in any 10 s: a window's budget at once, then as its places free up. A message may wait 300 ms for budget
  // while it holds a consumer; beyond that it moves to its portal's backlog and comes back at the portal's pace.
  const fixture = new PlatformFixture(HUB_ID, {
    HUBSPOT_RATE_LIMIT_PER_10S: '11',
    HUBSPOT_INBOUND_MAX_RATE_WAIT_MS: '300',
    HUBSPOT_CONTACT_LOOKUP: 'false',
  });

  beforeAll(async () => {
    await fixture.start('gateway_backlog');
    await fixture.addPortal(QUIET_HUB_ID);
  });

  afterAll(async () => {
    await fixture.stop();
  });

  const message = (account: string, conversationKey: string, index: number): ProviderMessageReceivedV1 => ({
    provider: 'telegram',
    channelAccountId: account,
    conversationKey,
    sender: { id: `user-${conversationKey}`, name: 'Grace Hopper' },
    providerMessageId: `${conversationKey}-${index}`,
    sentAt: new Date(Date.UTC(2026, 10, 25, 12, 0, index)).toISOString(),
    text: `${conversationKey} ${index}`,
    attachments: [],
  });

  const threadOf = async (hubId: number, conversationKey: string) => {
    const threads = (await fixture.control.threads(hubId)) as unknown as SandboxThread[];
    return threads.find((candidate) => candidate.integrationThreadId === conversationKey);
  };

  const backlogCounter = async (event: string) => {
    const registry = fixture.gateway.app.get<Registry>(METRICS_REGISTRY, { strict: false });
    const values = (await registry.getSingleMetric('gateway_inbound_backlog_total')?.get())?.values ?? [];
    return values.find((value) => value.labels.event === event)?.value ?? 0;
  };

  it('publishes a burst in order, once each, through the backlog: no attempt used, nothing left behind', async () => {
    const account = await fixture.account();
    // More than a window's budget (the portal's first calls spent some of it on its roster sync).
    const sent = Array.from({ length: 14 }, (_, index) => message(account, 'burst-chat', index + 1));
    for (const each of sent) {
      await fixture.publish(RoutingKeys.ProviderMessageReceivedV1, each);
    }

    const thread = await testing.expectEventually(
      async () => {
        const found = await threadOf(HUB_ID, 'burst-chat');
        if (found === undefined || found.messages.length < sent.length) {
          throw new Error(`${found?.messages.length ?? 0} of ${sent.length} messages in HubSpot`);
        }
        return found;
      },
      { timeoutMs: 60_000, description: 'the burst in HubSpot' },
    );
    expect(thread.messages.map((each) => each.text)).toEqual(sent.map((each) => each.text));
    expect(await backlogCounter('backlogged')).toBeGreaterThan(0);
    expect(await backlogCounter('released')).toBe(await backlogCounter('backlogged'));

    const metrics = fixture.gateway.app.get(Messaging, { strict: false }).metrics;
    // A handed-back message that finds the tokens taken (the roster sync of a fresh portal) waits for a later
    // turn without using an attempt; nothing goes through a retry tier as a failure.
    const retried = (await metrics.retried.get()).values.filter((value) => value.value > 0);
    expect(retried.filter((value) => !String(value.labels.tier).startsWith('deferred-'))).toEqual([]);
    expect((await metrics.deadLettered.get()).values.filter((value) => value.value > 0)).toEqual([]);
    const schema = fixture.db.schema;
    await testing.expectEventually(async () => {
      const [left] = await fixture.dataSource.query<{ waiting: number; released: number }[]>(
        `SELECT (SELECT count(*)::int FROM "${schema}".inbound_backlog) AS waiting,
                (SELECT count(*)::int FROM "${schema}".inbound_backlog_released) AS released`,
      );
      expect(left).toEqual({ waiting: 0, released: 0 });
    });
  });

  it('serves another portal at once while a flooding portal drains its backlog at its own pace', async () => {
    const flooding = await fixture.account();
    const quiet = await fixture.account({ hubId: QUIET_HUB_ID });
    // First messages of each portal (a fresh portal also spends budget on its roster sync).
    await fixture.publish(
      RoutingKeys.ProviderMessageReceivedV1,
      message(quiet, 'quiet-chat', 1),
      QUIET_HUB_ID,
    );
    await testing.expectEventually(
      async () => {
        expect((await threadOf(QUIET_HUB_ID, 'quiet-chat'))?.messages).toHaveLength(1);
      },
      { timeoutMs: 30_000, description: 'the quiet portal first message in HubSpot' },
    );
    const flood = Array.from({ length: 25 }, (_, index) => message(flooding, 'flood-chat', index + 1));
    const backloggedBefore = await backlogCounter('backlogged');
    for (const each of flood) {
      await fixture.publish(RoutingKeys.ProviderMessageReceivedV1, each);
    }
    await testing.expectEventually(async () => {
      expect(await backlogCounter('backlogged')).toBeGreaterThanOrEqual(backloggedBefore + 10);
    });
    const quietSentAt = Date.now();
    await fixture.publish(
      RoutingKeys.ProviderMessageReceivedV1,
      message(quiet, 'quiet-chat', 2),
      QUIET_HUB_ID,
    );

    await testing.expectEventually(
      async () => {
        expect((await threadOf(QUIET_HUB_ID, 'quiet-chat'))?.messages).toHaveLength(2);
      },
      { timeoutMs: 10_000, description: 'the quiet portal second message in HubSpot' },
    );
    // The flood needs three windows at 11 per 10 s; the quiet portal did not queue behind it.
    expect(Date.now() - quietSentAt).toBeLessThan(2_000);
    expect((await threadOf(HUB_ID, 'flood-chat'))?.messages.length ?? 0).toBeLessThan(flood.length / 2);

    const drained = await testing.expectEventually(
      async () => {
        const found = await threadOf(HUB_ID, 'flood-chat');
        if (found === undefined || found.messages.length < flood.length) {
          throw new Error(`${found?.messages.length ?? 0} of ${flood.length} flood messages in HubSpot`);
        }
        return found;
      },
      { timeoutMs: 60_000, description: 'the whole flood in HubSpot' },
    );
    expect(drained.messages.map((each) => each.text)).toEqual(flood.map((each) => each.text));
  });
});
