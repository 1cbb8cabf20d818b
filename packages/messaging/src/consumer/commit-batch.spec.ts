import { describe, expect, it } from '@jest/globals';
import type { EntityManager } from 'typeorm';
import { CommitBatch } from './commit-batch.js';

/** A transaction as a handler sees it: its manager, and the hooks that run just before it commits. */
function transaction(name: string) {
  const hooks: (() => Promise<void>)[] = [];
  const manager = { name } as unknown as EntityManager;
  return {
    manager,
    context: {
      manager,
      beforeCommit: (hook: () => Promise<void>) => {
        hooks.push(hook);
      },
    },
    hookCount: () => hooks.length,
    commit: async () => {
      for (const hook of hooks.splice(0)) {
        await hook();
      }
    },
  };
}

describe('CommitBatch', () => {
  const recording = () => {
    const flushed: { manager: EntityManager; items: readonly string[] }[] = [];
    const batch = new CommitBatch<string>((manager, items) => {
      flushed.push({ manager, items: [...items] });
      return Promise.resolve();
    });
    return { batch, flushed };
  };

  it('hands a transaction’s items to one flush, in order, only when it commits', async () => {
    const { batch, flushed } = recording();
    const tx = transaction('a');
    batch.add(tx.context, 'first');
    batch.add(tx.context, 'second');
    batch.add(tx.context, 'third');
    expect(flushed).toEqual([]);
    expect(tx.hookCount()).toBe(1);
    await tx.commit();
    expect(flushed).toEqual([{ manager: tx.manager, items: ['first', 'second', 'third'] }]);
  });

  it('keeps the items of concurrent transactions apart', async () => {
    const { batch, flushed } = recording();
    const a = transaction('a');
    const b = transaction('b');
    batch.add(a.context, 'a1');
    batch.add(b.context, 'b1');
    batch.add(a.context, 'a2');
    await b.commit();
    await a.commit();
    expect(flushed).toEqual([
      { manager: b.manager, items: ['b1'] },
      { manager: a.manager, items: ['a1', 'a2'] },
    ]);
  });

  it('starts a new batch for an item added after the flush began, and flushes nothing for a quiet transaction', async () => {
    const { batch, flushed } = recording();
    const tx = transaction('a');
    await tx.commit();
    expect(flushed).toEqual([]);
    batch.add(tx.context, 'before');
    await tx.commit();
    batch.add(tx.context, 'after');
    expect(tx.hookCount()).toBe(1);
    await tx.commit();
    expect(flushed.map((flush) => flush.items)).toEqual([['before'], ['after']]);
  });

  it('fails the commit when the flush fails', async () => {
    const batch = new CommitBatch<string>(() => Promise.reject(new Error('statement failed')));
    const tx = transaction('a');
    batch.add(tx.context, 'x');
    await expect(tx.commit()).rejects.toThrow('statement failed');
  });
});
