import { describe, expect, it } from '@jest/globals';
import { PerTransaction } from './per-transaction.js';

/** Any object stands for a transaction: answers are kept per object identity. */
const transaction = (): object => ({});

describe('PerTransaction', () => {
  it('reads once per transaction and key, and again in another transaction or for another key', async () => {
    const reads: string[] = [];
    const accounts = new PerTransaction<string, object>();
    const read = (key: string) => () => {
      reads.push(key);
      return Promise.resolve(`account ${key}`);
    };
    const first = transaction();
    const second = transaction();

    const answers = await Promise.all([
      accounts.get(first, 'a', read('a')),
      accounts.get(first, 'a', read('a')),
      accounts.get(first, 'b', read('b')),
      accounts.get(second, 'a', read('a')),
    ]);

    expect(answers).toEqual(['account a', 'account a', 'account b', 'account a']);
    expect(reads).toEqual(['a', 'b', 'a']);
  });

  it('shares a failed read within its transaction only', async () => {
    const accounts = new PerTransaction<string, object>();
    const failing = transaction();
    await expect(
      accounts.get(failing, 'a', () => Promise.reject(new Error('database down'))),
    ).rejects.toThrow('database down');
    await expect(accounts.get(failing, 'a', () => Promise.resolve('late'))).rejects.toThrow('database down');
    await expect(accounts.get(transaction(), 'a', () => Promise.resolve('fresh'))).resolves.toBe('fresh');
  });
});
