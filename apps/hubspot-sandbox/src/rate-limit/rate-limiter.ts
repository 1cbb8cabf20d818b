import { Injectable } from '@nestjs/common';

export interface RateDecision {
  readonly allowed: boolean;
  readonly max: number;
  readonly remaining: number;
  readonly intervalMs: number;
}

/** Rolling-window counter per key (`portal:<hubId>:app:<appId>` or `developer:<appId>`). */
@Injectable()
export class RateLimiter {
  private readonly windows = new Map<string, number[]>();

  take(key: string, max: number, intervalMs: number, now = Date.now()): RateDecision {
    const recent = (this.windows.get(key) ?? []).filter((at) => at > now - intervalMs);
    const allowed = recent.length < max;
    if (allowed) {
      recent.push(now);
    }
    this.windows.set(key, recent);
    return { allowed, max, remaining: Math.max(0, max - recent.length), intervalMs };
  }

  reset(): void {
    this.windows.clear();
  }
}
