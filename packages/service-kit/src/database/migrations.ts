import { Logger } from '@nestjs/common';
import type { DataSource } from 'typeorm';
import { assertSqlIdentifier } from './data-source.js';

export interface MigrationLogger {
  log(message: string): void;
}

/**
 * Creates the schema if needed and applies pending migrations, one transaction each. Runs under a
 * PostgreSQL advisory lock per schema so two migration jobs never interleave (needs a pool of ≥ 2).
 * Returns the names of the migrations applied.
 */
export async function runMigrations(
  dataSource: DataSource,
  logger: MigrationLogger = new Logger('Migrations'),
): Promise<string[]> {
  const schema = (dataSource.options as { schema?: string }).schema;
  if (schema === undefined) {
    throw new Error('runMigrations needs a DataSource created with a schema');
  }
  assertSqlIdentifier(schema, 'Database schema');
  const lockKey = `inbox-bridge:migrations:${schema}`;
  const poolSize = (dataSource.options.extra as { max?: number } | undefined)?.max ?? 10;
  const lockRunner = poolSize >= 2 ? dataSource.createQueryRunner() : undefined;
  try {
    await lockRunner?.query('SELECT pg_advisory_lock(hashtext($1))', [lockKey]);
    try {
      await dataSource.query(`CREATE SCHEMA IF NOT EXISTS "${schema}"`);
      const applied = await dataSource.runMigrations({ transaction: 'each' });
      for (const migration of applied) {
        logger.log(`applied migration ${migration.name} in schema "${schema}"`);
      }
      if (applied.length === 0) {
        logger.log(`schema "${schema}" is up to date, no pending migrations`);
      }
      return applied.map((migration) => migration.name);
    } finally {
      await lockRunner?.query('SELECT pg_advisory_unlock(hashtext($1))', [lockKey]);
    }
  } finally {
    await lockRunner?.release();
  }
}
