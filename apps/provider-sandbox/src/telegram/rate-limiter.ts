interface Bucket {
  tokens: number;
  updatedAt: number;
}

export interface RateLimitSettings {
  enabled: boolean;
  chatPerSecond: number;
  chatBurst: number;
  globalPerSecond: number;
}

/**
 * Telegram's flood control as token buckets (docs/providers-api.md §1.11): about 1 message per second per
 * chat with short bursts tolerated, about 30 per second per bot overall. Exceeding either gives the
 * whole-second wait for the 429's `retry_after`.
 */
export class FloodControl {
  private readonly buckets = new Map<string, Bucket>();

  constructor(public settings: RateLimitSettings) {}

  /** Takes one send for `chatId` of `botId`; returns 0 when allowed, else the `retry_after` in seconds. */
  take(botId: number, chatId: number, nowMs: number): number {
    if (!this.settings.enabled) {
      return 0;
    }
    const chat = this.refill(
      `${botId}:${chatId}`,
      this.settings.chatBurst,
      this.settings.chatPerSecond,
      nowMs,
    );
    const global = this.refill(
      `${botId}`,
      this.settings.globalPerSecond,
      this.settings.globalPerSecond,
      nowMs,
    );
    if (chat.tokens >= 1 && global.tokens >= 1) {
      chat.tokens -= 1;
      global.tokens -= 1;
      return 0;
    }
    const chatWait = chat.tokens >= 1 ? 0 : (1 - chat.tokens) / this.settings.chatPerSecond;
    const globalWait = global.tokens >= 1 ? 0 : (1 - global.tokens) / this.settings.globalPerSecond;
    return Math.max(1, Math.ceil(Math.max(chatWait, globalWait)));
  }

  reset(): void {
    this.buckets.clear();
  }

  private refill(key: string, capacity: number, perSecond: number, nowMs: number): Bucket {
    const bucket = this.buckets.get(key) ?? { tokens: capacity, updatedAt: nowMs };
    bucket.tokens = Math.min(capacity, bucket.tokens + ((nowMs - bucket.updatedAt) / 1000) * perSecond);
    bucket.updatedAt = nowMs;
    this.buckets.set(key, bucket);
    return bucket;
  }
}
