import { Injectable } from '@nestjs/common';
import { randomBytes } from 'node:crypto';

/** How many ids of the unique sequence one millisecond of the clock makes room for. */
const UNIQUE_IDS_PER_MS = 1024;

/** Numeric id sequences (HubSpot ids are numbers rendered as strings) and opaque tokens. */
@Injectable()
export class IdGenerator {
  private readonly sequences = new Map<string, number>();
  /** The unique sequence's last id; reset never lowers it. */
  private lastUnique = 0;

  next(kind: string, start: number): number {
    const value = (this.sequences.get(kind) ?? start - 1) + 1;
    this.sequences.set(kind, value);
    return value;
  }

  /**
   * A number no sandbox has issued before, for ids a receiver keeps long, like the Webhooks API's `eventId` the
   * gateway deduplicates on for 90 days: the larger of the last one + 1 and the clock (ms) × 1024. A reset or a
   * restart therefore never issues one again, as long as fewer than 1024 are issued per millisecond on average;
   * safe integers until the year 2248.
   */
  nextUnique(): number {
    this.lastUnique = Math.max(this.lastUnique + 1, Date.now() * UNIQUE_IDS_PER_MS);
    return this.lastUnique;
  }

  token(prefix: string): string {
    return `${prefix}${randomBytes(24).toString('base64url')}`;
  }

  reset(): void {
    this.sequences.clear();
  }
}
