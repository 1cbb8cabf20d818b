import { SendFailure } from '../providers/provider-port.js';

interface Bucket {
  tokens: number;
  updatedAt: number;
  pausedUntil: number;
}

/** Longest a send waits in-process for a token or a provider's retry_after before handing back to the retry tiers. */
export const MAX_IN_PROCESS_WAIT_MS = 5_000;

/**
 * Added to every wait: the provider counts a send when it arrives, a few milliseconds after ours and not always
 * the same few, so a send timed to the exact millisecond its bucket allows can still be refused (429).
 */
const LATENCY_MARGIN_MS = 50;

/** One bucket per account and per chat: idle ones are dropped past this many. */
const MAX_BUCKETS = 10_000;

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * Token buckets per key (an account, a chat) plus pauses a provider asked for (`retry_after`). Sends wait
 * for a token up to `MAX_IN_PROCESS_WAIT_MS`; a longer wait becomes a transient failure, so the message goes
 * to the consumer group's retry tiers and the handler's transaction is not held for minutes. Per replica:
 * ordered consumer groups keep one conversation on one consumer, which is what per-chat limits need.
 */
export class SendThrottle {
  private readonly buckets = new Map<string, Bucket>();

  constructor(private readonly now: () => number = Date.now) {}

  async acquire(key: string, ratePerSecond: number, burst = Math.max(1, ratePerSecond)): Promise<void> {
    const bucket = this.bucket(key, burst);
    const now = this.now();
    // Tokens as of the earliest moment this send may go out: after a pause, the bucket refills only up to the
    // pause's end (filling it during the wait, capped at `burst`, would let a burst follow the paused send).
    const sendAt = Math.max(now, bucket.pausedUntil);
    const tokens = Math.min(burst, bucket.tokens + ((sendAt - bucket.updatedAt) / 1000) * ratePerSecond);
    const tokenWait = tokens >= 1 ? 0 : ((1 - tokens) / ratePerSecond) * 1000;
    const exact = sendAt - now + tokenWait;
    const wait = exact > 0 ? exact + LATENCY_MARGIN_MS : 0;
    if (exact > MAX_IN_PROCESS_WAIT_MS) {
      throw new SendFailure(
        'transient',
        'The provider asked us to slow down; the reply will be sent shortly.',
        '429',
        Math.ceil(wait),
      );
    }
    // Counted when it really goes out, margin included, so the next sends are timed from there.
    const goesAt = now + wait;
    bucket.tokens = Math.min(burst, bucket.tokens + ((goesAt - bucket.updatedAt) / 1000) * ratePerSecond) - 1;
    bucket.updatedAt = goesAt;
    if (wait > 0) {
      await sleep(wait);
    }
  }

  /** The provider said "retry after": no send for `key` before then. */
  pause(key: string, forMs: number): void {
    const bucket = this.bucket(key, 1);
    bucket.pausedUntil = Math.max(bucket.pausedUntil, this.now() + forMs);
  }

  private bucket(key: string, burst: number): Bucket {
    let bucket = this.buckets.get(key);
    if (bucket === undefined) {
      if (this.buckets.size >= MAX_BUCKETS) {
        this.forgetIdle();
      }
      bucket = { tokens: burst, updatedAt: this.now(), pausedUntil: 0 };
      this.buckets.set(key, bucket);
    }
    return bucket;
  }

  /** A bucket untouched for a minute and not paused is full again: dropping it changes nothing. */
  private forgetIdle(): void {
    const now = this.now();
    for (const [key, bucket] of this.buckets) {
      if (now - bucket.updatedAt > 60_000 && bucket.pausedUntil < now) {
        this.buckets.delete(key);
      }
    }
  }
}
