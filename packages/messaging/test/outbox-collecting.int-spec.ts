import { RoutingKeys } from '@inbox-bridge/shared';
import { createTestDatabase, type TestDatabase } from '@inbox-bridge/testing';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { messagingMigrations, OutboxWriter } from '../src/index.js';
import { receivedPayload } from './fixtures.js';

describe('OutboxWriter.collecting', () => {
  let db: TestDatabase;
  let outbox: OutboxWriter;

  beforeAll(async () => {
    db = await createTestDatabase('collect', messagingMigrations);
    outbox = new OutboxWriter(db.schema);
  });

  afterAll(async () => {
    await db.dispose();
  });

  const rows = (): Promise<{ message_id: string }[]> =>
    db.dataSource.query(`SELECT message_id FROM "${db.schema}".outbox ORDER BY id`);
  const publish = (manager: Parameters<OutboxWriter['publish']>[0], text: string) =>
    outbox.publish(
      manager,
      RoutingKeys.ProviderMessageReceivedV1,
      receivedPayload({ conversationKey: 'c', text }),
      {
        portalId: 1,
      },
    );

  it('holds the publishes of the transaction and writes them in call order when the work ends', async () => {
    await db.dataSource.query(`DELETE FROM "${db.schema}".outbox`);
    const published = await db.dataSource.transaction((manager) =>
      outbox.collecting(manager, async () => {
        const first = await publish(manager, '1');
        const second = await publish(manager, '2');
        const seenInside: unknown[] = await manager.query(`SELECT 1 FROM "${db.schema}".outbox`);
        expect(seenInside).toHaveLength(0);
        return [first.messageId, second.messageId];
      }),
    );
    expect((await rows()).map((row) => row.message_id)).toEqual(published);
  });

  it('writes nothing when the work throws, and checks the contract at the publish call', async () => {
    await db.dataSource.query(`DELETE FROM "${db.schema}".outbox`);
    await expect(
      db.dataSource.transaction((manager) =>
        outbox.collecting(manager, async () => {
          await publish(manager, '1');
          throw new Error('the handler failed');
        }),
      ),
    ).rejects.toThrow('the handler failed');
    await expect(
      db.dataSource.transaction((manager) =>
        outbox.collecting(manager, () =>
          outbox.publish(manager, RoutingKeys.ProviderMessageReceivedV1, { text: 1 } as never, {
            portalId: 1,
          }),
        ),
      ),
    ).rejects.toThrow(/contract/i);
    expect(await rows()).toHaveLength(0);
  });

  it('publishes at once outside a collecting transaction', async () => {
    await db.dataSource.query(`DELETE FROM "${db.schema}".outbox`);
    await db.dataSource.transaction(async (manager) => {
      await publish(manager, '1');
      const seen: unknown[] = await manager.query(`SELECT 1 FROM "${db.schema}".outbox`);
      expect(seen).toHaveLength(1);
    });
  });
});
