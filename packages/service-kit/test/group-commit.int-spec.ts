import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { DataSource, EntityManager } from 'typeorm';
import { createDataSource, GroupCommit } from '../src/index.js';
import { dropSchema, testDatabaseUrl, uniqueSchema, withClient } from './support.js';

describe('GroupCommit', () => {
  const schema = uniqueSchema('groupcommit');
  let dataSource: DataSource;

  beforeAll(async () => {
    await withClient((client) =>
      client.query(
        `CREATE SCHEMA "${schema}";
         CREATE TABLE "${schema}".notes (id integer PRIMARY KEY, txid bigint NOT NULL DEFAULT txid_current())`,
      ),
    );
    dataSource = createDataSource({ url: testDatabaseUrl, schema, poolSize: 4, migrations: [] });
    await dataSource.initialize();
  });

  afterAll(async () => {
    await dataSource.destroy();
    await dropSchema(schema);
  });

  const notes = async (): Promise<{ id: number; txid: string }[]> =>
    dataSource.query(`SELECT id, txid::text FROM "${schema}".notes ORDER BY id`);
  const insertEach = async (manager: EntityManager, ids: readonly number[]): Promise<string[]> => {
    const outputs: string[] = [];
    for (const id of ids) {
      await manager.query(`INSERT INTO "${schema}".notes (id) VALUES ($1)`, [id]);
      outputs.push(`stored ${id}`);
    }
    return outputs;
  };

  it('shares one commit among the items submitted while a group is stored, answering each with its own output', async () => {
    await dataSource.query(`DELETE FROM "${schema}".notes`);
    const groups = new GroupCommit<number, string>(dataSource, {
      store: insertEach,
      concurrency: 1,
      maxGroupSize: 50,
    });
    const ids = Array.from({ length: 40 }, (_, i) => i + 1);

    const answers = await Promise.all(ids.map((id) => groups.submit(id)));

    expect(answers).toEqual(ids.map((id) => `stored ${id}`));
    const stored = await notes();
    expect(stored.map((note) => note.id)).toEqual(ids);
    // The first item goes alone at once; the 39 that arrive meanwhile share the next commit.
    expect(new Set(stored.map((note) => note.txid)).size).toBe(2);
  });

  it('stores the items of a failed group again one by one, so only the failing item fails', async () => {
    await dataSource.query(`DELETE FROM "${schema}".notes`);
    await dataSource.query(`INSERT INTO "${schema}".notes (id) VALUES (13)`);
    const groups = new GroupCommit<number, string>(dataSource, {
      store: insertEach,
      concurrency: 1,
      maxGroupSize: 50,
    });

    const answers = await Promise.allSettled([10, 11, 12, 13, 14].map((id) => groups.submit(id)));

    expect(answers.map((answer) => answer.status)).toEqual([
      'fulfilled',
      'fulfilled',
      'fulfilled',
      'rejected',
      'fulfilled',
    ]);
    expect((answers[3] as PromiseRejectedResult).reason).toMatchObject({ code: '23505' });
    expect((await notes()).map((note) => note.id)).toEqual([10, 11, 12, 13, 14]);
  });

  it('never holds more connections than its concurrency', async () => {
    let open = 0;
    let mostOpen = 0;
    const groups = new GroupCommit<number, number>(dataSource, {
      store: async (_manager, items) => {
        open += 1;
        mostOpen = Math.max(mostOpen, open);
        await new Promise((resolve) => setTimeout(resolve, 10));
        open -= 1;
        return [...items];
      },
      concurrency: 2,
      maxGroupSize: 3,
    });

    const answers = await Promise.all(Array.from({ length: 30 }, (_, i) => groups.submit(i)));

    expect(answers).toEqual(Array.from({ length: 30 }, (_, i) => i));
    expect(mostOpen).toBe(2);
  });
});
