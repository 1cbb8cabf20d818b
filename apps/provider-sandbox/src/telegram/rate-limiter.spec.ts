import { describe, expect, it } from '@jest/globals';
import { FloodControl } from './rate-limiter.js';
import { retryDelayMs } from './webhook-dispatcher.js';

describe('FloodControl', () => {
  const settings = { enabled: true, chatPerSecond: 1, chatBurst: 3, globalPerSecond: 30 };

  it('allows a burst per chat, then asks to retry after whole seconds, and refills over time', () => {
    const flood = new FloodControl({ ...settings });
    expect([0, 1, 2].map(() => flood.take(1, 10, 0))).toEqual([0, 0, 0]);
    expect(flood.take(1, 10, 0)).toBe(1);
    expect(flood.take(1, 11, 0)).toBe(0);
    expect(flood.take(1, 10, 1000)).toBe(0);
    expect(flood.take(1, 10, 1000)).toBe(1);
  });

  it('limits the bot globally across chats', () => {
    const flood = new FloodControl({ ...settings, globalPerSecond: 5, chatBurst: 100 });
    const results = Array.from({ length: 6 }, (_, chat) => flood.take(1, chat, 0));
    expect(results).toEqual([0, 0, 0, 0, 0, 1]);
    expect(flood.take(2, 0, 0)).toBe(0);
  });

  it('does nothing when disabled', () => {
    const flood = new FloodControl({ ...settings, enabled: false });
    expect(Array.from({ length: 50 }, () => flood.take(1, 1, 0)).every((wait) => wait === 0)).toBe(true);
  });
});

describe('retryDelayMs', () => {
  it('starts at 1 s and doubles, capped at a random 60–120 s', () => {
    expect([1, 2, 3, 4].map((attempt) => retryDelayMs(attempt, () => 0))).toEqual([1000, 2000, 4000, 8000]);
    expect(retryDelayMs(10, () => 0)).toBe(60_000);
    expect(retryDelayMs(10, () => 0.999)).toBeLessThanOrEqual(120_000);
    expect(retryDelayMs(10, () => 0.5)).toBe(90_000);
  });
});
