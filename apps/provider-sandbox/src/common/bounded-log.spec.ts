import { describe, expect, it } from '@jest/globals';
import { appendBounded } from './bounded-log.js';

describe('appendBounded', () => {
  it('keeps the newest max entries, dropping the oldest first', () => {
    const log: number[] = [];
    for (let index = 1; index <= 11; index += 1) {
      appendBounded(log, index, 4);
    }
    expect(log).toEqual([8, 9, 10, 11]);
  });

  it('keeps nothing with max 0', () => {
    const log: string[] = [];
    appendBounded(log, 'a', 0);
    expect(log).toEqual([]);
  });
});
