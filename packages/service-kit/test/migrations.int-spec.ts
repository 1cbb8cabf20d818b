import { EVENTS_EXCHANGE, ORDERING_KEY_HEADER, type ConsumerGroupSpec } from '@inbox-bridge/messaging';
import { createTestVhost, expectEventually, type TestVhost } from '@inbox-bridge/testing';
import { afterAll, afterEach, describe, expect, it } from '@jest/globals';
import { connect } from 'amqplib';
import type { MigrationInterface, QueryRunner } from 'typeorm';
import {
  createDataSource,
  migrateCommand,
  migrateService,
  runMigrations,
  type MigrateCommandIo,
} from '../src/index.js';
import { dropSchema, testDatabaseUrl, uniqueSchema, withClient } from './support.js';

class CreateWidgets1700000000000 implements MigrationInterface {
  name = 'CreateWidgets1700000000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    // Unqualified on purpose: search_path points at the service schema.
    await queryRunner.query('CREATE TABLE widgets (id integer PRIMARY KEY, name text NOT NULL)');
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('DROP TABLE widgets');
  }
}

class AddWidgetColour1700000000001 implements MigrationInterface {
  name = 'AddWidgetColour1700000000001';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('ALTER TABLE widgets ADD COLUMN colour text');
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('ALTER TABLE widgets DROP COLUMN colour');
  }
}

class Broken1700000000002 implements MigrationInterface {
  name = 'Broken1700000000002';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('CREATE TABLE half_done (id integer)');
    await queryRunner.query('SELECT * FROM table_that_does_not_exist');
  }

  async down(): Promise<void> {
    /* nothing */
  }
}

async function tablesIn(schema: string): Promise<string[]> {
  return withClient(async (client) => {
    const result = await client.query<{ table_name: string }>(
      'SELECT table_name FROM information_schema.tables WHERE table_schema = $1 ORDER BY table_name',
      [schema],
    );
    return result.rows.map((row) => row.table_name);
  });
}

function captureIo(): MigrateCommandIo & { out: string[]; err: string[]; code?: number } {
  const io: MigrateCommandIo & { out: string[]; err: string[]; code?: number } = {
    out: [],
    err: [],
    log: (message) => io.out.push(message),
    error: (message) => io.err.push(message),
    exit: (code) => {
      io.code = code;
    },
  };
  return io;
}

const schemas: string[] = [];
function newSchema(): string {
  const schema = uniqueSchema('sk_mig');
  schemas.push(schema);
  return schema;
}

afterAll(async () => {
  for (const schema of schemas) {
    await dropSchema(schema);
  }
});

describe('runMigrations', () => {
  it('creates the schema, applies pending migrations once, and records them inside the schema', async () => {
    const schema = newSchema();
    const logged: string[] = [];
    const logger = { log: (message: string) => logged.push(message) };

    const first = createDataSource({
      url: testDatabaseUrl,
      schema,
      poolSize: 2,
      migrations: [CreateWidgets1700000000000],
    });
    await first.initialize();
    try {
      expect(await runMigrations(first, logger)).toEqual(['CreateWidgets1700000000000']);
      expect(await tablesIn(schema)).toEqual(['migrations', 'widgets']);
      expect(await runMigrations(first, logger)).toEqual([]);
      expect(logged).toEqual([
        `applied migration CreateWidgets1700000000000 in schema "${schema}"`,
        `schema "${schema}" is up to date, no pending migrations`,
      ]);
    } finally {
      await first.destroy();
    }

    const second = createDataSource({
      url: testDatabaseUrl,
      schema,
      poolSize: 2,
      migrations: [CreateWidgets1700000000000, AddWidgetColour1700000000001],
    });
    await second.initialize();
    try {
      expect(await runMigrations(second, logger)).toEqual(['AddWidgetColour1700000000001']);
      const columns = await second.query<{ column_name: string }[]>(
        'SELECT column_name FROM information_schema.columns WHERE table_schema = $1 AND table_name = $2 ORDER BY column_name',
        [schema, 'widgets'],
      );
      expect(columns.map((column) => column.column_name)).toEqual(['colour', 'id', 'name']);
      const applicationNames = await second.query<{ application_name: string }[]>(
        'SELECT application_name FROM pg_stat_activity WHERE pid = pg_backend_pid()',
      );
      expect(applicationNames[0]?.application_name).toBe(schema);
    } finally {
      await second.destroy();
    }
    expect(await tablesIn('public')).not.toContain('widgets');
  });

  it('rejects a schema name that is not a plain identifier', () => {
    expect(() => createDataSource({ url: testDatabaseUrl, schema: 'x"; DROP SCHEMA public; --' })).toThrow(
      /Database schema must match/,
    );
  });
});

