import { gate } from '@inbox-bridge/testing';
import { describe, expect, it } from '@jest/globals';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { KeyedSerializer } from './keyed-serializer.js';

/** Lets every already-settled promise callback run. */
async function settle(): Promise<void> {
  for (let i = 0; i < 5; i += 1) {
    await nextTurn();
  }
}

describe('KeyedSerializer', () => {
  it('runs tasks of one key strictly one at a time, in arrival order', async () => {
    const serializer = new KeyedSerializer();
    const log: string[] = [];
    let running = 0;
    let maxRunning = 0;
    const gates = [gate(), gate(), gate()];
    const results = gates.map((g, i) =>
      serializer.run('conv-1', async () => {
        running += 1;
        maxRunning = Math.max(maxRunning, running);
        log.push(`start ${i}`);
        await g.promise;
        log.push(`end ${i}`);
        running -= 1;
        return i;
      }),
    );

    await settle();
    expect(log).toEqual(['start 0']);

    // Finishing later tasks' gates first must not let them jump the queue.
    gates[2]!.open();
    gates[1]!.open();
    await settle();
    expect(log).toEqual(['start 0']);

    gates[0]!.open();
    await expect(Promise.all(results)).resolves.toEqual([0, 1, 2]);
    expect(log).toEqual(['start 0', 'end 0', 'start 1', 'end 1', 'start 2', 'end 2']);
    expect(maxRunning).toBe(1);
  });

  it('goes on with the next task of a key after one rejects, and reports the rejection to its caller', async () => {
    const serializer = new KeyedSerializer();
    const log: string[] = [];
    const first = gate();
    const failing = serializer.run('conv-1', async () => {
      log.push('start failing');
      await first.promise;
      return 'unreachable';
    });
    const next = serializer.run('conv-1', () => {
      log.push('start next');
      return Promise.resolve('next done');
    });

    await settle();
    expect(log).toEqual(['start failing']);

    first.fail(new Error('handler failed'));
    await expect(failing).rejects.toThrow('handler failed');
    await expect(next).resolves.toBe('next done');
    expect(log).toEqual(['start failing', 'start next']);
  });

  it('runs a task that throws synchronously as a rejection and still runs the next one', async () => {
    const serializer = new KeyedSerializer();
    const throwing = serializer.run('k', () => {
      throw new Error('sync failure');
    });
    const next = serializer.run('k', () => Promise.resolve(7));
    await expect(throwing).rejects.toThrow('sync failure');
    await expect(next).resolves.toBe(7);
  });

  it('lets tasks of different keys overlap', async () => {
    const serializer = new KeyedSerializer();
    const started: string[] = [];
    const a = gate();
    const b = gate();
    const runA = serializer.run('conv-a', async () => {
      started.push('a');
      await a.promise;
      return 'a';
    });
    const runB = serializer.run('conv-b', async () => {
      started.push('b');
      await b.promise;
      return 'b';
    });

    await settle();
    expect(started).toEqual(['a', 'b']);
    expect(serializer.activeKeys).toBe(2);

    // b finishes while a is still running.
    b.open();
    await expect(runB).resolves.toBe('b');
    a.open();
    await expect(runA).resolves.toBe('a');
  });

  it('forgets a key once its last task has finished', async () => {
    const serializer = new KeyedSerializer();
    expect(serializer.activeKeys).toBe(0);
    const first = gate();
    const second = gate();
    const other = gate();
    const runs = [
      serializer.run('k', () => first.promise),
      serializer.run('k', () => second.promise),
      serializer.run('other', () => other.promise),
    ];
    expect(serializer.activeKeys).toBe(2);

    first.open();
    await runs[0];
    await settle();
    // The key still has a task waiting.
    expect(serializer.activeKeys).toBe(2);

    other.open();
    await runs[2];
    await settle();
    expect(serializer.activeKeys).toBe(1);

    second.open();
    await runs[1];
    await settle();
    expect(serializer.activeKeys).toBe(0);
  });

  it('forgets a key whose last task rejected', async () => {
    const serializer = new KeyedSerializer();
    const run = serializer.run('k', () => Promise.reject(new Error('nope')));
    await expect(run).rejects.toThrow('nope');
    await settle();
    expect(serializer.activeKeys).toBe(0);
  });

  it('can use a key again after it was forgotten', async () => {
    const serializer = new KeyedSerializer();
    await serializer.run('k', () => Promise.resolve(1));
    await settle();
    expect(serializer.activeKeys).toBe(0);
    await expect(serializer.run('k', () => Promise.resolve(2))).resolves.toBe(2);
    await settle();
    expect(serializer.activeKeys).toBe(0);
  });
});
