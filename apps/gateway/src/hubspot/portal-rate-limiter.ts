import type { DataSource } from 'typeorm';

export interface RateLimitSettings {
  /** Requests allowed per window, across every replica sharing the database. */
  readonly maxPerInterval: number;
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
  readonly granted: boolean;
  readonly waitMs: number;
}

/**
 * A token bucket per portal (and one for the developer key), stored in PostgreSQL so every gateway replica
 * draws from the same budget. Capacity is a tenth of the window's limit and the refill rate the rest, so
 * no rolling window ever sees more than `maxPerInterval` grants (burst + refill = limit). Each bucket is
 * its own row: a portal that floods waits on its own row and never delays another portal's calls.
 * The database clock is the only clock, so replicas with skewed clocks still agree.
 */
export class PortalRateLimiter {
  private readonly capacity: number;
  private readonly refillPerMs: number;
  /** One waiter per bucket per process polls the database; the others queue behind it in memory. */
  private readonly queues = new Map<string, Promise<unknown>>();
  private readonly knownBuckets = new Set<string>();

  constructor(
    private readonly dataSource: DataSource,
    private readonly schema: string,
    private readonly settings: RateLimitSettings,
    private readonly sleep: (ms: number) => Promise<void> = (ms) =>
      new Promise((resolve) => setTimeout(resolve, ms)),
  ) {
    this.capacity = Math.max(1, Math.floor(settings.maxPerInterval / 10));
    this.refillPerMs = (settings.maxPerInterval - this.capacity) / settings.intervalMs;
    if (this.refillPerMs <= 0) {
      this.refillPerMs = 1 / settings.intervalMs;
    }
  }

  /** Waits for one request's worth of budget; throws `RateWaitExceeded` beyond `maxWaitMs`. */
  acquire(bucketKey: string): Promise<void> {
    const previous = this.queues.get(bucketKey) ?? Promise.resolve();
    const turn = previous.catch(() => undefined).then(() => this.acquireNow(bucketKey));
    const tail = turn.catch(() => undefined);
    this.queues.set(bucketKey, tail);
    void tail.then(() => {
      if (this.queues.get(bucketKey) === tail) {
        this.queues.delete(bucketKey);
      }
    });
    return turn;
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

  private async acquireNow(bucketKey: string): Promise<void> {
    let waited = 0;
    for (;;) {
      const result = await this.take(bucketKey);
      if (result.granted) {
        return;
      }
      if (waited + result.waitMs > this.settings.maxWaitMs) {
        throw new RateWaitExceeded(bucketKey, result.waitMs);
      }
      const step = Number.isFinite(result.waitMs) ? Math.max(5, Math.ceil(result.waitMs)) : 50;
      await this.sleep(step);
      waited += step;
    }
  }

  /** One atomic statement: refill by elapsed time, then take a token if there is one (row-locked). */
  private async take(bucketKey: string): Promise<TakeResult> {
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
                       ELSE s.available - CASE WHEN s.available >= 1 THEN 1 ELSE 0 END END,
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
        [bucketKey, this.capacity, this.refillPerMs],
      );
    const row = rows[0];
    if (row === undefined) {
      this.knownBuckets.delete(bucketKey);
      return { granted: false, waitMs: 5 };
    }
    const pausedMs = Number(row.paused_ms ?? 0);
    if (pausedMs > 0) {
      return { granted: false, waitMs: pausedMs };
    }
    const available = Number(row.available);
    if (available >= 1) {
      return { granted: true, waitMs: 0 };
    }
    return { granted: false, waitMs: (1 - available) / this.refillPerMs };
  }
}
