import { describe, expect, it } from '@jest/globals';
import { SharedReads } from './shared-reads.js';

describe('SharedReads', () => {
  it('shares a read in flight between concurrent callers of one key, and reads again once it settled', async () => {
    const reads: string[] = [];
    const shared = new SharedReads<string, string>();
    const read = (key: string) => () => {
      reads.push(key);
      return Promise.resolve(`row ${key}`);
    };

    const together = await Promise.all([
      shared.read('a', read('a')),
      shared.read('a', read('a')),
      shared.read('b', read('b')),
    ]);
    const later = await shared.read('a', read('a'));

    expect(together).toEqual(['row a', 'row a', 'row b']);
    expect(later).toBe('row a');
    expect(reads).toEqual(['a', 'b', 'a']);
  });

  it('gives a failed read to the callers that shared it, and tries again for the next', async () => {
    const shared = new SharedReads<string, string>();
    let attempts = 0;
    const failingOnce = () => {
      attempts += 1;
      return attempts === 1 ? Promise.reject(new Error('database away')) : Promise.resolve('row');
    };

    const outcomes = await Promise.allSettled([shared.read('a', failingOnce), shared.read('a', failingOnce)]);
    expect(outcomes.map((outcome) => outcome.status)).toEqual(['rejected', 'rejected']);
    await expect(shared.read('a', failingOnce)).resolves.toBe('row');
    expect(attempts).toBe(2);
  });
});
