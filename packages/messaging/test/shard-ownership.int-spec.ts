import { expectEventually, testDatabaseUrl, uniqueName } from '@inbox-bridge/testing';
import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { ShardOwnership, silentLogger, type ShardOwnershipOptions } from '../src/index.js';

const SHARDS = 4;

describe('shard ownership of an ordered consumer group', () => {
  const running: ShardOwnership[] = [];
  const admin = new pg.Client({ connectionString: testDatabaseUrl });

  beforeAll(async () => {
    await admin.connect();
  });
  afterAll(async () => {
    await admin.end();
  });
  afterEach(async () => {
    await Promise.all(running.splice(0).map((ownership) => ownership.stop()));
  });

  function replica(
    schema: string,
    group: string,
    consumer: Pick<ShardOwnershipOptions, 'acquire' | 'release'> = {
      // Slow enough that a nudge lands while a rebalance is still running, as when the broker connects at boot.
      acquire: () => sleep(30),
      release: () => sleep(5),
    },
  ): ShardOwnership {
    const ownership = new ShardOwnership({
      databaseUrl: testDatabaseUrl,
      schema,
      group,
      shards: SHARDS,
      logger: silentLogger,
      rebalanceIntervalMs: 100,
      ...consumer,
    });
    running.push(ownership);
    return ownership;
  }

  async function memberSessions(schema: string, group: string): Promise<number> {
    const result = await admin.query<{ n: string }>(
      'SELECT count(*) AS n FROM pg_stat_activity WHERE application_name = $1',
      [`shards:${schema}:${group}`.slice(0, 63)],
    );
    return Number(result.rows[0]?.n ?? 0);
  }

  it('keeps one member session and every shard however often it is nudged, and shares them with a second replica', async () => {
    const schema = uniqueName('shards').toLowerCase();
    const group = 'test.ordered';
    const first = replica(schema, group);
    first.start();
    for (let i = 0; i < 20; i++) {
      first.nudge();
      await sleep(7);
    }

    await expectEventually(() => first.ownedShards.length === SHARDS, { timeoutMs: 10_000 });
    await sleep(500);
    expect(first.ownedShards).toEqual([0, 1, 2, 3]);
    expect(await memberSessions(schema, group)).toBe(1);

    // A shard locked twice on one session stays locked after the single unlock of a release, and the second
    // replica could never take it.
    const second = replica(schema, group);
    second.start();
    await expectEventually(
      () => first.ownedShards.length === SHARDS / 2 && second.ownedShards.length === SHARDS / 2,
      { timeoutMs: 10_000 },
    );
    expect([...first.ownedShards, ...second.ownedShards].sort()).toEqual([0, 1, 2, 3]);
    expect(await memberSessions(schema, group)).toBe(2);

    await second.stop();
    running.splice(running.indexOf(second), 1);
    await expectEventually(() => first.ownedShards.length === SHARDS, { timeoutMs: 10_000 });
  }, 30_000);

  it('takes no shard back while a lost session is still releasing it, so no shard ends up owned and unconsumed', async () => {
    const schema = uniqueName('shards').toLowerCase();
    const group = 'test.ordered';
    const consumed = new Set<number>();
    let finishInFlight: () => void = () => undefined;
    let inFlight: Promise<void> = Promise.resolve();
    const ownership = replica(schema, group, {
      acquire: (shard) => {
        consumed.add(shard);
        return Promise.resolve();
      },
      // As the runner does: a release first waits for the shard's in-flight messages.
      release: async (shard) => {
        await inFlight;
        consumed.delete(shard);
      },
    });
    ownership.start();
    await expectEventually(() => ownership.ownedShards.length === SHARDS, { timeoutMs: 10_000 });

    // A message is in flight (held while the database is away) when the member session is cut.
    inFlight = new Promise((resolve) => {
      finishInFlight = resolve;
    });
    await admin.query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1', [
      `shards:${schema}:${group}`.slice(0, 63),
    ]);
    await sleep(1_000);
    finishInFlight();

    await expectEventually(
      () => {
        expect(ownership.ownedShards).toEqual([0, 1, 2, 3]);
        expect([...consumed].sort()).toEqual([0, 1, 2, 3]);
      },
      { timeoutMs: 10_000 },
    );
    await sleep(500);
    expect([...consumed].sort()).toEqual(ownership.ownedShards);

    // Whatever else makes a held shard's consumer go, the next rebalance consumes it again.
    consumed.delete(2);
    await expectEventually(() => {
      expect([...consumed].sort()).toEqual([0, 1, 2, 3]);
    });
  }, 30_000);
});
