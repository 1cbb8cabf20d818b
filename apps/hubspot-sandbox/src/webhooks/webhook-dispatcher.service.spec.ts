import { describe, expect, it } from '@jest/globals';
import { MAX_ATTEMPTS, retryDelayMs, retryDelayRangeMs } from './webhook-dispatcher.service.js';

describe(retryDelayMs.name, () => {
  const retries = Array.from({ length: MAX_ATTEMPTS - 1 }, (_, index) => index + 1);

  it('has ten retries whose nominal delays double and add up to HubSpot’s 24 h', () => {
    expect(retries).toHaveLength(10);
    const nominal = retries.map((retry) => retryDelayRangeMs(retry).maxMs);
    expect(nominal.every((delay, index) => index === 0 || delay === 2 * nominal[index - 1]!)).toBe(true);
    expect(nominal.reduce((sum, delay) => sum + delay, 0)).toBeCloseTo(24 * 3_600_000, 3);
  });

  it('randomises each delay between half its nominal value and all of it', () => {
    for (const retry of retries) {
      const { minMs, maxMs } = retryDelayRangeMs(retry);
      expect(retryDelayMs(retry, () => 0)).toBe(minMs);
      expect(retryDelayMs(retry, () => 1)).toBe(maxMs);
      expect(minMs).toBe(maxMs / 2);
    }
  });
});
