import * as testing from '@inbox-bridge/testing';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { DataSource } from 'typeorm';
import { gatewayMigrations } from '../../src/database/data-source.js';
import { PortalRateLimiter, RateWaitExceeded } from '../../src/hubspot/portal-rate-limiter.js';

/** The limiter's statements go through this: the real database, counted. */
class CountingDataSource {
  statements = 0;
  constructor(private readonly dataSource: DataSource) {}
  query<T>(sql: string, parameters?: unknown[]): Promise<T> {
    this.statements += 1;
    return this.dataSource.query<T>(sql, parameters);
  }
}

describe('portal rate limiter (real PostgreSQL)', () => {
  let db: testing.TestDatabase;
  let dataSource: DataSource;

  const limiterOn = (
    counting: CountingDataSource,
    settings: { maxPerInterval: number; burst: number; intervalMs: number; maxWaitMs: number },
  ): PortalRateLimiter => new PortalRateLimiter(counting as unknown as DataSource, db.schema, settings);

  const tokensLeft = async (bucketKey: string): Promise<number> => {
    const [row] = await dataSource.query<{ tokens: number }[]>(
      `SELECT tokens FROM "${db.schema}".hubspot_rate_buckets WHERE bucket_key = $1`,
      [bucketKey],
    );
    return Number(row?.tokens);
  };

  beforeAll(async () => {
    db = await testing.createTestDatabase('gateway_limiter', gatewayMigrations, { poolSize: 2 });
    dataSource = db.dataSource;
  });

  afterAll(async () => {
    await db.dispose();
  });

  it('callers waiting together for one bucket take their tokens in a few statements, each one debited', async () => {
    const counting = new CountingDataSource(dataSource);
    // 100 tokens of burst, refilled far slower than the test runs.
    const limiter = limiterOn(counting, {
      maxPerInterval: 1_000,
      burst: 100,
      intervalMs: 3_600_000,
      maxWaitMs: 1_000,
    });
    await Promise.all(Array.from({ length: 60 }, () => limiter.acquire('portal:1')));
    // The bucket row creation, the first caller's own take, then the 59 who queued behind it together.
    expect(counting.statements).toBeLessThanOrEqual(4);
    expect(await tokensLeft('portal:1')).toBeGreaterThanOrEqual(40);
    expect(await tokensLeft('portal:1')).toBeLessThan(41);
  });

  it('grants no more than the bucket holds; callers who would wait too long are refused, in order', async () => {
    const counting = new CountingDataSource(dataSource);
    // 5 tokens of burst; the next one only after minutes.
    const limiter = limiterOn(counting, {
      maxPerInterval: 50,
      burst: 5,
      intervalMs: 3_600_000,
      maxWaitMs: 1_000,
    });
    const outcomes = await Promise.all(
      Array.from({ length: 8 }, (_, index) =>
        limiter.acquire('portal:2').then(
          () => `granted ${index}`,
          (error: unknown) => (error instanceof RateWaitExceeded ? `refused ${index}` : String(error)),
        ),
      ),
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
    expect(await tokensLeft('portal:2')).toBeLessThan(1);
  });

  it('promises turns one after another at the refill rate, shared through the row, and refuses a caller its own shorter wait', async () => {
    const counting = new CountingDataSource(dataSource);
    // 10 per second after a burst of 1: a turn of 3 calls lasts 300 ms.
    const settings = { maxPerInterval: 11, burst: 1, intervalMs: 1_000, maxWaitMs: 60_000 };
    const limiter = limiterOn(counting, settings);
    const before = Date.now();
    const first = await limiter.reserve('portal:3', 3);
    const second = await limiter.reserve('portal:3', 3);
    expect(first - before).toBeGreaterThanOrEqual(250);
    expect(first - before).toBeLessThan(2_000);
    expect(second - first).toBeGreaterThan(290);
    expect(second - first).toBeLessThan(310);
    // Another replica promises after the same row: one call's turn (100 ms) after the second.
    const replica = limiterOn(new CountingDataSource(dataSource), settings);
    const third = await replica.reserve('portal:3', 1);
    expect(third - second).toBeGreaterThan(90);
    expect(third - second).toBeLessThan(110);

    await limiter.acquire('portal:4');
    await expect(limiter.acquire('portal:4', 50)).rejects.toBeInstanceOf(RateWaitExceeded);
  });

  it('tells how many calls the budget allows within a time, without taking any; nothing while paused', async () => {
    const counting = new CountingDataSource(dataSource);
    // 5 tokens of burst, then 10 a second.
    const limiter = limiterOn(counting, {
      maxPerInterval: 15,
      burst: 5,
      intervalMs: 1_000,
      maxWaitMs: 1_000,
    });
    expect(await limiter.tokensWithin('portal:5', 0)).toBe(5);
    await Promise.all(Array.from({ length: 5 }, () => limiter.acquire('portal:5')));
    const now = await limiter.tokensWithin('portal:5', 0);
    expect(now).toBeGreaterThanOrEqual(0);
    expect(now).toBeLessThan(0.5);
    // 10 a second: about 3 more within 300 ms, taken as they come.
    expect(await limiter.tokensWithin('portal:5', 300)).toBeCloseTo(now + 3, 0);
    // What it holds now never exceeds the burst: after a quiet second, 5 now and 10 more within the next second.
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    expect(await limiter.tokensWithin('portal:5', 0)).toBe(5);
    expect(await limiter.tokensWithin('portal:5', 1_000)).toBeCloseTo(15, 5);
    // Reading took nothing.
    expect(await tokensLeft('portal:5')).toBeLessThan(0.5);

    await limiter.pause('portal:7', 60_000);
    expect(await limiter.tokensWithin('portal:7', 0)).toBeLessThan(0);
  });

  it('refuses at once a caller whose turn, after the callers queued ahead of it, comes later than it may wait', async () => {
    const counting = new CountingDataSource(dataSource);
    // One token at once, then one every 100 ms; each caller waits 250 ms at most.
    const limiter = limiterOn(counting, { maxPerInterval: 11, burst: 1, intervalMs: 1_000, maxWaitMs: 250 });
    const started = Date.now();
    const outcomes = await Promise.all(
      Array.from({ length: 8 }, () =>
        limiter.acquire('portal:8').then(
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
    expect(granted.length + refused.length).toBe(8);
    // The burst token and the next two or so; the callers further back do not sit out their whole wait first.
    expect(granted.length).toBeGreaterThanOrEqual(2);
    expect(granted.length).toBeLessThanOrEqual(4);
    expect(Math.max(...refused.map((outcome) => outcome.afterMs))).toBeLessThan(200);
  });
});
