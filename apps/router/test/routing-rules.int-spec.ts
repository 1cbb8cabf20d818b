import { RoutingKeys, type RosterUser } from '@inbox-bridge/shared';
import * as testing from '@inbox-bridge/testing';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { routerMigrations } from '../src/database/data-source.js';
import type { RoutingRulesInput } from '../src/routing/routing-rules.js';
import {
  adminClient,
  gatewayApplies,
  GatewayEvents,
  ManualClock,
  nextId,
  RouterCommands,
  started,
  startRouter,
  user,
  type RunningRouter,
} from './router-harness.js';

const TOKEN = 'router-rules-test-token-0001';
let portalSequence = 7_100_000;

describe('router rules (real PostgreSQL schema and RabbitMQ vhost, the gateway events published to the vhost)', () => {
  let db: testing.TestDatabase;
  let vhost: testing.TestVhost;
  let router: RunningRouter;
  let events: GatewayEvents;
  let commands: RouterCommands;
  const clock = new ManualClock(new Date('2026-11-23T15:00:00Z'));
  const tokens: string[] = [];

  beforeAll(async () => {
    vhost = await testing.createTestVhost('router_rules');
    db = await testing.createTestDatabase('router_rules', routerMigrations, { poolSize: 2 });
    for (let i = 0; i < 30; i += 1) {
      tokens.push(`${7_100_001 + i}:${TOKEN}-${i}`);
    }
    // A small batch, so that one back-fill step cannot reach past a long queue by trying everything.
    router = await startRouter(db, vhost, {
      clock,
      adminTokens: tokens.join(','),
      env: { ROUTER_BATCH_SIZE: '12' },
    });
    events = await GatewayEvents.open(vhost.url);
    commands = await RouterCommands.capture(vhost.url);
  }, 60_000);

  afterAll(async () => {
    await commands.close();
    await events.close();
    await router.close();
    await db.dispose();
    await vhost.dispose();
  });

  /** The customers' last handlers the router recorded for the portal (sticky), once the replies arrived. */
  const expectLastHandlers = (portalId: number, userIds: string[]) =>
    testing.expectEventually(async () => {
      const rows = await db.dataSource.query<{ user_id: string }[]>(
        `SELECT user_id FROM "${db.schema}".customer_handlers WHERE portal_id = $1 ORDER BY user_id`,
        [portalId],
      );
      expect(rows.map((row) => row.user_id)).toEqual(userIds);
    });

  /** A fresh portal with one channel account, its roster and its rules, all known to the router. */
  async function portalWith(users: RosterUser[], rules: RoutingRulesInput) {
    portalSequence += 1;
    const portalId = portalSequence;
    const admin = adminClient(router.baseUrl, `${TOKEN}-${portalId - 7_100_001}`);
    const channelAccountId = nextId('ca');
    await events.publish(portalId, RoutingKeys.GatewayChannelAccountConnectedV1, {
      channelAccountId,
      hubspotChannelId: '1001',
      inboxId: '9001',
      provider: 'telegram',
      name: 'Support bot',
    });
    await events.publish(portalId, RoutingKeys.GatewayRosterChangedV1, {
      users,
      teams: [{ teamId: 'team-a', name: 'Team A' }],
      full: true,
    });
    await testing.expectEventually(
      async () => {
        const queue = await admin.queue(channelAccountId);
        expect(queue.status).toBe(200);
        expect(queue.body?.['agents']).toHaveLength(users.length);
      },
      { description: 'channel account and roster known' },
    );
    const saved = await admin.putRules(channelAccountId, rules);
    expect(saved.status).toBe(200);
    const start = async (threadId: string, overrides: Parameters<typeof started>[2] = {}) =>
      events.publish(
        portalId,
        RoutingKeys.GatewayConversationStartedV1,
        started(channelAccountId, threadId, overrides),
      );
    const apply = async (threadId: string, nth = 1) => {
      const userId = await gatewayApplies(events, commands, portalId, threadId, clock.now(), nth);
      await testing.expectEventually(async () => {
        expect((await admin.audit(threadId)).body?.['status']).toBe('assigned');
      });
      return userId;
    };
    const assignee = async (threadId: string, nth = 1) => {
      const request = await commands.nth(portalId, threadId, nth);
      return request.assignee.type === 'user' ? request.assignee.userId : 'unassign';
    };
    const auditOf = async (threadId: string) => (await admin.audit(threadId)).body;
    const waitForStatus = (threadId: string, status: string) =>
      testing.expectEventually(
        async () => {
          const trail = await auditOf(threadId);
          expect(trail?.['status']).toBe(status);
          return trail as { entries: { action: string; reason: string; userId: string | null }[] };
        },
        { description: `thread ${threadId} ${status}` },
      );
    /** A rep's reply as the gateway announces it (`senderActorId` A-<userId>). */
    const agentReplies = (threadId: string, conversationKey: string, userId: string) =>
      events.publish(portalId, RoutingKeys.GatewayOutboundMessageRequestedV1, {
        channelAccountId,
        hubspotMessageId: nextId('m'),
        hubspotThreadId: threadId,
        conversationKey,
        recipient: { deliveryIdentifier: { type: 'CHANNEL_SPECIFIC_OPAQUE_ID', value: conversationKey } },
        senderActorId: `A-${userId}`,
        text: 'on it',
        attachments: [],
        requestedAt: clock.now().toISOString(),
      });
    /** A customer's message as the gateway announces it once HubSpot has it. */
    const customerWrites = (threadId: string, conversationKey: string) =>
      events.publish(portalId, RoutingKeys.GatewayMessagePublishedV1, {
        channelAccountId,
        conversationKey,
        providerMessageId: nextId('pm'),
        hubspotMessageId: nextId('hm'),
        hubspotThreadId: threadId,
        publishedAt: clock.now().toISOString(),
      });
    return {
      portalId,
      channelAccountId,
      admin,
      start,
      apply,
      assignee,
      auditOf,
      waitForStatus,
      agentReplies,
      customerWrites,
    };
  }

  it('off: leaves a new conversation unassigned and says why in the audit trail', async () => {
    const p = await portalWith([user('u1')], { mode: 'off' });
    await p.start('t-off');
    const trail = await p.waitForStatus('t-off', 'unrouted');
    expect(trail.entries[0]?.reason).toMatch(/routing is off/);
    expect(commands.forThread(p.portalId, 't-off')).toEqual([]);
  });

  it('users and teams, round robin: takes turns in user id order, team members included', async () => {
    const p = await portalWith([user('u1'), user('u2'), user('u3', { teamIds: ['team-a'] }), user('u4')], {
      mode: 'users-and-teams',
      targets: { userIds: ['u1', 'u2'], teamIds: ['team-a'] },
      distribution: 'round-robin',
    });
    const order: string[] = [];
    for (const thread of ['rr1', 'rr2', 'rr3', 'rr4']) {
      await p.start(thread);
      order.push(await p.assignee(thread));
    }
    expect(order).toEqual(['u1', 'u2', 'u3', 'u1']);
    const trail = await p.auditOf('rr1');
    expect(trail?.['entries']).toEqual([
      expect.objectContaining({ action: 'assign', userId: 'u1', reason: 'round robin' }),
    ]);
  });

  it('users and teams, fewest open: the least loaded available agent, skipping agents who are away', async () => {
    const p = await portalWith([user('f1'), user('f2'), user('f3', { availability: 'away' })], {
      mode: 'users-and-teams',
      targets: { userIds: ['f1', 'f2', 'f3'] },
      distribution: 'fewest-open',
    });
    const picks: string[] = [];
    for (const thread of ['fo1', 'fo2', 'fo3', 'fo4']) {
      await p.start(thread);
      picks.push(await p.assignee(thread));
    }
    expect(picks.filter((pick) => pick === 'f1')).toHaveLength(2);
    expect(picks.filter((pick) => pick === 'f2')).toHaveLength(2);
    expect(picks).not.toContain('f3');
  });

  it('contact owner: the owner gets it; no owner, no seat or away owner falls back to the pool', async () => {
    const p = await portalWith(
      [user('o1', { ownerId: 'own-1' }), user('o2', { ownerId: 'own-2', availability: 'away' }), user('fb')],
      { mode: 'contact-owner', targets: { userIds: ['fb'] } },
    );
    await p.start('co-owner', { contactOwnerId: 'own-1' });
    expect(await p.assignee('co-owner')).toBe('o1');
    await p.start('co-none');
    expect(await p.assignee('co-none')).toBe('fb');
    await p.start('co-noseat', { contactOwnerId: 'own-404' });
    expect(await p.assignee('co-noseat')).toBe('fb');
    await p.start('co-away', { contactOwnerId: 'own-2' });
    expect(await p.assignee('co-away')).toBe('fb');
    const reasons = await Promise.all(
      ['co-owner', 'co-none', 'co-noseat', 'co-away'].map(async (thread) => {
        const trail = (await p.auditOf(thread)) as { entries: { reason: string }[] };
        return trail.entries[0]?.reason;
      }),
    );
    expect(reasons).toEqual([
      'contact owner own-1 (user o1)',
      expect.stringMatching(/^the contact has no owner; fallback: round robin/),
      expect.stringMatching(/^owner own-404 has no seat; fallback/),
      expect.stringMatching(/^owner own-2 \(user o2\) is unavailable or at capacity; fallback/),
    ]);
  });

  it('capacity: waits in a queue, oldest first, back-filled when an agent frees up or comes back', async () => {
    const p = await portalWith([user('c1'), user('c2', { availability: 'away' })], {
      mode: 'users-and-teams',
      targets: { userIds: ['c1', 'c2'] },
      capacity: { maxOpenPerAgent: 1 },
    });
    await p.start('cap1');
    expect(await p.apply('cap1')).toBe('c1');
    for (const thread of ['cap2', 'cap3', 'cap4']) {
      await p.start(thread);
      await p.waitForStatus(thread, 'waiting');
    }
    const queue = await p.admin.queue(p.channelAccountId);
    expect((queue.body?.['waiting'] as { hubspotThreadId: string }[]).map((w) => w.hubspotThreadId)).toEqual([
      'cap2',
      'cap3',
      'cap4',
    ]);

    // c1 frees up: a person moves cap1 to someone outside the pool; the oldest waiting one goes to c1.
    await events.publish(p.portalId, RoutingKeys.GatewayThreadAssignmentChangedV1, {
      hubspotThreadId: 'cap1',
      assignedActorId: 'A-boss',
      byAgent: true,
    });
    expect(await p.assignee('cap2')).toBe('c1');

    // c2 comes back: the next oldest goes to c2; cap4 still waits.
    await events.publish(p.portalId, RoutingKeys.GatewayRosterChangedV1, {
      users: [user('c2')],
      teams: [],
      full: false,
    });
    expect(await p.assignee('cap3')).toBe('c2');
    await p.waitForStatus('cap4', 'waiting');
    expect(commands.forThread(p.portalId, 'cap4')).toEqual([]);

    // Raising the cap lets the poller's sweep assign the rest.
    await p.admin.putRules(p.channelAccountId, {
      mode: 'users-and-teams',
      targets: { userIds: ['c1', 'c2'] },
      capacity: { maxOpenPerAgent: 2 },
    });
    expect(['c1', 'c2']).toContain(await p.assignee('cap4'));
    const metrics = await (await fetch(`${router.baseUrl}/metrics`)).text();
    expect(metrics).toMatch(/^router_decisions_total\{action="queue"(,[^}]*)?\} [1-9]\d*$/m);
    expect(metrics).toMatch(/^router_waiting_conversations(\{[^}]*\})? \d+$/m);
  });

  it('back-fill looks past a long queue of a full channel account to another account with room', async () => {
    const p = await portalWith([user('a1'), user('b1', { availability: 'away' })], {
      mode: 'users-and-teams',
      targets: { userIds: ['a1'] },
      capacity: { maxOpenPerAgent: 1 },
    });
    await events.publish(p.portalId, RoutingKeys.GatewayChannelAccountConnectedV1, {
      channelAccountId: `${p.channelAccountId}-b`,
      hubspotChannelId: '1001',
      inboxId: '9002',
      provider: 'twilio',
      name: 'SMS',
    });
    await testing.expectEventually(async () => {
      expect(
        (await p.admin.call('GET', `/admin/channel-accounts/${p.channelAccountId}-b/rules`)).status,
      ).toBe(200);
    });
    await p.admin.putRules(`${p.channelAccountId}-b`, {
      mode: 'users-and-teams',
      targets: { userIds: ['b1'] },
    });
    await p.start('sv-a00');
    expect(await p.assignee('sv-a00')).toBe('a1');
    const queuedA = Array.from({ length: 12 }, (_, i) => `sv-a${String(i + 1).padStart(2, '0')}`);
    for (const thread of queuedA) {
      await p.start(thread);
    }
    await events.publish(
      p.portalId,
      RoutingKeys.GatewayConversationStartedV1,
      started(`${p.channelAccountId}-b`, 'sv-b'),
    );
    for (const thread of [...queuedA, 'sv-b']) {
      await p.waitForStatus(thread, 'waiting');
    }
    // b1 comes back: the 12 older conversations of the full account fill a whole step, yet sv-b is reached.
    await events.publish(p.portalId, RoutingKeys.GatewayRosterChangedV1, {
      users: [user('b1')],
      teams: [],
      full: false,
    });
    expect(await p.assignee('sv-b')).toBe('b1');
    expect(queuedA.flatMap((thread) => commands.forThread(p.portalId, thread))).toEqual([]);
  });

  it('business hours across a time-zone boundary: waits outside hours, routed when the inbox opens', async () => {
    // Tokyo 09:00-18:00 Monday to Friday. 2026-11-23T23:30Z is Tuesday 08:30 in Tokyo (Monday in UTC).
    const p = await portalWith([user('b1')], {
      mode: 'users-and-teams',
      targets: { userIds: ['b1'] },
      businessHours: {
        timeZone: 'Asia/Tokyo',
        weekly: { mon: [{ start: '09:00', end: '18:00' }], tue: [{ start: '09:00', end: '18:00' }] },
        outsideHours: { action: 'wait' },
      },
    });
    clock.set('2026-11-23T23:30:00Z');
    await p.start('bh1');
    const trail = await p.waitForStatus('bh1', 'waiting');
    expect(trail.entries[0]?.reason).toBe('waiting: outside business hours (Asia/Tokyo)');
    clock.set('2026-11-24T00:00:00Z'); // Tuesday 09:00 in Tokyo
    expect(await p.assignee('bh1')).toBe('b1');
    clock.set('2026-11-23T15:00:00Z');
  });

  it('business hours: outside hours routes to the after-hours team', async () => {
    const p = await portalWith([user('d1'), user('n1', { teamIds: ['team-a'] })], {
      mode: 'users-and-teams',
      targets: { userIds: ['d1'] },
      businessHours: {
        timeZone: 'America/New_York',
        weekly: { mon: [{ start: '09:00', end: '17:00' }] },
        outsideHours: { action: 'after-hours-team', teamId: 'team-a' },
      },
    });
    clock.set('2026-11-23T23:00:00Z'); // Monday 18:00 in New York
    await p.start('ah1');
    expect(await p.assignee('ah1')).toBe('n1');
    clock.set('2026-11-23T15:00:00Z'); // Monday 10:00 in New York
    await p.start('ah2');
    expect(await p.assignee('ah2')).toBe('d1');
  });

  it('sticky: a returning customer goes back to the agent who replied to them last', async () => {
    const p = await portalWith([user('s1'), user('s2')], {
      mode: 'users-and-teams',
      targets: { userIds: ['s1', 's2'] },
      sticky: true,
    });
    await p.start('st1', { conversationKey: 'customer-x' });
    expect(await p.assignee('st1')).toBe('s1');
    await p.agentReplies('st1', 'customer-x', 's2');
    await expectLastHandlers(p.portalId, ['s2']);
    await p.start('st2', { conversationKey: 'customer-x', isReturningCustomer: true });
    expect(await p.assignee('st2')).toBe('s2');
    const trail = (await p.auditOf('st2')) as { entries: { reason: string }[] };
    expect(trail.entries[0]?.reason).toMatch(/^sticky: returning customer goes back to user s2/);
  });

  it('no-reply: reassigns by the same rule after N minutes without a reply; a reply stops the timer', async () => {
    const p = await portalWith([user('n1'), user('n2')], {
      mode: 'users-and-teams',
      targets: { userIds: ['n1', 'n2'] },
      noReplyMinutes: 10,
    });
    await p.start('nr1');
    expect(await p.apply('nr1')).toBe('n1');
    await p.start('nr2');
    expect(await p.apply('nr2')).toBe('n2');
    await p.agentReplies('nr2', 'key-nr2', 'n2');
    await testing.expectEventually(async () => {
      const [row] = await db.dataSource.query<{ due_at: Date | null }[]>(
        `SELECT due_at FROM "${db.schema}".conversations WHERE portal_id = $1 AND hubspot_thread_id = 'nr2'`,
        [p.portalId],
      );
      expect(row?.due_at).toBeNull();
    });
    clock.advance(9 * 60_000);
    const [timer] = await db.dataSource.query<{ due_at: Date; due_kind: string }[]>(
      `SELECT due_at, due_kind FROM "${db.schema}".conversations WHERE portal_id = $1 AND hubspot_thread_id = 'nr1'`,
      [p.portalId],
    );
    expect(timer?.due_kind).toBe('no-reply');
    expect(timer?.due_at.getTime()).toBeGreaterThan(clock.now().getTime());
    clock.advance(2 * 60_000);
    const second = await commands.nth(p.portalId, 'nr1', 2);
    expect(second.assignee).toEqual({ type: 'user', userId: 'n2' });
    expect(second.reason).toMatch(/^user n1 did not reply within 10 minutes; round robin/);
    expect(commands.forThread(p.portalId, 'nr2')).toHaveLength(1);
    const trail = (await p.auditOf('nr1')) as { entries: { action: string }[] };
    expect(trail.entries.map((entry) => entry.action)).toEqual(['assign', 'applied', 'no-reply', 'assign']);

    // The customer of the answered conversation writes again: its timer starts over from that message.
    const wroteAt = clock.now().getTime();
    await p.customerWrites('nr2', 'key-nr2');
    await testing.expectEventually(async () => {
      const [row] = await db.dataSource.query<
        { due_at: Date | null; due_kind: string | null; last_customer_message_at: Date | null }[]
      >(
        `SELECT due_at, due_kind, last_customer_message_at FROM "${db.schema}".conversations
          WHERE portal_id = $1 AND hubspot_thread_id = 'nr2'`,
        [p.portalId],
      );
      expect(row?.last_customer_message_at?.getTime()).toBe(wroteAt);
      expect(row?.due_kind).toBe('no-reply');
      expect(row?.due_at?.getTime()).toBe(wroteAt + 10 * 60_000);
    });
  });

  it('manual assignments are never overridden: before the start, and against the no-reply timer', async () => {
    const p = await portalWith([user('m1'), user('m2')], {
      mode: 'users-and-teams',
      targets: { userIds: ['m1', 'm2'] },
      noReplyMinutes: 1,
    });
    await events.publish(p.portalId, RoutingKeys.GatewayThreadAssignmentChangedV1, {
      hubspotThreadId: 'man1',
      assignedActorId: 'A-m2',
      byAgent: true,
    });
    await p.waitForStatus('man1', 'manual');
    await p.start('man1');
    await p.start('man2');
    expect(await p.apply('man2')).toBe('m1');
    await events.publish(p.portalId, RoutingKeys.GatewayThreadAssignmentChangedV1, {
      hubspotThreadId: 'man2',
      assignedActorId: 'A-m2',
      byAgent: true,
    });
    await p.waitForStatus('man2', 'manual');
    clock.advance(5 * 60_000);
    await p.start('man3');
    await commands.nth(p.portalId, 'man3');
    expect(commands.forThread(p.portalId, 'man1')).toEqual([]);
    expect(commands.forThread(p.portalId, 'man2')).toHaveLength(1);
    const trail = (await p.auditOf('man1')) as { status: string; assigneeUserId: string };
    expect(trail).toMatchObject({ status: 'manual', assigneeUserId: 'm2' });
  });

  it('a failed assignment goes to someone else; a retryable one is requested again', async () => {
    const p = await portalWith([user('g1'), user('g2')], {
      mode: 'users-and-teams',
      targets: { userIds: ['g1', 'g2'] },
    });
    await p.start('fail1');
    const first = await commands.nth(p.portalId, 'fail1');
    await events.publish(p.portalId, RoutingKeys.GatewayAssignmentFailedV1, {
      decisionId: first.decisionId,
      hubspotThreadId: 'fail1',
      reason: 'user g1 has no seat in inbox 9001',
      retryable: false,
    });
    const second = await commands.nth(p.portalId, 'fail1', 2);
    expect(second.assignee).toEqual({ type: 'user', userId: 'g2' });
    await events.publish(p.portalId, RoutingKeys.GatewayAssignmentFailedV1, {
      decisionId: second.decisionId,
      hubspotThreadId: 'fail1',
      reason: 'HubSpot answered 503',
      retryable: true,
    });
    await testing.expectEventually(async () => {
      const trail = (await p.auditOf('fail1')) as { entries: { reason: string }[] };
      expect(trail.entries.at(-1)?.reason).toMatch(
        /could not assign it yet \(HubSpot answered 503\); retrying/,
      );
    });
    clock.advance(1_000);
    const third = await commands.nth(p.portalId, 'fail1', 3);
    expect(third.assignee).toEqual({ type: 'user', userId: 'g2' });
    expect(third.decisionId).not.toBe(second.decisionId);
  });

  it("a refusal that names a person's assignment makes the thread manual at once; nobody else is asked", async () => {
    const p = await portalWith([user('h1'), user('h2'), user('h3')], {
      mode: 'users-and-teams',
      targets: { userIds: ['h1', 'h2', 'h3'] },
    });
    await p.start('person1');
    const first = await commands.nth(p.portalId, 'person1');
    // What the gateway publishes when HubSpot shows a person's assignee: that assignment, then the refusal.
    await events.publish(p.portalId, RoutingKeys.GatewayThreadAssignmentChangedV1, {
      hubspotThreadId: 'person1',
      assignedActorId: 'A-h3',
      byAgent: true,
    });
    await events.publish(p.portalId, RoutingKeys.GatewayAssignmentFailedV1, {
      decisionId: first.decisionId,
      hubspotThreadId: 'person1',
      reason: 'the thread was assigned by a person in HubSpot (A-h3)',
      retryable: false,
    });
    const trail = await p.waitForStatus('person1', 'manual');
    // HubSpot's own assignment event arrives later and repeats it.
    await events.publish(p.portalId, RoutingKeys.GatewayThreadAssignmentChangedV1, {
      hubspotThreadId: 'person1',
      assignedActorId: 'A-h3',
      byAgent: true,
    });
    await p.start('person2');
    await commands.nth(p.portalId, 'person2');
    expect(commands.forThread(p.portalId, 'person1')).toHaveLength(1);
    const after = (await p.auditOf('person1')) as {
      assigneeUserId: string;
      entries: { action: string; reason: string }[];
    };
    expect(after.assigneeUserId).toBe('h3');
    expect(after.entries.filter((entry) => entry.action === 'manual')).toHaveLength(1);
    expect(after.entries.map((entry) => entry.action)).toEqual(trail.entries.map((entry) => entry.action));
  });

  it('a switched-off account routes nothing; a purged one closes its conversations and frees their slots', async () => {
    const p = await portalWith([user('p1')], {
      mode: 'users-and-teams',
      targets: { userIds: ['p1'] },
      capacity: { maxOpenPerAgent: 1 },
    });
    await p.start('pg1');
    expect(await p.apply('pg1')).toBe('p1');
    await p.start('pg2');
    await p.waitForStatus('pg2', 'waiting');

    await events.publish(p.portalId, RoutingKeys.GatewayChannelAccountUpdatedV1, {
      channelAccountId: p.channelAccountId,
      active: false,
      changes: ['deactivated'],
    });
    await testing.expectEventually(async () => {
      expect(
        (await p.admin.call('GET', `/admin/channel-accounts/${p.channelAccountId}/rules`)).body,
      ).toMatchObject({
        active: false,
      });
    });
    await p.start('pg3');
    const off = await p.waitForStatus('pg3', 'unrouted');
    expect(off.entries[0]?.reason).toMatch(/is switched off$/);

    await events.publish(p.portalId, RoutingKeys.GatewayChannelAccountPurgedV1, {
      channelAccountId: p.channelAccountId,
    });
    for (const thread of ['pg1', 'pg2']) {
      const trail = await p.waitForStatus(thread, 'closed');
      expect(trail.entries.at(-1)).toMatchObject({
        action: 'closed',
        reason: 'the channel account was deleted in HubSpot',
      });
    }
    const [agent] = await db.dataSource.query<{ open_count: number }[]>(
      `SELECT open_count FROM "${db.schema}".agents WHERE portal_id = $1 AND user_id = 'p1'`,
      [p.portalId],
    );
    expect(agent?.open_count).toBe(0);
    expect((await p.admin.call('GET', `/admin/channel-accounts/${p.channelAccountId}/rules`)).status).toBe(
      404,
    );
    expect(commands.forThread(p.portalId, 'pg2')).toEqual([]);
  });

  it('an account moved to another inbox (a help desk) keeps its rules and keeps routing new conversations', async () => {
    const p = await portalWith([user('mv1')], { mode: 'users-and-teams', targets: { userIds: ['mv1'] } });
    await events.publish(p.portalId, RoutingKeys.GatewayChannelAccountUpdatedV1, {
      channelAccountId: p.channelAccountId,
      inboxId: '9002',
      inboxType: 'HELP_DESK',
      changes: ['moved'],
    });
    await testing.expectEventually(async () => {
      const [row] = await db.dataSource.query<{ inbox_id: string }[]>(
        `SELECT inbox_id FROM "${db.schema}".channel_accounts WHERE portal_id = $1 AND channel_account_id = $2`,
        [p.portalId, p.channelAccountId],
      );
      expect(row?.inbox_id).toBe('9002');
    });
    await p.start('mv-thread');
    expect(await p.apply('mv-thread')).toBe('mv1');
  });

  it('is idempotent: a redelivered start and a second start of the same thread make one decision', async () => {
    const p = await portalWith([user('i1')], { mode: 'users-and-teams', targets: { userIds: ['i1'] } });
    const envelope = await p.start('idem1');
    await events.send(envelope);
    await p.start('idem1');
    await commands.nth(p.portalId, 'idem1');
    await p.start('idem2');
    await commands.nth(p.portalId, 'idem2');
    expect(commands.forThread(p.portalId, 'idem1')).toHaveLength(1);
    const trail = (await p.auditOf('idem1')) as { entries: unknown[] };
    expect(trail.entries).toHaveLength(1);
  });
  /** The agent row the router keeps from the roster (the directory group is not ordered with the starts). */
  const agentRow = async (portalId: number, userId: string) => {
    const [row] = await db.dataSource.query<{ availability: string; open_count: number }[]>(
      `SELECT availability, open_count FROM "${db.schema}".agents WHERE portal_id = $1 AND user_id = $2`,
      [portalId, userId],
    );
    return row;
  };
  const threadClosed = (portalId: number, threadId: string) =>
    events.publish(portalId, RoutingKeys.GatewayThreadStatusChangedV1, {
      hubspotThreadId: threadId,
      status: 'CLOSED',
      occurredAt: clock.now().toISOString(),
    });

  it('contact owner at capacity falls back to a team; the waiting one goes back to the owner when a slot frees', async () => {
    const p = await portalWith([user('oc1', { ownerId: 'own-c' }), user('tm1', { teamIds: ['team-a'] })], {
      mode: 'contact-owner',
      targets: { teamIds: ['team-a'] },
      capacity: { maxOpenPerAgent: 1 },
    });
    await p.start('oc-1', { contactOwnerId: 'own-c' });
    expect(await p.assignee('oc-1')).toBe('oc1');
    await p.start('oc-2', { contactOwnerId: 'own-c' });
    expect(await p.assignee('oc-2')).toBe('tm1');
    const fallback = (await p.auditOf('oc-2')) as { entries: { reason: string }[] };
    expect(fallback.entries[0]?.reason).toBe(
      'owner own-c (user oc1) is unavailable or at capacity; fallback: round robin',
    );
    await p.start('oc-3', { contactOwnerId: 'own-c' });
    const waiting = await p.waitForStatus('oc-3', 'waiting');
    expect(waiting.entries[0]?.reason).toBe(
      'waiting: owner own-c (user oc1) is unavailable or at capacity; fallback: no available agent under capacity',
    );
    // The owner's thread closes: back-fill evaluates the rule again, and the owner is first.
    await threadClosed(p.portalId, 'oc-1');
    expect(await p.assignee('oc-3')).toBe('oc1');
    expect((await p.auditOf('oc-3'))?.['entries']).toEqual([
      expect.objectContaining({ action: 'queue' }),
      expect.objectContaining({ action: 'assign', userId: 'oc1', reason: 'contact owner own-c (user oc1)' }),
    ]);
    expect(await agentRow(p.portalId, 'oc1')).toMatchObject({ open_count: 1 });
  });

  it('a per-user cap holds over the default cap in the pool', async () => {
    const p = await portalWith([user('pu1'), user('pu2')], {
      mode: 'users-and-teams',
      targets: { userIds: ['pu1', 'pu2'] },
      distribution: 'fewest-open',
      capacity: { maxOpenPerAgent: 3, perUser: { pu1: 1 } },
    });
    const picks: string[] = [];
    for (const thread of ['pu-1', 'pu-2', 'pu-3', 'pu-4']) {
      await p.start(thread);
      picks.push(await p.assignee(thread));
    }
    expect(picks.filter((pick) => pick === 'pu1')).toHaveLength(1);
    expect(picks.filter((pick) => pick === 'pu2')).toHaveLength(3);
    await p.start('pu-5');
    await p.waitForStatus('pu-5', 'waiting');
    expect(commands.forThread(p.portalId, 'pu-5')).toEqual([]);
    expect(await agentRow(p.portalId, 'pu1')).toMatchObject({ open_count: 1 });
    expect(await agentRow(p.portalId, 'pu2')).toMatchObject({ open_count: 3 });
  });

  it('sticky: a last handler who is away or at capacity is passed over for the rule, and says so', async () => {
    const p = await portalWith([user('sk1'), user('sk2')], {
      mode: 'users-and-teams',
      targets: { userIds: ['sk1', 'sk2'] },
      capacity: { maxOpenPerAgent: 1 },
      sticky: true,
    });
    await p.start('sk-a', { conversationKey: 'cust-y' });
    expect(await p.apply('sk-a')).toBe('sk1');
    await p.agentReplies('sk-a', 'cust-y', 'sk1');
    await expectLastHandlers(p.portalId, ['sk1']);
    // sk1 is at capacity (sk-a is still open): the returning customer goes to sk2.
    await p.start('sk-b', { conversationKey: 'cust-y', isReturningCustomer: true });
    expect(await p.assignee('sk-b')).toBe('sk2');
    const full = (await p.auditOf('sk-b')) as { entries: { reason: string }[] };
    expect(full.entries[0]?.reason).toBe(
      'last handler sk1 is unavailable or at capacity; fallback: round robin',
    );

    // sk-a closes (sk1 has room again) but sk1 is away: nobody else has room, so the customer waits.
    await threadClosed(p.portalId, 'sk-a');
    await events.publish(p.portalId, RoutingKeys.GatewayRosterChangedV1, {
      users: [user('sk1', { availability: 'away' })],
      teams: [],
      full: false,
    });
    await testing.expectEventually(async () => {
      expect(await agentRow(p.portalId, 'sk1')).toEqual({ availability: 'away', open_count: 0 });
    });
    await p.start('sk-c', { conversationKey: 'cust-y', isReturningCustomer: true });
    const away = await p.waitForStatus('sk-c', 'waiting');
    expect(away.entries[0]?.reason).toBe(
      'waiting: last handler sk1 is unavailable or at capacity; fallback: no available agent under capacity',
    );
    // sk1 comes back: the waiting returning customer goes back to them.
    await events.publish(p.portalId, RoutingKeys.GatewayRosterChangedV1, {
      users: [user('sk1')],
      teams: [],
      full: false,
    });
    expect(await p.assignee('sk-c')).toBe('sk1');
  });

  it('business hours: a holiday is closed all day; nobody in the after-hours team leaves it waiting until one comes back', async () => {
    const p = await portalWith([user('hd1'), user('hn1', { teamIds: ['team-a'], availability: 'away' })], {
      mode: 'users-and-teams',
      targets: { userIds: ['hd1'] },
      businessHours: {
        timeZone: 'Europe/Madrid',
        weekly: { thu: [{ start: '09:00', end: '18:00' }] },
        holidays: ['2026-12-24'],
        outsideHours: { action: 'after-hours-team', teamId: 'team-a' },
      },
    });
    clock.set('2026-12-24T10:00:00Z'); // Thursday 11:00 in Madrid, a holiday
    await p.start('hol-1');
    const trail = await p.waitForStatus('hol-1', 'waiting');
    expect(trail.entries[0]?.reason).toBe(
      'waiting: outside business hours (Europe/Madrid): nobody in after-hours team team-a can take it',
    );
    await events.publish(p.portalId, RoutingKeys.GatewayRosterChangedV1, {
      users: [user('hn1', { teamIds: ['team-a'] })],
      teams: [],
      full: false,
    });
    expect(await p.assignee('hol-1')).toBe('hn1');
    clock.set('2026-12-31T10:00:00Z'); // the next Thursday, 11:00 in Madrid: open, the pool
    await p.start('hol-2');
    expect(await p.assignee('hol-2')).toBe('hd1');
    clock.set('2026-11-23T15:00:00Z');
  });

  it('no-reply: when nobody else can take it, it stays with the agent (kept) and is not reassigned', async () => {
    const p = await portalWith([user('k1'), user('k2', { availability: 'away' })], {
      mode: 'users-and-teams',
      targets: { userIds: ['k1', 'k2'] },
      noReplyMinutes: 5,
    });
    await p.start('kp-1');
    expect(await p.apply('kp-1')).toBe('k1');
    clock.advance(6 * 60_000);
    const trail = await testing.expectEventually(
      async () => {
        const current = (await p.auditOf('kp-1')) as {
          status: string;
          assigneeUserId: string;
          entries: { action: string; reason: string }[];
        };
        expect(current.entries.map((entry) => entry.action)).toEqual([
          'assign',
          'applied',
          'no-reply',
          'kept',
        ]);
        return current;
      },
      { description: 'kp-1 kept' },
    );
    expect(trail).toMatchObject({ status: 'assigned', assigneeUserId: 'k1' });
    expect(trail.entries[3]?.reason).toBe(
      'user k1 did not reply within 5 minutes, but nobody else can take it now: it stays with user k1',
    );
    expect(await agentRow(p.portalId, 'k1')).toMatchObject({ open_count: 1 });
    expect(await agentRow(p.portalId, 'k2')).toMatchObject({ open_count: 0 });
    // The timer does not fire again, and k2 coming back does not take it either.
    await events.publish(p.portalId, RoutingKeys.GatewayRosterChangedV1, {
      users: [user('k2')],
      teams: [],
      full: false,
    });
    clock.advance(10 * 60_000);
    await new Promise((resolve) => setTimeout(resolve, 500)); // ten timer poller passes
    await p.start('kp-2');
    expect(await p.assignee('kp-2')).toBe('k2');
    expect(commands.forThread(p.portalId, 'kp-1')).toHaveLength(1);
  });
  it('availability is respected by default; with respectAvailability off an away agent still gets conversations', async () => {
    const p = await portalWith([user('ra1', { availability: 'away' })], {
      mode: 'users-and-teams',
      targets: { userIds: ['ra1'] },
    });
    await p.start('ra-1');
    await p.waitForStatus('ra-1', 'waiting');
    await p.admin.putRules(p.channelAccountId, {
      mode: 'users-and-teams',
      targets: { userIds: ['ra1'] },
      respectAvailability: false,
    });
    expect(await p.assignee('ra-1')).toBe('ra1');
    await p.start('ra-2');
    expect(await p.assignee('ra-2')).toBe('ra1');
  });

  it('the back-fill listener is set up again after its database connection is cut', async () => {
    const listeners = () =>
      db.dataSource.query<{ pid: number }[]>(
        `SELECT pid FROM pg_stat_activity WHERE application_name = 'router:backfill-listener' AND query = $1`,
        [`LISTEN "backfill_${db.schema}"`],
      );
    const [before] = await listeners();
    expect(before).toBeDefined();
    await db.dataSource.query('SELECT pg_terminate_backend($1)', [before?.pid]);
    await testing.expectEventually(
      async () => {
        const after = await listeners();
        expect(after).toHaveLength(1);
        expect(after[0]?.pid).not.toBe(before?.pid);
      },
      { description: 'a new LISTEN connection' },
    );
  });
});
