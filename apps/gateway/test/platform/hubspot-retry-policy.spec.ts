import { describe, expect, it } from '@jest/globals';
import { backoffMs, decideRetry, parseRetryAfter } from '../../src/hubspot/hubspot-retry-policy.js';

const settings = { maxAttempts: 4, baseDelayMs: 100, rateIntervalMs: 10_000 };
const noJitter = () => 0;

describe('HubSpot retry policy', () => {
  it('backs off exponentially with jitter between half and all of the ceiling', () => {
    expect(backoffMs(1, 100, () => 0)).toBe(50);
    expect(backoffMs(1, 100, () => 1)).toBe(100);
    expect(backoffMs(3, 100, () => 1)).toBe(400);
    expect(backoffMs(20, 100, () => 1)).toBe(30_000);
  });

  it('reads Retry-After as seconds or an HTTP date', () => {
    expect(parseRetryAfter('2')).toBe(2_000);
    expect(parseRetryAfter(null)).toBeUndefined();
    expect(
      parseRetryAfter('Wed, 25 Nov 2026 10:00:05 GMT', Date.parse('Wed, 25 Nov 2026 10:00:00 GMT')),
    ).toBe(5_000);
    expect(parseRetryAfter('soon')).toBeUndefined();
  });

  it('429 pauses the bucket for Retry-After, else the policy window; DAILY is not retried', () => {
    expect(
      decideRetry({ kind: 'response', status: 429, retryAfterMs: 3_000 }, 1, settings, noJitter),
    ).toEqual({
      retry: true,
      delayMs: 3_000,
      pauseBucket: true,
    });
    expect(
      decideRetry(
        { kind: 'response', status: 429, policyName: 'TEN_SECONDLY_ROLLING' },
        1,
        settings,
        noJitter,
      ),
    ).toEqual({ retry: true, delayMs: 10_000, pauseBucket: true });
    expect(
      decideRetry({ kind: 'response', status: 429, policyName: 'SECONDLY' }, 1, settings, noJitter),
    ).toEqual({
      retry: true,
      delayMs: 1_000,
      pauseBucket: true,
    });
    expect(decideRetry({ kind: 'response', status: 429, policyName: 'DAILY' }, 1, settings)).toEqual({
      retry: false,
      retryable: true,
    });
  });

  it('retries 5xx, 423, 477, timeouts and network errors until the last attempt, then reports retryable', () => {
    expect(decideRetry({ kind: 'response', status: 423 }, 1, settings, noJitter)).toEqual({
      retry: true,
      delayMs: 2_000,
      pauseBucket: false,
    });
    expect(decideRetry({ kind: 'response', status: 423 }, 4, settings)).toEqual({
      retry: false,
      retryable: true,
    });
    for (const outcome of [
      { kind: 'response', status: 502 },
      { kind: 'response', status: 477 },
      { kind: 'timeout' },
      { kind: 'network' },
    ] as const) {
      expect(decideRetry(outcome, 1, settings, noJitter)).toEqual({
        retry: true,
        delayMs: 50,
        pauseBucket: false,
      });
      expect(decideRetry(outcome, 4, settings)).toEqual({ retry: false, retryable: true });
    }
  });

  it('never retries other 4xx', () => {
    for (const status of [400, 403, 404, 409, 415]) {
      expect(decideRetry({ kind: 'response', status }, 1, settings)).toEqual({
        retry: false,
        retryable: false,
      });
    }
  });
});
