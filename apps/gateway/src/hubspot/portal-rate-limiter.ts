import type { DataSource, EntityManager } from 'typeorm';

export interface RateLimitSettings {
  /** Requests allowed in any rolling window, across every replica sharing the database. */
  readonly maxPerInterval: number;
  readonly intervalMs: number;
  /** A caller waiting longer than this gets `RateWaitExceeded` (its message goes back to a retry tier). */
  readonly maxWaitMs: number;
  /** The longest a call may run (its timeout): a grant whose holder dies mid-call holds its place this much longer. */
  readonly maxCallMs: number;
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

/** One request's place in its bucket's window; `done()` when the request came back (or was never sent). */
export interface RateGrant {
  done(): void;
}

export interface AcquireOptions {
  readonly maxWaitMs?: number | undefined;
  /** This call's timeout, when longer than the limiter's `maxCallMs` (uploads). */
  readonly maxCallMs?: number | undefined;
}

interface TakeResult {
  readonly grantIds: readonly string[];
  /** When the caller `position` places behind the next one gets its grant (0: the next caller; or the pause ends). */
  readonly waitBehindMs: (position: number) => number;
}

interface Waiter {
  readonly resolve: (grant: RateGrant) => void;
  readonly reject: (error: Error) => void;
  readonly maxWaitMs: number;
  readonly maxCallMs: number;
  waitedMs: number;
}

interface Completion {
  readonly grantId: string;
  readonly bucketKey: string;
  readonly at: number;
}

/** Completed calls are written back together, this long after the first of them. */
const RELEASE_FLUSH_MS = 20;
/** Completions kept for a later flush while the database is unreachable (beyond: they hold until their lease ends). */
const MAX_PENDING_COMPLETIONS = 10_000;

/**
 * HubSpot's limit as HubSpot counts it: at most `maxPerInterval` requests arriving in any rolling window, per
 * bucket (portal, its search budget, the developer key). Every request granted holds a place, a row in PostgreSQL
 * shared by every replica, until one window after it came back: HubSpot received it before that, so no two
 * requests on one place ever arrive within a window of each other, however late the network delivers them.
 * A backlog drains at the full budget (the whole window's worth at once, then as places free up), and a place
 * the pipeline was slow to use is not lost: it waits for the next caller. A holder that dies mid-call keeps its
 * place for a window plus `maxCallMs`. The database clock is the only clock, so replicas with skewed clocks agree.
 *
 * The callers of one process that wait for the same bucket take their grants together in one statement, and
 * completed calls are written back together: one at a time capped a busy portal at the disk's flush rate.
 */
export class PortalRateLimiter {
  /** The average rate of a full window (for promised turns). */
  private readonly callsPerMs: number;
  /** Callers waiting per bucket, first come first served; one drain loop per bucket talks to the database. */
  private readonly waiting = new Map<string, Waiter[]>();
  /** A drain loop sleeping until a place frees up, woken early when a call of this process comes back. */
  private readonly sleepers = new Map<string, () => void>();
  private pendingCompletions: Completion[] = [];
  private flushTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly dataSource: DataSource,
    private readonly schema: string,
    private readonly settings: RateLimitSettings,
  ) {
    this.callsPerMs = settings.maxPerInterval / settings.intervalMs;
  }

  /** Waits for one request's place in the window; throws `RateWaitExceeded` beyond `maxWaitMs`. */
  acquire(bucketKey: string, options: AcquireOptions = {}): Promise<RateGrant> {
    return new Promise<RateGrant>((resolve, reject) => {
      const waiter: Waiter = {
        resolve,
        reject,
        maxWaitMs: options.maxWaitMs ?? this.settings.maxWaitMs,
        maxCallMs: Math.max(this.settings.maxCallMs, options.maxCallMs ?? 0),
        waitedMs: 0,
      };
      const queue = this.waiting.get(bucketKey);
      if (queue !== undefined) {
        queue.push(waiter);
        return;
      }
      this.waiting.set(bucketKey, [waiter]);
      void this.drain(bucketKey);
    });
  }

