import { describe, expect, it } from '@jest/globals';
import { RateLimiter } from './rate-limiter.js';

describe(RateLimiter.name, () => {
  it('allows max requests per rolling window, per key', () => {
    const sut = new RateLimiter();
    for (let i = 0; i < 3; i += 1) {
      expect(sut.take('a', 3, 10_000, 1_000 + i).allowed).toBe(true);
    }
    expect(sut.take('a', 3, 10_000, 1_500)).toEqual({
      allowed: false,
      max: 3,
      remaining: 0,
      intervalMs: 10_000,
    });
    expect(sut.take('b', 3, 10_000, 1_500).remaining).toBe(2);
    expect(sut.take('a', 3, 10_000, 11_001).allowed).toBe(true);
  });
});
