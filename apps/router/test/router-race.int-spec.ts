import { DATA_SOURCE } from '@inbox-bridge/service-kit';
import { RoutingKeys } from '@inbox-bridge/shared';
import * as testing from '@inbox-bridge/testing';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { DataSource } from 'typeorm';
import { routerMigrations } from '../src/database/data-source.js';
import { RoutingService } from '../src/routing/routing.service.js';
import {
  adminClient,
  gatewayApplies,
  GatewayEvents,
  RouterCommands,
  ShiftedClock,
  started,
  startRouter,
  user,
  type RunningRouter,
} from './router-harness.js';

const PORTAL = 6_660_001;
const TOKEN = 'race-portal-admin-token-000001';
const AGENTS = ['r1', 'r2', 'r3', 'r4', 'r5'];
const CAP = 3;

describe('two router instances racing on the same conversations (one schema, one vhost)', () => {
  let db: testing.TestDatabase;
  let vhost: testing.TestVhost;
  let routers: RunningRouter[];
  let events: GatewayEvents;
  let commands: RouterCommands;
  const clock = new ShiftedClock();

  beforeAll(async () => {
    vhost = await testing.createTestVhost('router_race');
    db = await testing.createTestDatabase('router_race', routerMigrations, { poolSize: 2 });
    routers = [];
    for (let i = 0; i < 2; i += 1) {
      routers.push(await startRouter(db, vhost, { adminTokens: `${PORTAL}:${TOKEN}`, clock }));
    }
    events = await GatewayEvents.open(vhost.url);
    commands = await RouterCommands.capture(vhost.url);
    for (const channelAccountId of ['ca-rr', 'ca-fo', 'ca-nr']) {
      await events.publish(PORTAL, RoutingKeys.GatewayChannelAccountConnectedV1, {
        channelAccountId,
        hubspotChannelId: '1001',
        inboxId: '9001',
        provider: 'telegram',
        name: channelAccountId,
      });
    }
    await events.publish(PORTAL, RoutingKeys.GatewayRosterChangedV1, {
      users: AGENTS.map((id) => user(id)),
      teams: [],
      full: true,
    });
    const admin = adminClient(routers[0]?.baseUrl ?? '', TOKEN);
    await testing.expectEventually(async () => {
      const queue = await admin.queue('ca-fo');
      expect(queue.body?.['agents']).toHaveLength(AGENTS.length);
      expect((await admin.queue('ca-rr')).status).toBe(200);
    });
    for (const [channelAccountId, distribution] of [
      ['ca-rr', 'round-robin'],
      ['ca-fo', 'fewest-open'],
    ] as const) {
      const saved = await admin.putRules(channelAccountId, {
        mode: 'users-and-teams',
        targets: { userIds: AGENTS },
        distribution,
        capacity: { maxOpenPerAgent: CAP },
      });
      expect(saved.status).toBe(200);
    }
  }, 90_000);

  afterAll(async () => {
    await commands.close();
    await events.close();
    for (const router of routers) {
      await router.close();
    }
    await db.dispose();
    await vhost.dispose();
  });

  /** Agents' loads, counted conversations and statuses, all from one snapshot (a commit between reads would skew them). */
  const state = () =>
    db.dataSource.transaction('REPEATABLE READ', async (manager) => {
      const agents = await manager.query<{ user_id: string; open_count: number }[]>(
        `SELECT user_id, open_count FROM "${db.schema}".agents WHERE portal_id = $1 ORDER BY user_id`,
        [PORTAL],
      );
      const counted = await manager.query<{ user_id: string; n: number }[]>(
        `SELECT counted_user_id AS user_id, count(*)::int AS n FROM "${db.schema}".conversations
         WHERE portal_id = $1 AND counted_user_id IS NOT NULL GROUP BY counted_user_id ORDER BY counted_user_id`,
        [PORTAL],
      );
      const statuses = await manager.query<{ status: string; n: number }[]>(
        `SELECT status, count(*)::int AS n FROM "${db.schema}".conversations WHERE portal_id = $1 GROUP BY status`,
        [PORTAL],
      );
      return { agents, counted, statuses: Object.fromEntries(statuses.map((row) => [row.status, row.n])) };
    });

  const expectNoThreadAssignedTwice = () => {
    const perThread = new Map<string, number>();
    for (const request of commands.all(PORTAL)) {
      perThread.set(
        request.payload.hubspotThreadId,
        (perThread.get(request.payload.hubspotThreadId) ?? 0) + 1,
      );
    }
    expect([...perThread.values()].filter((count) => count > 1)).toEqual([]);
    return perThread.size;
  };

  it('the same starts handled at once by both instances: one decision per thread, no cap exceeded', async () => {
    const services = routers.map((router) => ({
      service: router.app.get(RoutingService),
      dataSource: router.app.get<DataSource>(DATA_SOURCE),
    }));
    const threads = Array.from({ length: 30 }, (_, i) => `race-${i}`);
    await Promise.all(
      threads.flatMap((thread, i) =>
        services.map(({ service, dataSource }) =>
          dataSource.transaction((manager) =>
            service.conversationStarted(manager, PORTAL, started(i % 2 === 0 ? 'ca-rr' : 'ca-fo', thread)),
          ),
        ),
      ),
    );
    // The same number through the broker, each start published twice under different message ids.
    const viaBroker = Array.from({ length: 20 }, (_, i) => `bus-${i}`);
    for (const thread of viaBroker) {
      for (let copy = 0; copy < 2; copy += 1) {
        await events.publish(PORTAL, RoutingKeys.GatewayConversationStartedV1, started('ca-fo', thread));
      }
    }
    const slots = AGENTS.length * CAP;
    const settled = await testing.expectEventually(
      async () => {
        const current = await state();
        expect((current.statuses['pending'] ?? 0) + (current.statuses['waiting'] ?? 0)).toBe(50);
        return current;
      },
      { description: 'all 50 conversations decided' },
    );
    expect(settled.statuses).toEqual({ pending: slots, waiting: 50 - slots });
    expect(settled.agents).toEqual(AGENTS.map((id) => ({ user_id: id, open_count: CAP })));
    expect(settled.counted).toEqual(AGENTS.map((id) => ({ user_id: id, n: CAP })));
    await testing.expectEventually(() => {
      expect(commands.all(PORTAL)).toHaveLength(slots);
    });
    expect(expectNoThreadAssignedTwice()).toBe(slots);
    // Every copy was consumed (the duplicates too) before the next case frees slots.
    await testing.expectEventually(async () => {
      const [row] = await db.dataSource.query<{ n: number }[]>(
        `SELECT count(*)::int AS n FROM "${db.schema}".inbox WHERE consumer = 'router.conversations'`,
      );
      expect(row?.n).toBe(viaBroker.length * 2);
    });
  });

  it('back-fill by both instances after slots free up still assigns each waiting thread once, oldest first', async () => {
    const admin = adminClient(routers[1]?.baseUrl ?? '', TOKEN);
    const waitingBefore = (await admin.queue('ca-fo')).body?.['waiting'] as { hubspotThreadId: string }[];
    // People take 5 pending threads away from the agents: 5 slots free up, in both instances' shards.
    const pending = await db.dataSource.query<{ hubspot_thread_id: string }[]>(
      `SELECT hubspot_thread_id FROM "${db.schema}".conversations WHERE portal_id = $1 AND status = 'pending'
       ORDER BY hubspot_thread_id LIMIT 5`,
      [PORTAL],
    );
    for (const { hubspot_thread_id: thread } of pending) {
      await events.publish(PORTAL, RoutingKeys.GatewayThreadAssignmentChangedV1, {
        hubspotThreadId: thread,
        assignedActorId: null,
        byAgent: true,
      });
    }
    const slots = AGENTS.length * CAP;
    const settled = await testing.expectEventually(
      async () => {
        const current = await state();
        expect(current.statuses).toEqual({ manual: 5, pending: slots, waiting: 50 - slots - 5 });
        return current;
      },
      { description: 'five waiting conversations back-filled' },
    );
    expect(settled.agents).toEqual(AGENTS.map((id) => ({ user_id: id, open_count: CAP })));
    expect(settled.counted).toEqual(AGENTS.map((id) => ({ user_id: id, n: CAP })));
    await testing.expectEventually(() => {
      expect(commands.all(PORTAL)).toHaveLength(slots + 5);
    });
    expect(expectNoThreadAssignedTwice()).toBe(slots + 5);
    // Oldest first within the channel account whose queue was back-filled.
    const waitingAfter = (await admin.queue('ca-fo')).body?.['waiting'] as { hubspotThreadId: string }[];
    const left = new Set(waitingAfter.map((entry) => entry.hubspotThreadId));
    const taken = waitingBefore.filter((entry) => !left.has(entry.hubspotThreadId));
    expect(waitingBefore.slice(0, taken.length)).toEqual(taken);
  });
  it('no-reply timers due in both instances reassign each conversation once, within the caps', async () => {
    // A third account whose rule allows 6 per agent: 3 more each beside the 3 the other accounts' rules fill.
    const admin = adminClient(routers[0]?.baseUrl ?? '', TOKEN);
    const saved = await admin.putRules('ca-nr', {
      mode: 'users-and-teams',
      targets: { userIds: AGENTS },
      capacity: { maxOpenPerAgent: 6 },
      noReplyMinutes: 5,
    });
    expect(saved.status).toBe(200);
    const threads = Array.from({ length: 8 }, (_, i) => `nr-${i}`);
    for (const thread of threads) {
      await events.publish(PORTAL, RoutingKeys.GatewayConversationStartedV1, started('ca-nr', thread));
    }
    const first = new Map<string, string>();
    for (const thread of threads) {
      first.set(thread, await gatewayApplies(events, commands, PORTAL, thread, clock.now()));
    }
    await testing.expectEventually(async () => {
      const [row] = await db.dataSource.query<{ n: number }[]>(
        `SELECT count(*)::int AS n FROM "${db.schema}".conversations
         WHERE portal_id = $1 AND channel_account_id = 'ca-nr' AND status = 'assigned' AND due_kind = 'no-reply'`,
        [PORTAL],
      );
      expect(row?.n).toBe(threads.length);
    });

    clock.advance(6 * 60_000);
    for (const thread of threads) {
      const second = await commands.nth(PORTAL, thread, 2);
      expect(second.assignee).not.toEqual({ type: 'user', userId: first.get(thread) });
    }
    await new Promise((resolve) => setTimeout(resolve, 500)); // ten poller intervals of each instance
    expect(threads.map((thread) => commands.forThread(PORTAL, thread).length)).toEqual(threads.map(() => 2));
    const noReplies = await db.dataSource.query<{ hubspot_thread_id: string; n: number }[]>(
      `SELECT hubspot_thread_id, count(*)::int AS n FROM "${db.schema}".routing_audit
       WHERE portal_id = $1 AND action = 'no-reply' GROUP BY hubspot_thread_id ORDER BY hubspot_thread_id`,
      [PORTAL],
    );
    expect(noReplies).toEqual(threads.map((thread) => ({ hubspot_thread_id: thread, n: 1 })));
    const current = await state();
    expect(current.agents.every((agent) => agent.open_count <= 6)).toBe(true);
    expect(current.counted).toEqual(
      current.agents.map(({ user_id, open_count }) => ({ user_id, n: open_count })),
    );
    expect(current.agents.reduce((sum, agent) => sum + agent.open_count, 0)).toBe(
      AGENTS.length * CAP + threads.length,
    );
  });
});
