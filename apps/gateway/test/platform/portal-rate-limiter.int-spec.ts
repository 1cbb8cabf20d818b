import * as testing from '@inbox-bridge/testing';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { setTimeout as sleep } from 'node:timers/promises';
import { DataSource } from 'typeorm';
import { gatewayMigrations } from '../../src/database/data-source.js';
import {
  PortalRateLimiter,
  RateWaitExceeded,
  type RateGrant,
  type RateLimitSettings,
} from '../../src/hubspot/portal-rate-limiter.js';

/** The limiter's statements go through this: the real database, counted. */
class CountingDataSource {
  statements = 0;
  constructor(private readonly dataSource: DataSource) {}
  query<T>(sql: string, parameters?: unknown[]): Promise<T> {
    this.statements += 1;
    return this.dataSource.query<T>(sql, parameters);
  }
}

/** The database refuses the first write-back of completed calls (a failover, say), then answers again. */
class CompletionWriteFailsOnce extends CountingDataSource {
  failed = false;
  override query<T>(sql: string, parameters?: unknown[]): Promise<T> {
    if (!this.failed && sql.includes('completed = true')) {
      this.failed = true;
      return Promise.reject(new Error('connection terminated unexpectedly'));
    }
    return super.query<T>(sql, parameters);
  }
}

const refusedOrGranted = (index: number) => ({
  granted: () => `granted ${index}`,
  refused: (error: unknown) => (error instanceof RateWaitExceeded ? `refused ${index}` : String(error)),
});

