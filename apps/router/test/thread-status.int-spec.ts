import { RoutingKeys, type RosterUser, type ThreadStatus } from '@inbox-bridge/shared';
import * as testing from '@inbox-bridge/testing';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { routerMigrations } from '../src/database/data-source.js';
import type { RoutingRulesInput } from '../src/routing/routing-rules.js';
import {
  adminClient,
  GatewayEvents,
  ManualClock,
  nextId,
  RouterCommands,
  started,
  startRouter,
  user,
  type RunningRouter,
} from './router-harness.js';

const TOKEN = 'router-thread-status-token-01';
const FIRST_PORTAL = 7_300_001;
const PORTALS = 10;

interface Trail {
  status: string;
  assigneeUserId: string | null;
  entries: { action: string; reason: string; userId: string | null }[];
}

describe('closed and reopened threads (two router instances, real PostgreSQL and RabbitMQ, gateway events on the vhost)', () => {
  let db: testing.TestDatabase;
  let vhost: testing.TestVhost;
  let routers: RunningRouter[];
  let events: GatewayEvents;
  let commands: RouterCommands;
  let portalSequence = FIRST_PORTAL - 1;
  const clock = new ManualClock(new Date('2026-11-23T15:00:00Z'));

  beforeAll(async () => {
    vhost = await testing.createTestVhost('router_status');
    db = await testing.createTestDatabase('router_status', routerMigrations, { poolSize: 2 });
    const tokens = Array.from({ length: PORTALS }, (_, i) => `${FIRST_PORTAL + i}:${TOKEN}-${i}`).join(',');
    routers = [];
    for (let i = 0; i < 2; i += 1) {
      routers.push(await startRouter(db, vhost, { clock, adminTokens: tokens }));
    }
    events = await GatewayEvents.open(vhost.url);
    commands = await RouterCommands.capture(vhost.url);
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

  async function portalWith(users: RosterUser[], rules: RoutingRulesInput) {
    portalSequence += 1;
    const portalId = portalSequence;
    const admin = adminClient(routers[portalId % 2]?.baseUrl ?? '', `${TOKEN}-${portalId - FIRST_PORTAL}`);
    const channelAccountId = nextId('ca');
    await events.publish(portalId, RoutingKeys.GatewayChannelAccountConnectedV1, {
      channelAccountId,
      hubspotChannelId: '1001',
      inboxId: '9001',
      provider: 'telegram',
      name: 'Support bot',
    });
    await events.publish(portalId, RoutingKeys.GatewayRosterChangedV1, { users, teams: [], full: true });
    await testing.expectEventually(
      async () => {
        const queue = await admin.queue(channelAccountId);
        expect(queue.status).toBe(200);
        expect(queue.body?.['agents']).toHaveLength(users.length);
      },
      { description: 'channel account and roster known' },
    );
    expect((await admin.putRules(channelAccountId, rules)).status).toBe(200);

    const start = (threadId: string) =>
      events.publish(portalId, RoutingKeys.GatewayConversationStartedV1, started(channelAccountId, threadId));
    const apply = async (threadId: string, nth = 1) => {
      const request = await commands.nth(portalId, threadId, nth);
      if (request.assignee.type !== 'user') {
        throw new Error('expected a user assignee');
      }
      await events.publish(portalId, RoutingKeys.GatewayAssignmentAppliedV1, {
        decisionId: request.decisionId,
        hubspotThreadId: threadId,
        userId: request.assignee.userId,
        appliedAt: clock.now().toISOString(),
      });
      await waitForStatus(threadId, 'assigned');
      return request.assignee.userId;
    };
    const trailOf = async (threadId: string) => (await admin.audit(threadId)).body as unknown as Trail;
    const waitForStatus = (threadId: string, status: string) =>
      testing.expectEventually(
        async () => {
          const trail = await trailOf(threadId);
          expect(trail.status).toBe(status);
          return trail;
        },
        { description: `thread ${threadId} ${status}` },
      );
    const status = (threadId: string, value: ThreadStatus, occurredAt = clock.now()) =>
      events.publish(portalId, RoutingKeys.GatewayThreadStatusChangedV1, {
        hubspotThreadId: threadId,
        status: value,
        occurredAt: occurredAt.toISOString(),
      });
    const openCounts = async () => {
      const rows = await db.dataSource.query<{ user_id: string; open_count: number }[]>(
        `SELECT user_id, open_count FROM "${db.schema}".agents WHERE portal_id = $1 ORDER BY user_id`,
        [portalId],
      );
      return Object.fromEntries(rows.map((row) => [row.user_id, row.open_count]));
    };
    /** Open counts must always equal the conversations counted against each agent. */
    const countedPerAgent = async () => {
      const rows = await db.dataSource.query<{ user_id: string; n: number }[]>(
        `SELECT counted_user_id AS user_id, count(*)::int AS n FROM "${db.schema}".conversations
         WHERE portal_id = $1 AND counted_user_id IS NOT NULL GROUP BY counted_user_id`,
        [portalId],
      );
      return Object.fromEntries(rows.map((row) => [row.user_id, row.n]));
    };
    const timerOf = async (threadId: string) => {
      const [row] = await db.dataSource.query<{ due_at: Date | null; due_kind: string | null }[]>(
        `SELECT due_at, due_kind FROM "${db.schema}".conversations WHERE portal_id = $1 AND hubspot_thread_id = $2`,
        [portalId, threadId],
      );
      return row;
    };
    return {
      portalId,
      channelAccountId,
      admin,
      start,
      apply,
      trailOf,
      waitForStatus,
      status,
      openCounts,
      countedPerAgent,
      timerOf,
    };
  }

  it('a closed thread frees its slot for the oldest waiting one, stops its timer and leaves the queue', async () => {
    const p = await portalWith([user('c1')], {
      mode: 'users-and-teams',
      targets: { userIds: ['c1'] },
      capacity: { maxOpenPerAgent: 1 },
      noReplyMinutes: 10,
    });
    await p.start('cl1');
    expect(await p.apply('cl1')).toBe('c1');
    expect((await p.timerOf('cl1'))?.due_kind).toBe('no-reply');
    for (const thread of ['cl2', 'cl3', 'cl4']) {
      await p.start(thread);
      await p.waitForStatus(thread, 'waiting');
    }

    // A waiting conversation closed in HubSpot leaves the queue without taking anyone's slot.
    await p.status('cl2', 'CLOSED');
    const closedWaiting = await p.waitForStatus('cl2', 'closed');
    expect(closedWaiting.entries.at(-1)).toMatchObject({
      action: 'closed',
      reason: expect.stringMatching(
        /^the thread was closed in HubSpot at .*\(was waiting\); it left the queue$/,
      ),
    });
    const queue = await p.admin.queue(p.channelAccountId);
    expect((queue.body?.['waiting'] as { hubspotThreadId: string }[]).map((w) => w.hubspotThreadId)).toEqual([
      'cl3',
      'cl4',
    ]);

    // Closing the assigned one frees c1: the oldest still waiting (cl3) gets the slot, cl4 keeps waiting.
    await p.status('cl1', 'CLOSED');
    const closedAssigned = await p.waitForStatus('cl1', 'closed');
    expect(closedAssigned.entries.at(-1)).toMatchObject({
      action: 'closed',
      userId: 'c1',
      reason: expect.stringMatching(/\(was assigned\); user c1's slot is free$/),
    });
    expect(await p.timerOf('cl1')).toEqual({ due_at: null, due_kind: null });
    expect((await commands.nth(p.portalId, 'cl3')).assignee).toEqual({ type: 'user', userId: 'c1' });
    await p.waitForStatus('cl4', 'waiting');
    expect(commands.forThread(p.portalId, 'cl2')).toEqual([]);
    expect(commands.forThread(p.portalId, 'cl4')).toEqual([]);
    expect(await p.openCounts()).toEqual({ c1: 1 });
    expect(await p.countedPerAgent()).toEqual({ c1: 1 });

    // The no-reply timer of the closed conversation never fires.
    clock.advance(30 * 60_000);
    await p.start('cl5');
    await p.waitForStatus('cl5', 'waiting');
    expect(commands.forThread(p.portalId, 'cl1')).toHaveLength(1);
    expect((await p.trailOf('cl1')).entries.map((entry) => entry.action)).toEqual([
      'assign',
      'applied',
      'closed',
    ]);
  });

  it('a reopened thread counts again for its assignee (above the cap), restarts the timer; one nobody had is routed again', async () => {
    const p = await portalWith([user('o1'), user('o2', { availability: 'away' })], {
      mode: 'users-and-teams',
      targets: { userIds: ['o1', 'o2'] },
      capacity: { maxOpenPerAgent: 1 },
      noReplyMinutes: 10,
    });
    await p.start('re1');
    expect(await p.apply('re1')).toBe('o1');
    await p.start('re2');
    await p.waitForStatus('re2', 'waiting');
    await p.status('re1', 'CLOSED');
    expect((await commands.nth(p.portalId, 're2')).assignee).toEqual({ type: 'user', userId: 'o1' });
    await p.apply('re2');

    // The customer writes to the closed thread: HubSpot reopens it, still assigned to o1, who is now at 2/1.
    clock.advance(60_000);
    await p.status('re1', 'OPEN');
    const reopened = await p.waitForStatus('re1', 'assigned');
    expect(reopened).toMatchObject({ assigneeUserId: 'o1' });
    expect(reopened.entries.at(-1)).toMatchObject({
      action: 'reopened',
      userId: 'o1',
      reason: expect.stringMatching(
        /^the thread was reopened in HubSpot at .*; it counts again for user o1; no-reply timer 10 minutes$/,
      ),
    });
    expect(await p.openCounts()).toEqual({ o1: 2, o2: 0 });
    expect(await p.countedPerAgent()).toEqual({ o1: 2 });
    const timer = await p.timerOf('re1');
    expect(timer?.due_kind).toBe('no-reply');
    expect(timer?.due_at?.getTime()).toBe(clock.now().getTime() + 10 * 60_000);
    expect(commands.forThread(p.portalId, 're1')).toHaveLength(1);

    // A conversation closed while it waited is routed again when it reopens (o2 is back by then).
    await p.start('re3');
    await p.waitForStatus('re3', 'waiting');
    await p.status('re3', 'CLOSED');
    await p.waitForStatus('re3', 'closed');
    await events.publish(p.portalId, RoutingKeys.GatewayRosterChangedV1, {
      users: [user('o2')],
      teams: [],
      full: false,
    });
    await testing.expectEventually(async () => {
      expect((await p.openCounts())['o2']).toBe(0);
      const agents = (await p.admin.queue(p.channelAccountId)).body?.['agents'] as { availability: string }[];
      expect(agents.map((agent) => agent.availability)).toEqual(['available', 'available']);
    });
    expect(commands.forThread(p.portalId, 're3')).toEqual([]);
    await p.status('re3', 'OPEN');
    expect((await commands.nth(p.portalId, 're3')).assignee).toEqual({ type: 'user', userId: 'o2' });
    const routedAgain = await p.trailOf('re3');
    expect(routedAgain.entries.map((entry) => entry.action)).toEqual([
      'queue',
      'closed',
      'reopened',
      'assign',
    ]);
    expect(routedAgain.entries[2]?.reason).toMatch(/; nobody had it, routing it again$/);
  });

  it('closed while an assignment is pending: the gateway’s late answer decides what a reopen restores', async () => {
    const p = await portalWith([user('q1'), user('q2')], {
      mode: 'users-and-teams',
      targets: { userIds: ['q1', 'q2'] },
      capacity: { maxOpenPerAgent: 2 },
    });
    const answer = async (threadId: string, outcome: 'applied' | 'refused', nth = 1) => {
      const request = await commands.nth(p.portalId, threadId, nth);
      const userId = request.assignee.type === 'user' ? request.assignee.userId : '';
      if (outcome === 'applied') {
        await events.publish(p.portalId, RoutingKeys.GatewayAssignmentAppliedV1, {
          decisionId: request.decisionId,
          hubspotThreadId: threadId,
          userId,
          appliedAt: clock.now().toISOString(),
        });
      } else {
        await events.publish(p.portalId, RoutingKeys.GatewayAssignmentFailedV1, {
          decisionId: request.decisionId,
          hubspotThreadId: threadId,
          reason: `user ${userId} has no seat`,
          retryable: false,
        });
      }
      return userId;
    };
    const lastEntry = async (threadId: string, action: string) =>
      testing.expectEventually(async () => {
        const entry = (await p.trailOf(threadId)).entries.at(-1);
        expect(entry?.action).toBe(action);
        return entry;
      });

    // Applied after the close: the reopen finds it assigned to that user.
    await p.start('pa1');
    await commands.nth(p.portalId, 'pa1');
    await p.status('pa1', 'CLOSED');
    await p.waitForStatus('pa1', 'closed');
    const first = await answer('pa1', 'applied');
    expect((await lastEntry('pa1', 'applied'))?.reason).toMatch(/assigned the closed thread/);
    expect(await p.openCounts()).toEqual({ q1: 0, q2: 0 });
    await p.status('pa1', 'OPEN');
    await p.waitForStatus('pa1', 'assigned');
    expect((await p.openCounts())[first]).toBe(1);

    // Refused after the close: the reopen routes it again, to someone else.
    await p.start('pa2');
    await commands.nth(p.portalId, 'pa2');
    await p.status('pa2', 'CLOSED');
    await p.waitForStatus('pa2', 'closed');
    const refused = await answer('pa2', 'refused');
    expect((await lastEntry('pa2', 'failed'))?.reason).toMatch(/routed again if it reopens$/);
    await p.status('pa2', 'OPEN');
    const rerouted = await commands.nth(p.portalId, 'pa2', 2);
    expect(rerouted.assignee.type === 'user' && rerouted.assignee.userId).not.toBe(refused);

    // No answer before the reopen: still pending with the same decision, which the answer then settles.
    await p.start('pa3');
    const pendingRequest = await commands.nth(p.portalId, 'pa3');
    await p.status('pa3', 'CLOSED');
    await p.waitForStatus('pa3', 'closed');
    await p.status('pa3', 'OPEN');
    await p.waitForStatus('pa3', 'pending');
    await answer('pa3', 'applied');
    await p.waitForStatus('pa3', 'assigned');
    expect(commands.forThread(p.portalId, 'pa3')).toEqual([pendingRequest]);
    const counts = await p.openCounts();
    expect(await p.countedPerAgent()).toEqual(
      Object.fromEntries(Object.entries(counts).filter(([, count]) => count > 0)),
    );
    expect(Object.values(counts).reduce((sum, count) => sum + count, 0)).toBe(3);
  });

  it('a manual assignment stays manual across close and reopen; purged accounts stay closed', async () => {
    const p = await portalWith([user('m1'), user('m2')], {
      mode: 'users-and-teams',
      targets: { userIds: ['m1'] },
      capacity: { maxOpenPerAgent: 1 },
      noReplyMinutes: 1,
    });
    await p.start('ma1');
    await commands.nth(p.portalId, 'ma1');
    await events.publish(p.portalId, RoutingKeys.GatewayThreadAssignmentChangedV1, {
      hubspotThreadId: 'ma1',
      assignedActorId: 'A-m2',
      byAgent: true,
    });
    await p.waitForStatus('ma1', 'manual');
    await p.status('ma1', 'CLOSED');
    await p.waitForStatus('ma1', 'closed');
    expect(await p.openCounts()).toEqual({ m1: 0, m2: 0 });
    clock.advance(60_000);
    await p.status('ma1', 'OPEN');
    const reopened = await p.waitForStatus('ma1', 'manual');
    expect(reopened.entries.at(-1)?.reason).toMatch(/it counts again for user m2 \(assigned by a person\)$/);
    expect(await p.timerOf('ma1')).toEqual({ due_at: null, due_kind: null });
    expect(await p.openCounts()).toEqual({ m1: 0, m2: 1 });

    // A person reassigns the closed thread: nobody's load changes until it reopens, then it counts for m1.
    await p.status('ma1', 'CLOSED');
    await p.waitForStatus('ma1', 'closed');
    await events.publish(p.portalId, RoutingKeys.GatewayThreadAssignmentChangedV1, {
      hubspotThreadId: 'ma1',
      assignedActorId: 'A-m1',
      byAgent: true,
    });
    const moved = await testing.expectEventually(async () => {
      const trail = await p.trailOf('ma1');
      expect(trail).toMatchObject({ status: 'closed', assigneeUserId: 'm1' });
      return trail;
    });
    expect(moved.entries.at(-1)).toMatchObject({ action: 'manual', userId: 'm1' });
    expect(await p.openCounts()).toEqual({ m1: 0, m2: 0 });
    await p.status('ma1', 'OPEN');
    await testing.expectEventually(async () => {
      expect(await p.trailOf('ma1')).toMatchObject({ status: 'manual', assigneeUserId: 'm1' });
    });
    expect(await p.openCounts()).toEqual({ m1: 1, m2: 0 });
    expect(await p.countedPerAgent()).toEqual({ m1: 1 });

    // After the account is purged, a reopen of its closed thread changes nothing.
    await p.status('ma1', 'CLOSED');
    await p.waitForStatus('ma1', 'closed');
    await events.publish(p.portalId, RoutingKeys.GatewayChannelAccountPurgedV1, {
      channelAccountId: p.channelAccountId,
    });
    await testing.expectEventually(async () => {
      expect((await p.admin.queue(p.channelAccountId)).status).toBe(404);
    });
    await p.status('ma1', 'OPEN', new Date(clock.now().getTime() + 1_000));
    await testing.expectEventually(async () => {
      const [row] = await db.dataSource.query<{ status_changed_at: Date }[]>(
        `SELECT status_changed_at FROM "${db.schema}".conversations WHERE portal_id = $1 AND hubspot_thread_id = 'ma1'`,
        [p.portalId],
      );
      expect(row?.status_changed_at.getTime()).toBe(clock.now().getTime() + 1_000);
    });
    expect((await p.trailOf('ma1')).status).toBe('closed');
    expect(await p.openCounts()).toEqual({ m1: 0, m2: 0 });
  });

  it('is idempotent: redeliveries, repeated and late (older) changes, unknown threads', async () => {
    const p = await portalWith([user('i1'), user('i2')], {
      mode: 'users-and-teams',
      targets: { userIds: ['i1', 'i2'] },
      capacity: { maxOpenPerAgent: 1 },
    });
    await p.start('id1');
    expect(await p.apply('id1')).toBe('i1');
    await p.start('id2');
    expect(await p.apply('id2')).toBe('i2');
    const closedAt = clock.now();
    const close = await p.status('id1', 'CLOSED', closedAt);
    await events.send(close);
    await p.status('id1', 'CLOSED', closedAt);
    await p.waitForStatus('id1', 'closed');
    // An event published after the duplicates, on the same thread (same ordering shard): they are all done.
    await events.publish(p.portalId, RoutingKeys.GatewayThreadAssignmentChangedV1, {
      hubspotThreadId: 'id1',
      assignedActorId: 'A-i1',
      byAgent: false,
    });
    await p.status('id-unknown', 'CLOSED');
    await p.status('id-unknown', 'OPEN');
    const reopenedAt = new Date(closedAt.getTime() + 60_000);
    await p.status('id1', 'OPEN', reopenedAt);
    await p.waitForStatus('id1', 'assigned');
    // A close older than the reopen, delivered late, is ignored.
    const lateClose = await p.status('id1', 'CLOSED', new Date(closedAt.getTime() + 30_000));
    await p.status('id2', 'CLOSED');
    await p.waitForStatus('id2', 'closed');
    await events.send(lateClose);
    const repeatedOpen = await p.status('id1', 'OPEN', reopenedAt);
    await testing.expectEventually(async () => {
      const inbox = await db.dataSource.query<{ n: number }[]>(
        `SELECT count(*)::int AS n FROM "${db.schema}".inbox WHERE message_id = ANY($1::text[])`,
        [[lateClose.messageId, repeatedOpen.messageId]],
      );
      expect(inbox[0]?.n).toBe(2);
    });
    const [row] = await db.dataSource.query<{ status_changed_at: Date }[]>(
      `SELECT status_changed_at FROM "${db.schema}".conversations WHERE portal_id = $1 AND hubspot_thread_id = 'id1'`,
      [p.portalId],
    );
    expect(row?.status_changed_at.getTime()).toBe(reopenedAt.getTime());
    const trail = await p.trailOf('id1');
    expect(trail.status).toBe('assigned');
    expect(trail.entries.map((entry) => entry.action)).toEqual(['assign', 'applied', 'closed', 'reopened']);
    expect(await p.openCounts()).toEqual({ i1: 1, i2: 0 });
    expect(await p.countedPerAgent()).toEqual({ i1: 1 });
    const unknown = await db.dataSource.query<unknown[]>(
      `SELECT 1 FROM "${db.schema}".conversations WHERE portal_id = $1 AND hubspot_thread_id = 'id-unknown'`,
      [p.portalId],
    );
    expect(unknown).toEqual([]);
  });

  it('many closes across both instances back-fill each waiting conversation once, never above a cap', async () => {
    const agents = ['r1', 'r2', 'r3'];
    const p = await portalWith(
      agents.map((id) => user(id)),
      { mode: 'users-and-teams', targets: { userIds: agents }, capacity: { maxOpenPerAgent: 2 } },
    );
    const threads = Array.from({ length: 18 }, (_, i) => `rc${String(i).padStart(2, '0')}`);
    for (const thread of threads) {
      await p.start(thread);
    }
    await testing.expectEventually(async () => {
      const rows = await db.dataSource.query<{ status: string; n: number }[]>(
        `SELECT status, count(*)::int AS n FROM "${db.schema}".conversations WHERE portal_id = $1 GROUP BY status`,
        [p.portalId],
      );
      expect(Object.fromEntries(rows.map((row) => [row.status, row.n]))).toEqual({ pending: 6, waiting: 12 });
    });
    const waitingBefore = (
      (await p.admin.queue(p.channelAccountId)).body?.['waiting'] as { hubspotThreadId: string }[]
    ).map((entry) => entry.hubspotThreadId);
    const pending = (
      await db.dataSource.query<{ hubspot_thread_id: string }[]>(
        `SELECT hubspot_thread_id FROM "${db.schema}".conversations WHERE portal_id = $1 AND status = 'pending'`,
        [p.portalId],
      )
    ).map((row) => row.hubspot_thread_id);
    // Every pending one closes, each announced twice under different message ids, all at once.
    await Promise.all(pending.flatMap((thread) => [p.status(thread, 'CLOSED'), p.status(thread, 'CLOSED')]));
    await testing.expectEventually(
      async () => {
        const rows = await db.dataSource.query<{ status: string; n: number }[]>(
          `SELECT status, count(*)::int AS n FROM "${db.schema}".conversations WHERE portal_id = $1 GROUP BY status`,
          [p.portalId],
        );
        expect(Object.fromEntries(rows.map((row) => [row.status, row.n]))).toEqual({
          closed: 6,
          pending: 6,
          waiting: 6,
        });
        expect(commands.all(p.portalId)).toHaveLength(12);
      },
      { description: 'six waiting conversations back-filled into the six freed slots' },
    );
    expect(await p.openCounts()).toEqual({ r1: 2, r2: 2, r3: 2 });
    expect(await p.countedPerAgent()).toEqual({ r1: 2, r2: 2, r3: 2 });
    const assignedThreads = commands.all(p.portalId).map((request) => request.payload.hubspotThreadId);
    expect(new Set(assignedThreads).size).toBe(12);
    // Oldest first: the six freed slots went to the six longest waiting conversations.
    expect(new Set(assignedThreads.filter((thread) => waitingBefore.includes(thread)))).toEqual(
      new Set(waitingBefore.slice(0, 6)),
    );
    const closedAudits = await db.dataSource.query<{ n: number }[]>(
      `SELECT count(*)::int AS n FROM "${db.schema}".routing_audit WHERE portal_id = $1 AND action = 'closed'`,
      [p.portalId],
    );
    expect(closedAudits[0]?.n).toBe(6);
  });
});
