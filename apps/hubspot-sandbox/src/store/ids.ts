import { Injectable } from '@nestjs/common';
import { randomBytes } from 'node:crypto';

/** How many ids of the unique sequence one millisecond of the clock makes room for. */
const UNIQUE_IDS_PER_MS = 1024;
/** The int32 unique sequence counts the seconds since this instant. */
const UNIQUE_INT32_EPOCH_MS = Date.UTC(2025, 0, 1);

/** Numeric id sequences (HubSpot ids are numbers rendered as strings) and opaque tokens. */
@Injectable()
export class IdGenerator {
  private readonly sequences = new Map<string, number>();
  /** The last id of each unique sequence; reset never lowers them. */
  private readonly lastUnique = { int64: 0, int32: 0 };

  next(kind: string, start: number): number {
    const value = (this.sequences.get(kind) ?? start - 1) + 1;
    this.sequences.set(kind, value);
    return value;
  }

  /**
   * A number no sandbox has issued before, for ids a receiver keeps long, like the Webhooks API's `eventId` the
   * gateway deduplicates on for 90 days, or the thread and channel-account ids it maps its own records to: the
   * larger of the last one + 1 and the clock (ms) × 1024. A reset or a restart therefore never issues one again,
   * as long as fewer than 1024 are issued per millisecond on average; safe integers until the year 2248.
   */
  nextUnique(): number {
    this.lastUnique.int64 = Math.max(this.lastUnique.int64 + 1, Date.now() * UNIQUE_IDS_PER_MS);
    return this.lastUnique.int64;
  }

  /**
   * {@link nextUnique} for ids HubSpot types as int32, like channel ids (§1.3, `genericChannelId` in §1.6): the
   * larger of the last one + 1 and the seconds since 2025, so never issued again as long as fewer than one is
   * issued per second on average; int32 until the year 2093.
   */
  nextUniqueInt32(): number {
    const seconds = Math.floor((Date.now() - UNIQUE_INT32_EPOCH_MS) / 1000);
    this.lastUnique.int32 = Math.max(this.lastUnique.int32 + 1, seconds);
    return this.lastUnique.int32;
  }

  token(prefix: string): string {
    return `${prefix}${randomBytes(24).toString('base64url')}`;
  }

  reset(): void {
    this.sequences.clear();
  }
}
