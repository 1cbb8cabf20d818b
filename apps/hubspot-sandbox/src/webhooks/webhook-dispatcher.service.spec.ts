import { describe, expect, it } from '@jest/globals';
import { MAX_ATTEMPTS, retryDelayMs } from './webhook-dispatcher.service.js';

describe(retryDelayMs.name, () => {
  it('grows between attempts and stays within HubSpot’s 24 h for all ten attempts', () => {
    const delays = Array.from({ length: MAX_ATTEMPTS - 1 }, (_, index) => retryDelayMs(index + 1));
    expect(delays[0]).toBe(60_000);
    expect(delays.every((delay, index) => index === 0 || delay > delays[index - 1]!)).toBe(true);
    expect(delays.reduce((sum, delay) => sum + delay, 0)).toBeLessThan(24 * 3_600_000);
  });
});