describe('portal rate limiter (real PostgreSQL)', () => {
  let db: testing.TestDatabase;
  let dataSource: DataSource;

  const limiterOn = (
    counting: CountingDataSource,
    settings: Omit<RateLimitSettings, 'maxCallMs'> & { maxCallMs?: number },
  ): PortalRateLimiter =>
    new PortalRateLimiter(counting as unknown as DataSource, db.schema, { maxCallMs: 5_000, ...settings });

  const grantsHeld = async (bucketKey: string): Promise<number> => {
    const [row] = await dataSource.query<{ held: number }[]>(
      `SELECT count(*)::int AS held FROM "${db.schema}".hubspot_rate_grants
        WHERE bucket_key = $1 AND busy_until > clock_timestamp()`,
      [bucketKey],
    );
    return Number(row?.held);
  };

  beforeAll(async () => {
    db = await testing.createTestDatabase('gateway_limiter', gatewayMigrations, { poolSize: 2 });
    dataSource = db.dataSource;
  });

  afterAll(async () => {
    await db.dispose();
  });

  it('callers waiting together for one bucket take their grants in a few statements, each one held', async () => {
    const counting = new CountingDataSource(dataSource);
    const limiter = limiterOn(counting, { maxPerInterval: 1_000, intervalMs: 3_600_000, maxWaitMs: 1_000 });
    await Promise.all(Array.from({ length: 60 }, () => limiter.acquire('portal:1')));
    // The first caller's own take, then the 59 who queued behind it together.
    expect(counting.statements).toBeLessThanOrEqual(3);
    expect(await grantsHeld('portal:1')).toBe(60);
    expect(await limiter.tokensWithin('portal:1', 0)).toBe(940);
  });

  it('grants no more than the window allows; callers who would wait too long are refused, in order', async () => {
    const limiter = limiterOn(new CountingDataSource(dataSource), {
      maxPerInterval: 5,
      intervalMs: 3_600_000,
      maxWaitMs: 1_000,
    });
    const outcomes = await Promise.all(
      Array.from({ length: 8 }, (_, index) => {
        const outcome = refusedOrGranted(index);
        return limiter.acquire('portal:2').then(outcome.granted, outcome.refused);
      }),
    );
    expect(outcomes).toEqual([
      'granted 0',
      'granted 1',
      'granted 2',
      'granted 3',
      'granted 4',
      'refused 5',
      'refused 6',
      'refused 7',
    ]);
    expect(await limiter.tokensWithin('portal:2', 0)).toBe(0);
  });

  it('frees a place one window after its call came back, not after it was granted', async () => {
    const limiter = limiterOn(new CountingDataSource(dataSource), {
      maxPerInterval: 2,
      intervalMs: 400,
      maxWaitMs: 5_000,
    });
    const started = performance.now();
    const [slow, quick] = await Promise.all([limiter.acquire('portal:3'), limiter.acquire('portal:3')]);
    const third = limiter.acquire('portal:3').then(() => performance.now() - started);
    const fourth = limiter.acquire('portal:3').then(() => performance.now() - started);
    quick.done();
    await sleep(300);
    slow.done();
    // The quick call's place after a window; the slow call's only a window after it came back, at 300 ms.
    expect(await third).toBeGreaterThanOrEqual(395);
    expect(await third).toBeLessThan(650);
    expect(await fourth).toBeGreaterThanOrEqual(695);
    expect(await fourth).toBeLessThan(1_000);
  });

  it('lets no more than the limit reach HubSpot within any window, however long each call takes', async () => {
    const windowMs = 300;
    const limit = 5;
    const limiter = limiterOn(new CountingDataSource(dataSource), {
      maxPerInterval: limit,
      intervalMs: windowMs,
      maxWaitMs: 60_000,
    });
    const calls: { grantedAt: number; doneAt: number }[] = [];
    // Calls of 0 to 150 ms: a request reaches HubSpot at some moment between its grant and its answer.
    await Promise.all(
      Array.from({ length: 30 }, async (_, index) => {
        const grant = await limiter.acquire('portal:4');
        const grantedAt = performance.now();
        await sleep((index * 37) % 150);
        calls.push({ grantedAt, doneAt: performance.now() });
        grant.done();
      }),
    );
    expect(calls).toHaveLength(30);
    // Requests could all arrive within one window only if the last granted of them was granted less than a window
    // after the first of them came back: never more than the limit of them.
    let worst = 0;
    for (const call of calls) {
      const overlapping = calls.filter(
        (other) => other.doneAt >= call.doneAt && other.grantedAt < call.doneAt + windowMs - 2,
      ).length;
      worst = Math.max(worst, overlapping);
    }
    expect(worst).toBeLessThanOrEqual(limit);
    // And the budget was used: 30 calls of 5 per window took about 6 windows, not twice as many.
    const span =
      Math.max(...calls.map((call) => call.grantedAt)) - Math.min(...calls.map((c) => c.grantedAt));
    expect(span).toBeLessThan(12 * windowMs);
  });

  it('keeps the place of a holder that never came back for a window plus its longest call', async () => {
    const limiter = limiterOn(new CountingDataSource(dataSource), {
      maxPerInterval: 1,
      intervalMs: 200,
      maxWaitMs: 5_000,
      maxCallMs: 300,
    });
    const started = performance.now();
    await limiter.acquire('portal:5');
    // Never done: the process holding it died mid-call, as far as the database knows.
    await limiter.acquire('portal:5');
    expect(performance.now() - started).toBeGreaterThanOrEqual(495);
  });

  it('writes back a completion the database refused on the next flush (a second later): the place frees then, not at the end of its lease', async () => {
    const failing = new CompletionWriteFailsOnce(dataSource);
    const limiter = limiterOn(failing, {
      maxPerInterval: 1,
      intervalMs: 300,
      maxWaitMs: 10_000,
      maxCallMs: 5_000,
    });
    const first = await limiter.acquire('portal:5b');
    const cameBackAt = performance.now();
    const next = limiter.acquire('portal:5b').then(() => performance.now() - cameBackAt);
    first.done();
    // The first write-back fails; the retry a second later frees the place (its window ended 700 ms before).
    const waited = await next;
    expect(failing.failed).toBe(true);
    expect(waited).toBeGreaterThanOrEqual(995);
    // Without the retry, the place would hold until its lease ended: a window plus the longest call, 5.3 s.
    expect(waited).toBeLessThan(2_500);
  });

  it('shares one budget between replicas', async () => {
    const settings = { maxPerInterval: 6, intervalMs: 3_600_000, maxWaitMs: 1_000 };
    const one = limiterOn(new CountingDataSource(dataSource), settings);
    const other = limiterOn(new CountingDataSource(dataSource), settings);
    await Promise.all(Array.from({ length: 4 }, () => one.acquire('portal:6')));
    const outcomes = await Promise.all(
      Array.from({ length: 4 }, (_, index) => {
        const outcome = refusedOrGranted(index);
        return other.acquire('portal:6').then(outcome.granted, outcome.refused);
      }),
    );
    expect(outcomes).toEqual(['granted 0', 'granted 1', 'refused 2', 'refused 3']);
  });

  it('promises turns one after another at the average rate, shared through the row, and refuses a caller its own shorter wait', async () => {
    // 10 per second: a turn of 3 calls lasts 300 ms.
    const settings = { maxPerInterval: 10, intervalMs: 1_000, maxWaitMs: 60_000 };
    const limiter = limiterOn(new CountingDataSource(dataSource), settings);
    const before = Date.now();
    const first = await limiter.reserve('portal:7', 3);
    const second = await limiter.reserve('portal:7', 3);
    expect(first - before).toBeGreaterThanOrEqual(250);
    expect(first - before).toBeLessThan(2_000);
    expect(second - first).toBeGreaterThan(290);
    expect(second - first).toBeLessThan(310);
    // Another replica promises after the same row: one call's turn (100 ms) after the second.
    const replica = limiterOn(new CountingDataSource(dataSource), settings);
    const third = await replica.reserve('portal:7', 1);
    expect(third - second).toBeGreaterThan(90);
    expect(third - second).toBeLessThan(110);

    const tight = limiterOn(new CountingDataSource(dataSource), { ...settings, maxPerInterval: 1 });
    await tight.acquire('portal:8');
    await expect(tight.acquire('portal:8', { maxWaitMs: 50 })).rejects.toBeInstanceOf(RateWaitExceeded);
  });

  it('tells how many calls the window allows within a time, without taking any; nothing while paused', async () => {
    const limiter = limiterOn(new CountingDataSource(dataSource), {
      maxPerInterval: 5,
      intervalMs: 1_000,
      maxWaitMs: 1_000,
    });
    expect(await limiter.tokensWithin('portal:9', 0)).toBe(5);
    const grants: RateGrant[] = await Promise.all(
      Array.from({ length: 5 }, () => limiter.acquire('portal:9')),
    );
    expect(await limiter.tokensWithin('portal:9', 0)).toBe(0);
    // Still running: their places free a window after they come back, unknown yet, so they count as held.
    expect(await limiter.tokensWithin('portal:9', 2_000)).toBe(0);
    for (const grant of grants.slice(0, 3)) {
      grant.done();
    }
    await sleep(100);
    expect(await limiter.tokensWithin('portal:9', 0)).toBe(0);
    expect(await limiter.tokensWithin('portal:9', 850)).toBe(0);
    expect(await limiter.tokensWithin('portal:9', 1_050)).toBe(3);
    expect(await limiter.tokensWithin('portal:9', 2_000)).toBe(3);
    for (const grant of grants.slice(3)) {
      grant.done();
    }
    await sleep(100);
    expect(await limiter.tokensWithin('portal:9', 1_050)).toBe(5);
    // Reading took nothing.
    expect(await grantsHeld('portal:9')).toBe(5);

    await limiter.pause('portal:10', 60_000);
    expect(await limiter.tokensWithin('portal:10', 0)).toBeLessThan(0);
  });

  it('refuses at once a caller whose turn, after the callers queued ahead of it, comes later than it may wait', async () => {
    // 3 a second; each caller waits 250 ms at most.
    const limiter = limiterOn(new CountingDataSource(dataSource), {
      maxPerInterval: 3,
      intervalMs: 1_000,
      maxWaitMs: 250,
    });
    const started = Date.now();
    const outcomes = await Promise.all(
      Array.from({ length: 8 }, () =>
        limiter.acquire('portal:11').then(
          () => ({ granted: true, afterMs: Date.now() - started }),
          (error: unknown) => ({
            granted: error instanceof RateWaitExceeded ? false : error,
            afterMs: Date.now() - started,
          }),
        ),
      ),
    );
    const granted = outcomes.filter((outcome) => outcome.granted === true);
    const refused = outcomes.filter((outcome) => outcome.granted === false);
    expect(granted).toHaveLength(3);
    expect(refused).toHaveLength(5);
    // The callers further back do not sit out their whole wait first.
    expect(Math.max(...refused.map((outcome) => outcome.afterMs))).toBeLessThan(200);
  });
});