describe('migrateCommand', () => {
  it('exits 0 after applying migrations and 0 again when nothing is pending', async () => {
    const schema = newSchema();
    const io = captureIo();
    await migrateCommand({ url: testDatabaseUrl, schema, migrations: [CreateWidgets1700000000000] }, { io });
    expect(io.code).toBe(0);
    expect(io.err).toEqual([]);
    expect(io.out).toContain(`[migrate] done: 1 migration(s) applied to schema "${schema}"`);

    const again = captureIo();
    await migrateCommand(
      { url: testDatabaseUrl, schema, migrations: [CreateWidgets1700000000000] },
      { io: again },
    );
    expect(again.code).toBe(0);
    expect(again.out).toContain(`[migrate] done: 0 migration(s) applied to schema "${schema}"`);
  });

  it('exits non-zero with a clear message and rolls the failed migration back', async () => {
    const schema = newSchema();
    const io = captureIo();
    await migrateCommand(
      { url: testDatabaseUrl, schema, migrations: [CreateWidgets1700000000000, Broken1700000000002] },
      { io },
    );
    expect(io.code).toBe(1);
    expect(io.err.join('\n')).toMatch(
      new RegExp(`\\[migrate\\] FAILED for schema "${schema}": .*table_that_does_not_exist`),
    );
    const tables = await tablesIn(schema);
    expect(tables).toContain('widgets');
    expect(tables).not.toContain('half_done');
  });

  it('exits non-zero when the database is unreachable', async () => {
    const io = captureIo();
    await migrateCommand({ url: 'postgres://postgres@127.0.0.1:1/postgres', schema: newSchema() }, { io });
    expect(io.code).toBe(1);
    expect(io.err[0]).toMatch(/FAILED/);
  });

  describe('with the service topology', () => {
    const ordered: ConsumerGroupSpec = {
      name: 'skmig.ordered',
      routingKeys: ['provider.message.received.v1'],
      ordered: { shards: 2 },
    };
    const plain: ConsumerGroupSpec = { name: 'skmig.plain', routingKeys: ['provider.message.received.v1'] };
    let vhost: TestVhost | undefined;

    afterEach(async () => {
      await vhost?.dispose();
      vhost = undefined;
    });

    it('declares every consumer group, so a message published before any service starts reaches each group', async () => {
      vhost = await createTestVhost('sk_mig');
      const io = captureIo();
      await migrateCommand(
        { url: testDatabaseUrl, schema: newSchema(), migrations: [CreateWidgets1700000000000] },
        { io, topology: { amqpUrl: vhost.url, consumerGroups: [ordered, plain] } },
      );
      expect(io.err).toEqual([]);
      expect(io.code).toBe(0);
      expect(io.out).toContain('[migrate] declared the RabbitMQ topology of 2 consumer group(s)');

      const connection = await connect(vhost.url);
      try {
        const channel = await connection.createConfirmChannel();
        channel.publish(EVENTS_EXCHANGE, 'provider.message.received.v1', Buffer.from('{}'), {
          headers: { [ORDERING_KEY_HEADER]: 'conversation-1' },
          mandatory: true,
        });
        await channel.waitForConfirms();
        const depth = async (queue: string) => (await channel.checkQueue(queue)).messageCount;
        await expectEventually(async () => {
          const shards = (await depth('skmig.ordered.shard-0')) + (await depth('skmig.ordered.shard-1'));
          expect([shards, await depth('skmig.plain')]).toEqual([1, 1]);
        });
        expect(await depth('skmig.ordered.dlq')).toBe(0);
      } finally {
        await connection.close();
      }
    });

    it('exits non-zero naming the broker step when RabbitMQ is unreachable, after the migrations', async () => {
      const schema = newSchema();
      const io = captureIo();
      await migrateCommand(
        { url: testDatabaseUrl, schema, migrations: [CreateWidgets1700000000000] },
        { io, topology: { amqpUrl: 'amqp://guest:guest@127.0.0.1:1', consumerGroups: [plain] } },
      );
      expect(io.code).toBe(1);
      expect(io.err.join('\n')).toMatch(
        /\[migrate\] FAILED to declare the RabbitMQ topology: .*ECONNREFUSED/,
      );
      expect(await tablesIn(schema)).toContain('widgets');
    });

    it("migrateService needs only the common variables, even in production (a migration Job has no service's public origins)", async () => {
      vhost = await createTestVhost('sk_mig');
      const schema = newSchema();
      const io = captureIo();
      await migrateService(
        (config) => ({
          url: config.DATABASE_URL,
          schema: config.DATABASE_SCHEMA,
          migrations: [CreateWidgets1700000000000],
        }),
        [plain],
        {
          io,
          env: {
            NODE_ENV: 'production',
            DATABASE_URL: testDatabaseUrl,
            DATABASE_SCHEMA: schema,
            AMQP_URL: vhost.url,
            ENCRYPTION_KEYS: `k1:${Buffer.alloc(32, 7).toString('base64')}`,
            ENCRYPTION_ACTIVE_KEY_ID: 'k1',
          },
        },
      );
      expect(io.err).toEqual([]);
      expect(io.code).toBe(0);
      expect(await tablesIn(schema)).toContain('widgets');
    });

    it('declares nothing when a consumer group is invalid', async () => {
      vhost = await createTestVhost('sk_mig');
      const io = captureIo();
      await migrateCommand(
        { url: testDatabaseUrl, schema: newSchema(), migrations: [] },
        {
          io,
          topology: { amqpUrl: vhost.url, consumerGroups: [plain, { ...ordered, ordered: { shards: 0 } }] },
        },
      );
      expect(io.code).toBe(1);
      expect(io.err.join('\n')).toMatch(
        /consumer group skmig.ordered: shards must be an integer between 1 and 64/,
      );
      const connection = await connect(vhost.url);
      try {
        const channel = await connection.createChannel();
        channel.on('error', () => undefined);
        await expect(channel.checkQueue('skmig.plain')).rejects.toThrow(/NOT_FOUND/);
      } finally {
        await connection.close().catch(() => undefined);
      }
    });
  });
});
