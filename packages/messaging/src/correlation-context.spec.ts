import { describe, expect, it } from '@jest/globals';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { correlationContext, type CorrelationScope } from './correlation-context.js';

const uuid = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

describe('correlationContext', () => {
  it('has no scope outside run', () => {
    expect(correlationContext.current()).toBeUndefined();
  });

  it('returns a fresh UUID from correlationId() outside any scope, every time', () => {
    const ids = Array.from({ length: 5 }, () => correlationContext.correlationId());
    for (const id of ids) {
      expect(id).toMatch(uuid);
    }
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('exposes the scope and its correlation id inside run, and returns what fn returns', () => {
    const scope: CorrelationScope = { correlationId: 'corr-1', messageId: 'msg-1', attempt: 2 };
    const result = correlationContext.run(scope, () => {
      expect(correlationContext.current()).toBe(scope);
      expect(correlationContext.correlationId()).toBe('corr-1');
      expect(correlationContext.correlationId()).toBe('corr-1');
      return 'done';
    });
    expect(result).toBe('done');
    expect(correlationContext.current()).toBeUndefined();
  });

  it('lets an inner scope shadow the outer one and restores the outer one afterwards', () => {
    const seen: (string | undefined)[] = [];
    correlationContext.run({ correlationId: 'outer' }, () => {
      seen.push(correlationContext.current()?.correlationId);
      correlationContext.run({ correlationId: 'inner', messageId: 'm-2' }, () => {
        seen.push(correlationContext.current()?.correlationId);
        seen.push(correlationContext.current()?.messageId);
      });
      seen.push(correlationContext.current()?.correlationId);
      seen.push(correlationContext.current()?.messageId);
    });
    seen.push(correlationContext.current()?.correlationId);
    expect(seen).toEqual(['outer', 'inner', 'm-2', 'outer', undefined, undefined]);
  });

  it('restores the outer scope when the inner fn throws', () => {
    correlationContext.run({ correlationId: 'outer' }, () => {
      expect(() =>
        correlationContext.run({ correlationId: 'inner' }, () => {
          throw new Error('handler failed');
        }),
      ).toThrow('handler failed');
      expect(correlationContext.correlationId()).toBe('outer');
    });
  });

  it('follows async work across awaits, and keeps concurrent scopes apart', async () => {
    const inside = (id: string): Promise<string[]> =>
      correlationContext.run({ correlationId: id }, async () => {
        const seen = [correlationContext.correlationId()];
        await nextTurn();
        seen.push(correlationContext.correlationId());
        await correlationContext.run({ correlationId: `${id}/child` }, async () => {
          await nextTurn();
          seen.push(correlationContext.correlationId());
        });
        seen.push(correlationContext.correlationId());
        return seen;
      });

    const [a, b] = await Promise.all([inside('a'), inside('b')]);
    expect(a).toEqual(['a', 'a', 'a/child', 'a']);
    expect(b).toEqual(['b', 'b', 'b/child', 'b']);
    expect(correlationContext.current()).toBeUndefined();
  });
});
