import type { EntityManager } from 'typeorm';
import type { MessageContext } from './message-context.js';

/**
 * Writes that the handlers of one transaction (a batch) each ask for and that one statement makes for all of them:
 * collected per transaction and handed to `flush` once, just before it commits (`MessageContext.beforeCommit`).
 * A handler reading what it asked for would not see it yet: use this only for writes nobody in the batch reads.
 */
export class CommitBatch<T> {
  private readonly pending = new WeakMap<EntityManager, T[]>();

  constructor(private readonly flush: (manager: EntityManager, items: readonly T[]) => Promise<void>) {}

  add(context: Pick<MessageContext, 'manager' | 'beforeCommit'>, item: T): void {
    const { manager } = context;
    const waiting = this.pending.get(manager);
    if (waiting !== undefined) {
      waiting.push(item);
      return;
    }
    const items = [item];
    this.pending.set(manager, items);
    context.beforeCommit(async () => {
      this.pending.delete(manager);
      await this.flush(manager, items);
    });
  }
}
