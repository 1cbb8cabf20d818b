import type { DataSource, EntityManager } from 'typeorm';

export interface RateLimitSettings {
  /** Requests allowed per window, across every replica sharing the database. */
  readonly maxPerInterval: number;
  /** Of those, how many may go at once (the bucket's capacity); the rest refill evenly over the window. */
  readonly burst: number;
  readonly intervalMs: number;
  /** A caller waiting longer than this gets `RateWaitExceeded` (its message goes back to a retry tier). */
  readonly maxWaitMs: number;
}

export class RateWaitExceeded extends Error {
  override readonly name = 'RateWaitExceeded';
  constructor(
    readonly bucketKey: string,
    readonly waitMs: number,
  ) {
    super(`rate budget of ${bucketKey} would be free only in ${waitMs} ms`);
  }
}

interface TakeResult {
  /** Tokens taken (at most the number asked for). */
  readonly granted: number;
  /** When one more token will be available (or the pause ends). */
  readonly waitMs: number;
  /** When the caller `position` places behind the next one gets its token (0: the next caller). */
  readonly waitBehindMs: (position: number) => number;
}

interface Waiter {
  readonly resolve: () => void;
  readonly reject: (error: Error) => void;
  readonly maxWaitMs: number;
  waitedMs: number;
}

/**
 * A token bucket per portal (and one for the developer key), stored in PostgreSQL so every gateway replica
 * draws from the same budget. Capacity is the burst and the refill rate the rest of the window's limit, so
 * no rolling window ever sees more than `maxPerInterval` grants (burst + refill = limit). Each bucket is
 * its own row: a portal that floods waits on its own row and never delays another portal's calls.
 * The database clock is the only clock, so replicas with skewed clocks still agree.
 *
 * Every grant is a token taken from the row, but the callers of one process that wait for the same bucket
 * take their tokens together in one statement: each statement is a commit (a WAL flush), and one at a time
 * per call capped a busy portal at the disk's flush rate, far below its HubSpot budget.
 */
export class PortalRateLimiter {
  private readonly capacity: number;
  private readonly refillPerMs: number;
  /** Callers waiting per bucket, first come first served; one drain loop per bucket talks to the database. */
  private readonly waiting = new Map<string, Waiter[]>();
  private readonly knownBuckets = new Set<string>();

  constructor(
    private readonly dataSource: DataSource,
    private readonly schema: string,
    private readonly settings: RateLimitSettings,
    private readonly sleep: (ms: number) => Promise<void> = (ms) =>
      new Promise((resolve) => setTimeout(resolve, ms)),
  ) {
    this.capacity = Math.max(1, Math.min(settings.burst, settings.maxPerInterval - 1));
    this.refillPerMs = (settings.maxPerInterval - this.capacity) / settings.intervalMs;
    if (this.refillPerMs <= 0) {
      this.refillPerMs = 1 / settings.intervalMs;
    }
  }

