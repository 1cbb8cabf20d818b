import type { DataSource } from 'typeorm';

/** FIFO counting semaphore. */
export class Semaphore {
  #available: number;
  readonly #waiting: (() => void)[] = [];

  constructor(readonly size: number) {
    this.#available = size;
  }

  async run<T>(work: () => Promise<T>): Promise<T> {
    if (this.#available > 0) {
      this.#available -= 1;
    } else {
      await new Promise<void>((resolve) => this.#waiting.push(resolve));
    }
    try {
      return await work();
    } finally {
      const next = this.#waiting.shift();
      if (next === undefined) {
        this.#available += 1;
      } else {
        next();
      }
    }
  }
}

const slotsByDataSource = new WeakMap<DataSource, Semaphore>();

/** Pool connections kept free of consumer transactions: a third of the pool, at most three. */
export function reservedConnections(poolSize: number): number {
  return Math.min(3, Math.floor(poolSize / 3));
}

/**
 * The consumer transactions one process may hold open at once, shared by every consumer group on the same
 * DataSource. Handlers often need a second connection while their transaction is open (a rate-limit row, a
 * token read, a lock); with every pool connection held by a consumer transaction those would wait forever.
 * Prefetch and shards multiply in-flight deliveries well past the pool size, so the bound is enforced here.
 */
export function consumerTransactionSlots(dataSource: DataSource): Semaphore {
  let slots = slotsByDataSource.get(dataSource);
  if (slots === undefined) {
    const poolSize = (dataSource.options as { extra?: { max?: number } }).extra?.max ?? 10;
    slots = new Semaphore(Math.max(1, poolSize - reservedConnections(poolSize)));
    slotsByDataSource.set(dataSource, slots);
  }
  return slots;
}
