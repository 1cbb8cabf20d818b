import { Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import type { DataSource } from 'typeorm';
import { assertSqlIdentifier } from './data-source.js';

/** A table whose rows older than `retentionMs` (by `timeColumn`) are no longer needed. */
export interface RetainedTable {
  readonly table: string;
  readonly timeColumn: string;
  readonly retentionMs: number;
}

export interface TablePrunerOptions {
  readonly dataSource: DataSource;
  readonly schema: string;
  readonly tables: readonly RetainedTable[];
  /** Between passes; default an hour. */
  readonly everyMs?: number;
  /** Rows per DELETE; default 10,000. */
  readonly batchSize?: number;
  /** DELETEs per table and pass at most, so one pass stays short; default 100. */
  readonly maxBatches?: number;
}

/**
 * Deletes, every `everyMs`, the rows of tables that grow with traffic once they are older than their retention, a
 * batch per statement (give the time column an index; BRIN suits rows written in time order). Every replica may
 * run it: a row another deleted first is simply not found. Nest runs it between bootstrap and shutdown.
 */
export class TablePruner implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(TablePruner.name);
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<Record<string, number> | undefined> | undefined;

  constructor(private readonly options: TablePrunerOptions) {
    assertSqlIdentifier(options.schema, 'Pruned schema');
    for (const { table, timeColumn, retentionMs } of options.tables) {
      assertSqlIdentifier(table, 'Pruned table');
      assertSqlIdentifier(timeColumn, 'Pruned time column');
      if (!(retentionMs > 0)) {
        throw new RangeError(`${table}: the retention must be positive, got ${retentionMs}`);
      }
    }
  }

  onApplicationBootstrap(): void {
    if (this.options.tables.length === 0) {
      return;
    }
    const everyMs = this.options.everyMs ?? 3_600_000;
    // The first pass comes at a random point of the first interval: a process restarted more often than hourly
    // still prunes, and replicas started together do not prune together.
    this.timer = setTimeout(() => {
      void this.prune();
      this.timer = setInterval(() => void this.prune(), everyMs);
      this.timer.unref();
    }, Math.random() * everyMs);
    this.timer.unref();
  }

  async onApplicationShutdown(): Promise<void> {
    clearTimeout(this.timer);
    clearInterval(this.timer);
    await this.running;
  }

  /**
   * One pass, after the one in progress if any (so it sees every row written before the call): rows deleted per
   * table, or undefined when it failed (logged).
   */
  prune(): Promise<Record<string, number> | undefined> {
    const pass = (this.running ?? Promise.resolve()).then(() => this.loggedPass());
    this.running = pass;
    return pass;
  }

  private loggedPass(): Promise<Record<string, number> | undefined> {
    return this.pass().then(
      (pruned) => {
        if (Object.values(pruned).some((count) => count > 0)) {
          this.logger.log({ pruned }, 'rows past their retention deleted');
        }
        return pruned;
      },
      (error: unknown) => {
        this.logger.warn({ err: String(error) }, 'pruning failed; the next pass tries again');
        return undefined;
      },
    );
  }

  private async pass(): Promise<Record<string, number>> {
    const { dataSource, schema, tables, batchSize = 10_000, maxBatches = 100 } = this.options;
    const pruned: Record<string, number> = {};
    for (const { table, timeColumn, retentionMs } of tables) {
      pruned[table] = 0;
      for (let batch = 0; batch < maxBatches; batch += 1) {
        const [, deleted] = await dataSource.query<[unknown, number]>(
          `DELETE FROM "${schema}"."${table}" WHERE ctid = ANY(ARRAY(
             SELECT ctid FROM "${schema}"."${table}"
              WHERE "${timeColumn}" < now() - make_interval(secs => $1::float8 / 1000) LIMIT $2))`,
          [retentionMs, batchSize],
        );
        pruned[table] += deleted;
        if (deleted < batchSize) {
          break;
        }
      }
    }
    return pruned;
  }
}
