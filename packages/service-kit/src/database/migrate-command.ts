import { createDataSource, type DatabaseOptions } from './data-source.js';
import { runMigrations } from './migrations.js';

export interface MigrateCommandIo {
  log(message: string): void;
  error(message: string): void;
  exit(code: number): void;
}

const processIo: MigrateCommandIo = {
  log: (message) => process.stdout.write(`${message}\n`),
  error: (message) => process.stderr.write(`${message}\n`),
  exit: (code) => {
    process.exitCode = code;
  },
};

/**
 * Body of an app's `db:migrate` script: connect, apply pending migrations, disconnect. Exit code 0 on
 * success; 1 with a one-line reason on failure.
 */
export async function migrateCommand(
  options: DatabaseOptions,
  io: MigrateCommandIo = processIo,
): Promise<void> {
  const dataSource = createDataSource({ ...options, poolSize: Math.max(2, options.poolSize ?? 2) });
  let code = 0;
  try {
    await dataSource.initialize();
    const applied = await runMigrations(dataSource, {
      log: (message) => {
        io.log(`[migrate] ${message}`);
      },
    });
    io.log(`[migrate] done: ${applied.length} migration(s) applied to schema "${options.schema}"`);
  } catch (error) {
    code = 1;
    const reason = error instanceof Error ? error.message : String(error);
    io.error(`[migrate] FAILED for schema "${options.schema}": ${reason}`);
  } finally {
    if (dataSource.isInitialized) {
      await dataSource.destroy().catch(() => undefined);
    }
  }
  io.exit(code);
}
