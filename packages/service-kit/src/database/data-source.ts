import { Logger } from '@nestjs/common';
import { DataSource, type EntitySchema, type MixedList, type Logger as TypeOrmLogger } from 'typeorm';
import { SQL_IDENTIFIER_PATTERN } from '../config/fields.js';

export interface DatabaseOptions {
  /** `postgres://…` */
  readonly url: string;
  /** The service's own schema; tables and the migrations table live there. */
  readonly schema: string;
  readonly poolSize?: number;
  // eslint-disable-next-line @typescript-eslint/no-unsafe-function-type -- TypeORM's own type for classes
  readonly migrations?: MixedList<Function | string>;
  // eslint-disable-next-line @typescript-eslint/no-unsafe-function-type -- TypeORM's own type for classes
  readonly entities?: MixedList<Function | string | EntitySchema>;
  /** Shown in `pg_stat_activity.application_name`. */
  readonly applicationName?: string;
  readonly migrationsTableName?: string;
}

export const DEFAULT_MIGRATIONS_TABLE = 'migrations';

export function assertSqlIdentifier(value: string, what: string): void {
  if (!SQL_IDENTIFIER_PATTERN.test(value) || value.length > 63) {
    throw new Error(
      `${what} must match ${SQL_IDENTIFIER_PATTERN.source} (at most 63 characters), got "${value}"`,
    );
  }
}

/** Forwards TypeORM's migration, warning and error messages to the Nest logger; queries are not logged. */
class NestTypeOrmLogger implements TypeOrmLogger {
  private readonly logger = new Logger('TypeORM');

  logQuery(): void {
    /* queries are not logged */
  }

  logQueryError(error: string | Error, query: string): void {
    this.logger.error({ query, err: error }, 'query failed');
  }

  logQuerySlow(time: number, query: string): void {
    this.logger.warn({ query, durationMs: time }, 'slow query');
  }

  logSchemaBuild(): void {
    /* synchronize is off */
  }

  logMigration(message: string): void {
    this.logger.log(message);
  }

  log(level: 'log' | 'info' | 'warn', message: unknown): void {
    if (level === 'warn') {
      this.logger.warn(message);
    }
  }
}

/**
 * A PostgreSQL `DataSource` confined to one schema: no synchronize, no automatic migrations, the
 * migrations table inside the schema, and `search_path` set to the schema so raw SQL in migrations lands
 * there too. Not initialized.
 */
export function createDataSource(options: DatabaseOptions): DataSource {
  assertSqlIdentifier(options.schema, 'Database schema');
  return new DataSource({
    type: 'postgres',
    url: options.url,
    schema: options.schema,
    synchronize: false,
    migrationsRun: false,
    migrations: options.migrations ?? [],
    entities: options.entities ?? [],
    migrationsTableName: options.migrationsTableName ?? DEFAULT_MIGRATIONS_TABLE,
    migrationsTransactionMode: 'each',
    logger: new NestTypeOrmLogger(),
    logging: ['error', 'warn', 'migration'],
    extra: {
      max: options.poolSize ?? 10,
      application_name: options.applicationName ?? options.schema,
      options: `-c search_path=${options.schema},public`,
    },
  });
}
