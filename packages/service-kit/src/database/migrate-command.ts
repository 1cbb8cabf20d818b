import { declareTopology, type ConsumerGroupSpec } from '@inbox-bridge/messaging';
import { commonConfigSchema, type CommonConfig } from '../config/common-config.js';
import { failFastOnConfigError } from '../config/fail-fast.js';
import { loadConfig, type Env } from '../config/load-config.js';
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

export interface MigrateCommandOptions {
  /**
   * The service's consumer groups, declared on the broker once the migrations are applied, so that every
   * group's queues exist before any service of the release publishes.
   */
  readonly topology?: { readonly amqpUrl: string; readonly consumerGroups: readonly ConsumerGroupSpec[] };
  readonly io?: MigrateCommandIo;
}

/**
 * Body of an app's `db:migrate` script: connect, apply pending migrations, disconnect, then declare the
 * service's RabbitMQ topology. Exit code 0 on success; 1 with a one-line reason on failure.
 */
export async function migrateCommand(
  options: DatabaseOptions,
  { topology, io = processIo }: MigrateCommandOptions = {},
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
    io.error(`[migrate] FAILED for schema "${options.schema}": ${reasonOf(error)}`);
  } finally {
    if (dataSource.isInitialized) {
      await dataSource.destroy().catch(() => undefined);
    }
  }
  if (code === 0 && topology !== undefined) {
    try {
      const declared = await declareTopology(topology.amqpUrl, topology.consumerGroups, {
        connectionName: `${options.applicationName ?? options.schema} migrate`,
      });
      io.log(`[migrate] declared the RabbitMQ topology of ${declared.length} consumer group(s)`);
    } catch (error) {
      code = 1;
      io.error(`[migrate] FAILED to declare the RabbitMQ topology: ${reasonOf(error)}`);
    }
  }
  io.exit(code);
}

/**
 * A service's `migrate.ts`: {@link migrateCommand} with its consumer groups' topology, validating only the variables
 * migrating uses (the common ones: database, broker, keys). A migration Job has those, not the public origins and
 * app credentials the service itself requires in production. Bad variables: exit 78 naming them.
 */
export async function migrateService(
  databaseOptions: (config: CommonConfig) => DatabaseOptions,
  consumerGroups: readonly ConsumerGroupSpec[],
  { env = process.env, io }: { readonly env?: Env; readonly io?: MigrateCommandIo } = {},
): Promise<void> {
  const config = failFastOnConfigError(() => loadConfig(commonConfigSchema, env));
  await migrateCommand(databaseOptions(config), {
    topology: { amqpUrl: config.AMQP_URL, consumerGroups },
    ...(io === undefined ? {} : { io }),
  });
}

function reasonOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
