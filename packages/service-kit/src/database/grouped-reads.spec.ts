import { describe, expect, it } from '@jest/globals';
import { GroupedReads } from './grouped-reads.js';

describe('GroupedReads', () => {
  it('answers the reads of one turn with one call for their distinct keys, and starts a new group after it', async () => {
    const calls: string[][] = [];
    const grouped = new GroupedReads<string, string>(
      (keys) => {
        calls.push([...keys]);
        return Promise.resolve(
          new Map(keys.filter((key) => key !== 'gone').map((key) => [key, `row ${key}`])),
        );
      },
      (key) => key,
    );

    const together = await Promise.all([
      grouped.read('a'),
      grouped.read('b'),
      grouped.read('a'),
      grouped.read('gone'),
    ]);
    const later = await grouped.read('a');

    expect(together).toEqual(['row a', 'row b', 'row a', undefined]);
    expect(later).toBe('row a');
    expect(calls).toEqual([['a', 'b', 'gone'], ['a']]);
  });

  it('groups structured keys by their string form and hands readAll the keys themselves', async () => {
    const asked: { account: string; message: string }[][] = [];
    const keyOf = ({ account, message }: { account: string; message: string }) => `${account}/${message}`;
    const grouped = new GroupedReads<{ account: string; message: string }, string>((keys) => {
      asked.push([...keys]);
      return Promise.resolve(new Map(keys.map((key) => [keyOf(key), `quote of ${key.message}`])));
    }, keyOf);

    const answers = await Promise.all([
      grouped.read({ account: 'a', message: '1' }),
      grouped.read({ account: 'a', message: '1' }),
      grouped.read({ account: 'b', message: '1' }),
    ]);

    expect(answers).toEqual(['quote of 1', 'quote of 1', 'quote of 1']);
    expect(asked).toEqual([
      [
        { account: 'a', message: '1' },
        { account: 'b', message: '1' },
      ],
    ]);
  });

  it('fails every read of a group whose query failed, and the next group reads again', async () => {
    let fail = true;
    const grouped = new GroupedReads<string, string>(
      (keys) =>
        fail
          ? Promise.reject(new Error('database away'))
          : Promise.resolve(new Map(keys.map((key) => [key, key]))),
      (key) => key,
    );

    const failed = await Promise.allSettled([grouped.read('a'), grouped.read('b')]);
    fail = false;

    expect(failed.map((result) => result.status)).toEqual(['rejected', 'rejected']);
    expect(await grouped.read('a')).toBe('a');
  });
});
