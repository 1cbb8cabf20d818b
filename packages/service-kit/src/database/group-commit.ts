import type { DataSource, EntityManager } from 'typeorm';

export interface GroupCommitOptions<I, O> {
  /**
   * Stores a group: every item's effects, outputs in the items' order. `manager` is in a transaction, unless
   * `transaction` is false (for work that is one statement, which commits alone).
   */
  readonly store: (manager: EntityManager, items: readonly I[]) => Promise<O[]>;
  /** Groups stored at once, each holding one pooled connection; keep it well below the pool size. */
  readonly concurrency: number;
  /** Items one group takes at most. */
  readonly maxGroupSize: number;
  /** Default true. */
  readonly transaction?: boolean;
}

interface Pending<I, O> {
  readonly item: I;
  readonly resolve: (output: O) => void;
  readonly reject: (error: unknown) => void;
}

/**
 * Group commit: the items submitted while earlier groups are being stored share one commit, so many concurrent
 * requests pay for one round trip set and one WAL flush instead of one each. An idle service stores each item at
 * once, alone: grouping adds no wait, it only replaces queueing for a connection. Each caller is answered only
 * after its own item is committed. When a group fails, nothing of it committed and each of its items is stored
 * again alone, so an item that fails fails alone (`store` must therefore be safe to run again for an item).
 */
export class GroupCommit<I, O> {
  private readonly queue: Pending<I, O>[] = [];
  private inFlight = 0;

  constructor(
    private readonly dataSource: DataSource,
    private readonly options: GroupCommitOptions<I, O>,
  ) {}

  submit(item: I): Promise<O> {
    return new Promise<O>((resolve, reject) => {
      this.queue.push({ item, resolve, reject });
      this.pump();
    });
  }

  private pump(): void {
    while (this.inFlight < this.options.concurrency && this.queue.length > 0) {
      const group = this.queue.splice(0, this.options.maxGroupSize);
      this.inFlight += 1;
      void this.storeGroup(group).finally(() => {
        this.inFlight -= 1;
        this.pump();
      });
    }
  }

  private async storeGroup(group: readonly Pending<I, O>[]): Promise<void> {
    let outputs: O[];
    try {
      outputs = await this.store(group.map((pending) => pending.item));
    } catch (error) {
      if (group.length === 1) {
        group[0]?.reject(error);
        return;
      }
      for (const pending of group) {
        try {
          const [output] = await this.store([pending.item]);
          pending.resolve(output as O);
        } catch (alone) {
          pending.reject(alone);
        }
      }
      return;
    }
    group.forEach((pending, index) => {
      pending.resolve(outputs[index] as O);
    });
  }

  private store(items: readonly I[]): Promise<O[]> {
    return this.options.transaction === false
      ? this.options.store(this.dataSource.manager, items)
      : this.dataSource.transaction((manager) => this.options.store(manager, items));
  }
}
