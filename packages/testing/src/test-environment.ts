import { execFile, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { promisify } from 'node:util';
import pg from 'pg';
import { DataSource, type MigrationInterface } from 'typeorm';

/** Connection defaults of the development and CI machines; override with TEST_DATABASE_URL / TEST_AMQP_URL. */
export const testDatabaseUrl =
  process.env['TEST_DATABASE_URL'] ?? 'postgres://postgres@127.0.0.1:5432/postgres';
export const testAmqpUrl = process.env['TEST_AMQP_URL'] ?? 'amqp://guest:guest@127.0.0.1:5672';

export function uniqueName(prefix: string): string {
  return `${prefix}_${Date.now().toString(36)}_${randomBytes(3).toString('hex')}`;
}

export interface TestVhost {
  readonly name: string;
  readonly url: string;
  /** Every queue of the vhost with the messages ready in it. */
  queues(): Promise<{ name: string; messages: number }[]>;
  dispose(): Promise<void>;
}

const run = promisify(execFile);

/**
 * rabbitmqctl, tried again once after a timeout. The CLI is a shell wrapper around an Erlang VM that takes one of a few distribution
 * ports; a timeout kills only the wrapper, and the orphaned VM keeps its port, so enough of them make every later
 * call hang. After a timeout the call's own VM (found by its unique arguments) is killed before the retry.
 */
async function rabbitmqctl(...args: string[]): Promise<string> {
  try {
    return (await run('rabbitmqctl', ['-q', ...args], { timeout: 30_000 })).stdout;
  } catch (error) {
    if ((error as { killed?: boolean }).killed !== true) {
      throw error;
    }
    spawnSync('pkill', ['-f', `rabbitmqctl_escript.* ${args.join(' ')}$`]);
    return (await run('rabbitmqctl', ['-q', ...args], { timeout: 30_000 })).stdout;
  }
}

/** A RabbitMQ vhost of its own, so that suites never see each other's queues. */
export async function createTestVhost(prefix = 'test'): Promise<TestVhost> {
  const name = uniqueName(prefix);
  await rabbitmqctl('add_vhost', name);
  await rabbitmqctl('set_permissions', '-p', name, 'guest', '.*', '.*', '.*');
  const base = new URL(testAmqpUrl);
  base.pathname = `/${encodeURIComponent(name)}`;
  return {
    name,
    url: base.toString(),
    queues: async () =>
      (await rabbitmqctl('list_queues', '-p', name, '--no-table-headers', 'name', 'messages_ready'))
        .split('\n')
        .map((line) => line.trim().split(/\s+/))
        .filter((fields): fields is [string, string] => fields.length === 2 && /^\d+$/.test(fields[1] ?? ''))
        .map(([queue, messages]) => ({ name: queue, messages: Number(messages) })),
    dispose: () =>
      rabbitmqctl('delete_vhost', name).then(
        () => undefined,
        (error: unknown) => {
          // A first attempt that timed out may have deleted it after all: gone is what dispose wants.
          if (!String((error as { stderr?: unknown }).stderr ?? error).includes('does not exist')) {
            throw error;
          }
        },
      ),
  };
}

export interface TestDatabase {
  readonly schema: string;
  readonly url: string;
  readonly dataSource: DataSource;
  dispose(): Promise<void>;
}

function assertTestDatabase(url: string): void {
  const name = new URL(url).pathname.slice(1);
  if (!['postgres', 'test'].includes(name) && !/test/i.test(name)) {
    throw new Error(`refusing to run tests against database "${name}": use a test database`);
  }
}

/**
 * A PostgreSQL schema of its own with the given migrations applied, through the same TypeORM migration
 * runner the services use. Dropped on dispose.
 */
export async function createTestDatabase(
  prefix: string,
  migrations: (new () => MigrationInterface)[],
  options: { poolSize?: number } = {},
): Promise<TestDatabase> {
  assertTestDatabase(testDatabaseUrl);
  const schema = uniqueName(prefix).toLowerCase();
  const admin = new pg.Client({ connectionString: testDatabaseUrl });
  await admin.connect();
  await admin.query(`CREATE SCHEMA "${schema}"`);
  await admin.end();
  const dataSource = new DataSource({
    type: 'postgres',
    url: testDatabaseUrl,
    schema,
    migrations,
    migrationsTableName: 'migrations',
    synchronize: false,
    extra: {
      max: options.poolSize ?? 10,
      application_name: `test:${schema}`,
      options: `-c search_path=${schema},public`,
    },
  });
  await dataSource.initialize();
  await dataSource.runMigrations({ transaction: 'each' });
  return {
    schema,
    url: testDatabaseUrl,
    dataSource,
    dispose: async () => {
      if (dataSource.isInitialized) {
        await dataSource.destroy();
      }
      const cleanup = new pg.Client({ connectionString: testDatabaseUrl });
      await cleanup.connect();
      await cleanup.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
      await cleanup.end();
    },
  };
}
