import { describe, expect, it } from '@jest/globals';
import { durationMs, MAX_TIMER_MS, retentionMs } from './fields.js';

const messagesOf = (result: { error?: { issues: readonly { message: string }[] } }): string[] =>
  result.error?.issues.map((issue) => issue.message) ?? [];

describe(durationMs.name, () => {
  it('reads milliseconds and units', () => {
    expect(durationMs().parse('1500')).toBe(1500);
    expect(durationMs().parse('20s')).toBe(20_000);
    expect(durationMs().parse(' 5m ')).toBe(300_000);
    expect(durationMs().parse('1ms')).toBe(1);
    expect(durationMs().parse(String(MAX_TIMER_MS))).toBe(MAX_TIMER_MS);
  });

  it('refuses 0 by default: a poll loop would spin', () => {
    expect(messagesOf(durationMs().safeParse('0'))).toEqual(['must be at least 1 ms']);
    expect(messagesOf(durationMs().safeParse('0s'))).toEqual(['must be at least 1 ms']);
  });

  it('refuses more than a Node timer takes (it would fire after 1 ms)', () => {
    expect(messagesOf(durationMs().safeParse(String(MAX_TIMER_MS + 1)))).toEqual([
      expect.stringMatching(/^must be at most 2147483647 ms/),
    ]);
    expect(durationMs().safeParse('597h').success).toBe(false);
    expect(durationMs().safeParse('99999999999999999999').success).toBe(false);
  });

  it('says only what is wrong with a value that is no duration', () => {
    expect(messagesOf(durationMs().safeParse('ten seconds'))).toEqual([
      'expected a duration in milliseconds (e.g. 1500) or with a unit (e.g. 20s, 5m)',
    ]);
  });

  it('takes per-field bounds where 0 means something or the duration is never a timer', () => {
    expect(durationMs({ min: 0 }).parse('0')).toBe(0);
    expect(durationMs({ max: Number.MAX_SAFE_INTEGER }).parse('2160h')).toBe(2160 * 3_600_000);
    expect(messagesOf(durationMs({ max: 60_000 }).safeParse('2m'))).toEqual(['must be at most 60000 ms']);
  });
});

describe(retentionMs.name, () => {
  it('keeps rows longer than a timer could wait, and no less than its minimum', () => {
    expect(retentionMs(72).parse('2160h')).toBe(2160 * 3_600_000);
    expect(messagesOf(retentionMs(72).safeParse('48h'))).toEqual(['must be at least 72h']);
  });
});