  /** Waits for one request's worth of budget; throws `RateWaitExceeded` beyond `maxWaitMs`. */
  acquire(bucketKey: string, maxWaitMs = this.settings.maxWaitMs): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const queue = this.waiting.get(bucketKey);
      const waiter: Waiter = { resolve, reject, maxWaitMs, waitedMs: 0 };
      if (queue !== undefined) {
        queue.push(waiter);
        return;
      }
      this.waiting.set(bucketKey, [waiter]);
      void this.drain(bucketKey);
    });
  }

  /**
   * Promises `calls` requests' worth of budget after every earlier promise, at the refill rate: a caller that
   * would wait too long comes back at its turn instead of holding its place (and a consumer) while it waits.
   * Shared by every replica through the bucket's row; the database clock decides.
   */
  async reserve(bucketKey: string, calls: number): Promise<number> {
    // An INSERT … RETURNING comes back as the rows themselves.
    const rows: { until: number | string }[] = await this.dataSource.query(
      `INSERT INTO "${this.schema}".hubspot_rate_buckets AS b (bucket_key, tokens, refilled_at, reserved_until)
       VALUES ($1, 0, clock_timestamp(), clock_timestamp() + make_interval(secs => $2::double precision / 1000))
       ON CONFLICT (bucket_key) DO UPDATE SET
         reserved_until = greatest(coalesce(b.reserved_until, clock_timestamp()), clock_timestamp())
                          + make_interval(secs => $2::double precision / 1000)
       RETURNING extract(epoch FROM b.reserved_until) * 1000 AS until`,
      [bucketKey, Math.max(1, calls) / this.refillPerMs],
    );
    return Number(rows[0]?.until);
  }

  /**
   * The calls the bucket allows from now until `withinMs` from now, taken as they come: what it holds now plus
   * what it refills meanwhile (negative while it is paused after a 429). Reads only; with `manager`, inside that
   * transaction.
   */
  async tokensWithin(bucketKey: string, withinMs: number, manager?: EntityManager): Promise<number> {
    const rows: { tokens: number | string | null; paused_ms: number | string | null }[] = await (
      manager ?? this.dataSource
    ).query(
      `SELECT least($2::double precision,
                    tokens + extract(epoch FROM clock_timestamp() - refilled_at) * 1000 * $3::double precision)
                + $4::double precision * $3::double precision AS tokens,
              coalesce(extract(epoch FROM paused_until - clock_timestamp()) * 1000, 0) AS paused_ms
         FROM "${this.schema}".hubspot_rate_buckets WHERE bucket_key = $1`,
      [bucketKey, this.capacity, this.refillPerMs, withinMs],
    );
    const row = rows[0];
    if (row === undefined) {
      return this.capacity;
    }
    return Number(row.paused_ms ?? 0) > 0 ? -1 : Number(row.tokens);
  }

  /** HubSpot answered 429: nobody calls for this bucket until `pauseMs` from now. */
  async pause(bucketKey: string, pauseMs: number): Promise<void> {
    await this.dataSource.query(
      `INSERT INTO "${this.schema}".hubspot_rate_buckets AS b (bucket_key, tokens, refilled_at, paused_until)
       VALUES ($1, 0, clock_timestamp(), clock_timestamp() + make_interval(secs => $2::double precision / 1000))
       ON CONFLICT (bucket_key) DO UPDATE SET
         tokens = 0,
         refilled_at = clock_timestamp(),
         paused_until = greatest(coalesce(b.paused_until, clock_timestamp()), EXCLUDED.paused_until)`,
      [bucketKey, pauseMs],
    );
  }

  /** Grants the bucket's waiters in order, as many per statement as the bucket has tokens for. */
  private async drain(bucketKey: string): Promise<void> {
    const queue = this.waiting.get(bucketKey);
    if (queue === undefined) {
      return;
    }
    try {
      while (queue.length > 0) {
        const result = await this.take(bucketKey, queue.length);
        for (const waiter of queue.splice(0, result.granted)) {
          waiter.resolve();
        }
        if (queue.length === 0) {
          break;
        }
        // A waiter's turn comes after the tokens of everyone queued ahead of it, not with the next token.
        const tooLong = queue.filter(
          (waiter, index) => waiter.waitedMs + result.waitBehindMs(index) > waiter.maxWaitMs,
        );
        for (const waiter of tooLong) {
          queue.splice(queue.indexOf(waiter), 1);
          waiter.reject(new RateWaitExceeded(bucketKey, Math.ceil(result.waitMs)));
        }
        if (queue.length === 0) {
          break;
        }
        if (result.granted === 0) {
          const step = Number.isFinite(result.waitMs) ? Math.max(5, Math.ceil(result.waitMs)) : 50;
          await this.sleep(step);
          for (const waiter of queue) {
            waiter.waitedMs += step;
          }
        }
      }
    } catch (error) {
      for (const waiter of queue.splice(0)) {
        waiter.reject(error instanceof Error ? error : new Error(String(error)));
      }
    } finally {
      this.waiting.delete(bucketKey);
    }
  }

  /** One atomic statement: refill by elapsed time, then take up to `wanted` whole tokens (row-locked). */
  private async take(bucketKey: string, wanted: number): Promise<TakeResult> {
    if (!this.knownBuckets.has(bucketKey)) {
      await this.dataSource.query(
        `INSERT INTO "${this.schema}".hubspot_rate_buckets (bucket_key, tokens, refilled_at)
         VALUES ($1, $2::double precision, clock_timestamp()) ON CONFLICT (bucket_key) DO NOTHING`,
        [bucketKey, this.capacity],
      );
      this.knownBuckets.add(bucketKey);
    }
    // TypeORM answers an UPDATE … RETURNING with [rows, affectedCount].
    const [rows]: [{ available: number | string; paused_ms: number | string | null }[], number] =
      await this.dataSource.query(
        `UPDATE "${this.schema}".hubspot_rate_buckets AS b SET
         tokens = CASE WHEN s.paused_ms > 0 THEN b.tokens
                       ELSE s.available - least(floor(s.available), $4::double precision) END,
         refilled_at = CASE WHEN s.paused_ms > 0 THEN b.refilled_at ELSE s.at END
       FROM (
         SELECT bucket_key,
                clock_timestamp() AS at,
                least($2::double precision,
                      tokens + extract(epoch FROM clock_timestamp() - refilled_at) * 1000 * $3::double precision)
                  AS available,
                coalesce(extract(epoch FROM paused_until - clock_timestamp()) * 1000, 0) AS paused_ms
         FROM "${this.schema}".hubspot_rate_buckets
         WHERE bucket_key = $1
         FOR UPDATE
       ) AS s
       WHERE b.bucket_key = s.bucket_key
       RETURNING s.available::double precision AS available, s.paused_ms::double precision AS paused_ms`,
        [bucketKey, this.capacity, this.refillPerMs, wanted],
      );
    const row = rows[0];
    if (row === undefined) {
      this.knownBuckets.delete(bucketKey);
      return { granted: 0, waitMs: 5, waitBehindMs: (position) => 5 + position / this.refillPerMs };
    }
    const pausedMs = Number(row.paused_ms ?? 0);
    if (pausedMs > 0) {
      return {
        granted: 0,
        waitMs: pausedMs,
        waitBehindMs: (position) => pausedMs + position / this.refillPerMs,
      };
    }
    const available = Number(row.available);
    const granted = Math.max(0, Math.min(Math.floor(available), wanted));
    const left = available - granted;
    return {
      granted,
      waitMs: Math.max(0, 1 - left) / this.refillPerMs,
      waitBehindMs: (position) => Math.max(0, position + 1 - left) / this.refillPerMs,
    };
  }
}
