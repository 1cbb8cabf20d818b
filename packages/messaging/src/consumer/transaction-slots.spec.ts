import { describe, expect, it } from '@jest/globals';
import type { DataSource } from 'typeorm';
import { Semaphore, consumerTransactionSlots, reservedConnections } from './transaction-slots.js';

describe('Semaphore', () => {
  it('runs at most `size` at once, the rest in arrival order', async () => {
    const semaphore = new Semaphore(2);
    let running = 0;
    let peak = 0;
    const order: number[] = [];
    const releases: (() => void)[] = [];
    const tasks = [0, 1, 2, 3].map((i) =>
      semaphore.run(async () => {
        running += 1;
        peak = Math.max(peak, running);
        order.push(i);
        await new Promise<void>((resolve) => releases.push(resolve));
        running -= 1;
      }),
    );
    await new Promise((resolve) => setImmediate(resolve));
    expect(order).toEqual([0, 1]);
    releases.shift()?.();
    await new Promise((resolve) => setImmediate(resolve));
    expect(order).toEqual([0, 1, 2]);
    while (releases.length > 0 || order.length < 4) {
      releases.shift()?.();
      await new Promise((resolve) => setImmediate(resolve));
    }
    await Promise.all(tasks);
    expect(order).toEqual([0, 1, 2, 3]);
    expect(peak).toBe(2);
  });

  it('frees the slot when the work throws', async () => {
    const semaphore = new Semaphore(1);
    await expect(semaphore.run(() => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    await expect(semaphore.run(() => Promise.resolve('next'))).resolves.toBe('next');
  });
});

describe('consumerTransactionSlots', () => {
  it('keeps a third of the pool (at most three connections) free for work outside consumer transactions', () => {
    expect([2, 6, 10, 30].map(reservedConnections)).toEqual([0, 2, 3, 3]);
    const pool10 = { options: { extra: { max: 10 } } } as unknown as DataSource;
    expect(consumerTransactionSlots(pool10).size).toBe(7);
    expect(consumerTransactionSlots(pool10)).toBe(consumerTransactionSlots(pool10));
    const pool1 = { options: { extra: { max: 1 } } } as unknown as DataSource;
    expect(consumerTransactionSlots(pool1).size).toBe(1);
  });
});
