import { expectEventually } from '@inbox-bridge/testing';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { DataSource } from 'typeorm';
import { createDataSource, TablePruner } from '../src/index.js';
import { dropSchema, testDatabaseUrl, uniqueSchema, withClient } from './support.js';

const DAY_MS = 86_400_000;

describe('TablePruner', () => {
  const schema = uniqueSchema('pruner');
  let dataSource: DataSource;

  beforeAll(async () => {
    await withClient((client) =>
      client.query(
        `CREATE SCHEMA "${schema}";
         CREATE TABLE "${schema}".events (id integer PRIMARY KEY, received_at timestamptz NOT NULL);
         CREATE TABLE "${schema}".audit (id integer PRIMARY KEY, recorded_at timestamptz NOT NULL)`,
      ),
    );
    dataSource = createDataSource({ url: testDatabaseUrl, schema, poolSize: 2, migrations: [] });
    await dataSource.initialize();
  });

  afterAll(async () => {
    await dataSource.destroy();
    await dropSchema(schema);
  });

  const ages = async (table: string): Promise<number[]> =>
    (
      await dataSource.query<{ days: number }[]>(
        `SELECT round(extract(epoch FROM now() - ${table === 'events' ? 'received_at' : 'recorded_at'}) / 86400)::int AS days
           FROM "${schema}".${table} ORDER BY id`,
      )
    ).map((row) => row.days);

  it('deletes each table’s rows older than its own retention, a bounded number of batches per pass', async () => {
    await dataSource.query(
      `INSERT INTO "${schema}".events SELECT i, now() - make_interval(days => CASE WHEN i <= 25 THEN 40 ELSE 1 END)
         FROM generate_series(1, 27) AS i`,
    );
    await dataSource.query(
      `INSERT INTO "${schema}".audit VALUES (1, now() - interval '40 days'), (2, now() - interval '10 days')`,
    );
    const pruner = new TablePruner({
      dataSource,
      schema,
      tables: [
        { table: 'events', timeColumn: 'received_at', retentionMs: 30 * DAY_MS },
        { table: 'audit', timeColumn: 'recorded_at', retentionMs: 7 * DAY_MS },
      ],
      batchSize: 10,
      maxBatches: 2,
    });

    // Two batches of ten at most per table and pass: five old events wait for the next pass.
    expect(await pruner.prune()).toEqual({ events: 20, audit: 2 });
    expect((await ages('events')).filter((days) => days === 40)).toHaveLength(5);
    expect(await pruner.prune()).toEqual({ events: 5, audit: 0 });
    expect(await ages('events')).toEqual([1, 1]);
    expect(await ages('audit')).toEqual([]);
    expect(await pruner.prune()).toEqual({ events: 0, audit: 0 });
  });

  it('prunes on its own between bootstrap and shutdown: a first pass within the first interval, then every interval', async () => {
    await dataSource.query(`INSERT INTO "${schema}".audit VALUES (10, now() - interval '40 days')`);
    const pruner = new TablePruner({
      dataSource,
      schema,
      tables: [{ table: 'audit', timeColumn: 'recorded_at', retentionMs: 7 * DAY_MS }],
      everyMs: 100,
    });
    pruner.onApplicationBootstrap();
    try {
      await expectEventually(async () => (await ages('audit')).length === 0, { description: 'first pass' });
      await dataSource.query(`INSERT INTO "${schema}".audit VALUES (11, now() - interval '40 days')`);
      await expectEventually(async () => (await ages('audit')).length === 0, { description: 'a later pass' });
    } finally {
      await pruner.onApplicationShutdown();
    }
  });

  it('refuses a name that is not an identifier and a retention that is not positive', () => {
    const table = { table: 'events', timeColumn: 'received_at', retentionMs: DAY_MS };
    expect(
      () => new TablePruner({ dataSource, schema, tables: [{ ...table, table: 'events; DROP' }] }),
    ).toThrow(/Pruned table/);
    expect(() => new TablePruner({ dataSource, schema, tables: [{ ...table, retentionMs: 0 }] })).toThrow(
      /must be positive/,
    );
  });
});