  /**
   * Promises `calls` requests' worth of budget after every earlier promise, at the window's average rate: a caller
   * that would wait too long comes back at its turn instead of holding its place (and a consumer) while it waits.
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
      [bucketKey, Math.max(1, calls) / this.callsPerMs],
    );
    return Number(rows[0]?.until);
  }

  /**
   * The calls the bucket allows from now until `withinMs` from now: the places free now or freeing meanwhile (a
   * call still running counts as holding its place until its lease ends, a window plus its longest call: it frees
   * a window after it comes back, unknown yet); negative while it is paused after a 429. Reads only; with
   * `manager`, inside that transaction.
   */
  async tokensWithin(bucketKey: string, withinMs: number, manager?: EntityManager): Promise<number> {
    const rows: { held: number | string; paused_ms: number | string | null }[] = await (
      manager ?? this.dataSource
    ).query(
      `SELECT (SELECT count(*) FROM "${this.schema}".hubspot_rate_grants g
                WHERE g.bucket_key = $1
                  AND g.busy_until > clock_timestamp() + make_interval(secs => $2::double precision / 1000))
                AS held,
              (SELECT extract(epoch FROM b.paused_until - clock_timestamp()) * 1000
                 FROM "${this.schema}".hubspot_rate_buckets b WHERE b.bucket_key = $1) AS paused_ms`,
      [bucketKey, withinMs],
    );
    const row = rows[0];
    if (Number(row?.paused_ms ?? 0) > 0) {
      return -1;
    }
    return this.settings.maxPerInterval - Number(row?.held ?? 0);
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

  /** Grants the bucket's waiters in order, as many per statement as the window has places for. */
  private async drain(bucketKey: string): Promise<void> {
    const queue = this.waiting.get(bucketKey);
    if (queue === undefined) {
      return;
    }
    try {
      while (queue.length > 0) {
        const wanted = queue.length;
        const maxCallMs = Math.max(...queue.map((waiter) => waiter.maxCallMs));
        const result = await this.take(bucketKey, wanted, maxCallMs);
        for (const grantId of result.grantIds) {
          queue.shift()?.resolve(this.grant(bucketKey, grantId));
        }
        // A waiter's turn comes after the places of everyone queued ahead of it, not with the next one. Callers
        // who queued while the statement ran were not asked for: the next statement serves or judges them.
        const unserved = wanted - result.grantIds.length;
        const tooLong = queue
          .slice(0, unserved)
          .filter((waiter, index) => waiter.waitedMs + result.waitBehindMs(index) > waiter.maxWaitMs);
        for (const waiter of tooLong) {
          queue.splice(queue.indexOf(waiter), 1);
          waiter.reject(new RateWaitExceeded(bucketKey, Math.ceil(result.waitBehindMs(0))));
        }
        if (queue.length === 0 || queue.length > unserved - tooLong.length) {
          continue;
        }
        if (result.grantIds.length === 0) {
          const startedAt = performance.now();
          await this.sleepUntilFree(bucketKey, Math.max(5, Math.ceil(result.waitBehindMs(0))));
          const slept = performance.now() - startedAt;
          for (const waiter of queue) {
            waiter.waitedMs += slept;
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

  private sleepUntilFree(bucketKey: string, ms: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const wake = (): void => {
        clearTimeout(timer);
        this.sleepers.delete(bucketKey);
        resolve();
      };
      const timer = setTimeout(wake, ms);
      this.sleepers.set(bucketKey, wake);
    });
  }

  private grant(bucketKey: string, grantId: string): RateGrant {
    let done = false;
    return {
      done: () => {
        if (done) {
          return;
        }
        done = true;
        this.completed({ grantId, bucketKey, at: performance.now() });
      },
    };
  }

  private completed(completion: Completion): void {
    if (this.pendingCompletions.length >= MAX_PENDING_COMPLETIONS) {
      return;
    }
    this.pendingCompletions.push(completion);
    this.scheduleFlush(RELEASE_FLUSH_MS);
  }

  private scheduleFlush(delayMs: number): void {
    if (this.flushTimer === undefined) {
      this.flushTimer = setTimeout(() => {
        void this.flushCompletions();
      }, delayMs);
      this.flushTimer.unref();
    }
  }

  /** A completed call's place frees one window after it came back (the database clock, less the time since). */
  private async flushCompletions(): Promise<void> {
    this.flushTimer = undefined;
    const batch = this.pendingCompletions;
    this.pendingCompletions = [];
    const now = performance.now();
    try {
      await this.dataSource.query(
        `UPDATE "${this.schema}".hubspot_rate_grants AS g SET
           busy_until = clock_timestamp() + make_interval(secs => ($2::double precision - c.ago_ms) / 1000),
           completed = true
         FROM unnest($1::bigint[], $3::double precision[]) AS c(id, ago_ms)
         WHERE g.id = c.id`,
        [
          batch.map((completion) => completion.grantId),
          this.settings.intervalMs,
          batch.map((c) => now - c.at),
        ],
      );
    } catch {
      // Unflushed, a place holds until its lease ends: later, never early. Kept for the next flush.
      this.pendingCompletions.unshift(
        ...batch.slice(0, MAX_PENDING_COMPLETIONS - this.pendingCompletions.length),
      );
      this.scheduleFlush(1_000);
      return;
    }
    for (const bucketKey of new Set(batch.map((completion) => completion.bucketKey))) {
      this.sleepers.get(bucketKey)?.();
    }
  }

  /** One round trip: frees the places whose time is up, then takes up to `wanted` under the bucket's row lock. */
  private async take(bucketKey: string, wanted: number, maxCallMs: number): Promise<TakeResult> {
    const rows: {
      grant_ids: (string | number)[] | null;
      paused_ms: number | string;
      frees_in_ms: (number | string)[] | null;
    }[] = await this.dataSource.query(
      `SELECT grant_ids, paused_ms, frees_in_ms FROM "${this.schema}".take_rate_grants($1, $2, $3, $4, $5)`,
      [bucketKey, wanted, this.settings.maxPerInterval, this.settings.intervalMs, maxCallMs],
    );
    const row = rows[0];
    const pausedMs = Number(row?.paused_ms ?? 0);
    const window = this.settings.intervalMs;
    if (pausedMs > 0) {
      return { grantIds: [], waitBehindMs: () => pausedMs };
    }
    const frees = (row?.frees_in_ms ?? []).map(Number);
    return {
      grantIds: (row?.grant_ids ?? []).map(String),
      // Beyond the places held before this statement, a caller waits for one taken by it: a window at least.
      waitBehindMs: (position) => frees[position] ?? window,
    };
  }
}
