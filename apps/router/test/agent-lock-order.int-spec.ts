import * as testing from '@inbox-bridge/testing';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { EntityManager } from 'typeorm';
import { routerMigrations } from '../src/database/data-source.js';
import { OUT_OF_ORDER_AGENT_WAIT_MS } from '../src/routing/agent-lock-order.js';
import { RoutingRepository } from '../src/routing/routing.repository.js';

const PORTAL = 6_660_101;
const ROSTER_PORTAL = 6_660_102;
const NOW = new Date('2026-11-27T12:00:00Z');

describe('two deciding transactions taking the same agents in opposite orders (real PostgreSQL)', () => {
  let db: testing.TestDatabase;
  const repository = new RoutingRepository();

  beforeAll(async () => {
    db = await testing.createTestDatabase('router_agent_locks', routerMigrations, { poolSize: 4 });
    await repository.applyRoster(db.dataSource.manager, PORTAL, {
      users: ['agent-a', 'agent-b'].map((userId) => ({ userId, availability: 'available', teamIds: [] })),
      teams: [],
      full: true,
    });
  }, 60_000);

  afterAll(async () => {
    await db.dispose();
  });

  const take = (manager: EntityManager, userId: string, portalId = PORTAL): Promise<boolean> =>
    repository.tryTakeSlot(manager, portalId, userId, null, false, NOW);

  /** Until one backend of this schema's pool waits for a row lock. */
  const untilOneWaitsForALock = () =>
    testing.expectEventually(async () => {
      const rows = await db.dataSource.query<{ waiting: string }[]>(
        `SELECT count(*) AS waiting FROM pg_stat_activity WHERE application_name = $1 AND wait_event_type = 'Lock'`,
        [`test:${db.schema}`],
      );
      expect(Number(rows[0]?.waiting ?? 0)).toBe(1);
    });

  /** How long `work` took, in ms, whether it settled or failed (`record` is called either way). */
  async function timed(work: () => Promise<unknown>, record: (ms: number) => void): Promise<void> {
    const started = performance.now();
    try {
      await work();
    } finally {
      record(performance.now() - started);
    }
  }

  it('the one that would close the cycle gives up within its short wait (55P03), not after deadlock_timeout, and the other commits', async () => {
    const bTaken = testing.gate();
    const aTaken = testing.gate();
    let waitedMs = 0;

    const holdsB = db.dataSource.transaction(async (manager) => {
      expect(await take(manager, 'agent-b')).toBe(true);
      bTaken.open();
      await aTaken.promise;
      // The other transaction now holds agent-a and waits for agent-b.
      await untilOneWaitsForALock();
      await timed(
        () => take(manager, 'agent-a'),
        (ms) => (waitedMs = ms),
      );
    });
    const holdsA = db.dataSource.transaction(async (manager) => {
      await bTaken.promise;
      expect(await take(manager, 'agent-a')).toBe(true);
      aTaken.open();
      expect(await take(manager, 'agent-b')).toBe(true);
    });

    const [outOfOrder, inOrder] = await Promise.allSettled([holdsB, holdsA]);
    expect(outOfOrder.status).toBe('rejected');
    expect((outOfOrder as PromiseRejectedResult).reason).toMatchObject({ code: '55P03' });
    expect(inOrder.status).toBe('fulfilled');
    expect(waitedMs).toBeGreaterThanOrEqual(OUT_OF_ORDER_AGENT_WAIT_MS * 0.9);
    expect(waitedMs).toBeLessThan(800);
    const counts = await db.dataSource.query<{ user_id: string; open_count: number }[]>(
      `SELECT user_id, open_count FROM agents WHERE portal_id = $1 ORDER BY user_id`,
      [PORTAL],
    );
    expect(counts).toEqual([
      { user_id: 'agent-a', open_count: 1 },
      { user_id: 'agent-b', open_count: 1 },
    ]);
  });

  it('a roster update given its users in any order locks them in that order too, so it never closes a cycle with a batch', async () => {
    const aTaken = testing.gate();
    const rosterWaits = testing.gate();
    let secondTakeMs = 0;
    const batch = db.dataSource.transaction(async (manager) => {
      expect(await take(manager, 'agent-a')).toBe(true);
      aTaken.open();
      await rosterWaits.promise;
      await timed(
        async () => {
          expect(await take(manager, 'agent-b')).toBe(true);
        },
        (ms) => (secondTakeMs = ms),
      );
    });
    await aTaken.promise;
    const roster = db.dataSource.transaction((manager) =>
      repository.applyRoster(manager, PORTAL, {
        users: ['agent-b', 'agent-a'].map((userId) => ({ userId, availability: 'away', teamIds: [] })),
        teams: [],
        full: false,
      }),
    );
    await untilOneWaitsForALock();
    rosterWaits.open();
    await expect(Promise.all([batch, roster])).resolves.toBeDefined();
    expect(secondTakeMs).toBeLessThan(500);
  });

  it('a full roster locks the agents it marks as gone in that order too, not in scan order', async () => {
    const rosterOf = (userIds: string[]) => ({
      users: userIds.map((userId) => ({ userId, availability: 'available' as const, teamIds: [] })),
      teams: [],
      full: true,
    });
    await repository.applyRoster(
      db.dataSource.manager,
      ROSTER_PORTAL,
      rosterOf(['agent-a', 'agent-b', 'agent-c']),
    );
    const aTaken = testing.gate();
    const rosterWaits = testing.gate();
    let takeOfCMs = 0;
    const batch = db.dataSource.transaction(async (manager) => {
      expect(await take(manager, 'agent-a', ROSTER_PORTAL)).toBe(true);
      aTaken.open();
      await rosterWaits.promise;
      await timed(
        async () => {
          expect(await take(manager, 'agent-c', ROSTER_PORTAL)).toBe(true);
        },
        (ms) => (takeOfCMs = ms),
      );
    });
    await aTaken.promise;
    // agent-c stays; agent-a (held by the batch) and agent-b leave.
    const roster = db.dataSource.transaction((manager) =>
      repository.applyRoster(manager, ROSTER_PORTAL, rosterOf(['agent-c'])),
    );
    await untilOneWaitsForALock();
    rosterWaits.open();
    await expect(Promise.all([batch, roster])).resolves.toBeDefined();
    expect(takeOfCMs).toBeLessThan(500);
    const agents = await db.dataSource.query<{ user_id: string; in_roster: boolean; open_count: number }[]>(
      `SELECT user_id, in_roster, open_count FROM agents WHERE portal_id = $1 ORDER BY user_id`,
      [ROSTER_PORTAL],
    );
    expect(agents).toEqual([
      { user_id: 'agent-a', in_roster: false, open_count: 1 },
      { user_id: 'agent-b', in_roster: false, open_count: 0 },
      { user_id: 'agent-c', in_roster: true, open_count: 1 },
    ]);
  });

  it('an agent ordered after every one the transaction holds is waited for as long as it takes', async () => {
    const bTaken = testing.gate();
    const aTaken = testing.gate();
    const release = testing.gate();
    const holdsB = db.dataSource.transaction(async (manager) => {
      expect(await take(manager, 'agent-b')).toBe(true);
      bTaken.open();
      await release.promise;
    });
    const waitsForB = db.dataSource.transaction(async (manager) => {
      await bTaken.promise;
      expect(await take(manager, 'agent-a')).toBe(true);
      aTaken.open();
      expect(await take(manager, 'agent-b')).toBe(true);
    });
    await aTaken.promise;
    await untilOneWaitsForALock();
    // Held past the short wait: an in-order waiter is not cut off.
    await testing.delay(OUT_OF_ORDER_AGENT_WAIT_MS * 3);
    release.open();
    await expect(Promise.all([holdsB, waitsForB])).resolves.toBeDefined();
  });
});
