import * as testing from '@inbox-bridge/testing';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import {
  CHANNEL_ACCOUNT_DIRECTORY,
  type ChannelAccountDirectory,
} from '../../src/accounts/channel-account-directory.js';
import {
  ChannelAccountRepository,
  type StoredChannelAccount,
} from '../../src/accounts/channel-account.repository.js';
import { gatewayMigrations } from '../../src/database/data-source.js';
import { HubSpotWebhookWorker } from '../../src/webhooks/hubspot-webhook.worker.js';
import { startGatewayUnderTest, type GatewayUnderTest } from './gateway-under-test.js';

const account = (id: string, changes: Partial<StoredChannelAccount> = {}): StoredChannelAccount => ({
  channelAccountId: id,
  portalId: '4242',
  channelId: '9001',
  inboxId: '311',
  inboxType: 'HELP_DESK',
  provider: 'twilio',
  name: 'Support line',
  deliveryIdentifier: { type: 'HS_PHONE_NUMBER', value: '+14155550100' },
  authorized: true,
  active: true,
  archived: false,
  ...changes,
});

describe('channel account store and CHANNEL_ACCOUNT_DIRECTORY', () => {
  let db: testing.TestDatabase;
  let vhost: testing.TestVhost;
  let gateway: GatewayUnderTest;
  let directory: ChannelAccountDirectory;
  let repository: ChannelAccountRepository;

  beforeAll(async () => {
    [db, vhost] = await Promise.all([
      testing.createTestDatabase('gateway_accounts_dir', gatewayMigrations, { poolSize: 2 }),
      testing.createTestVhost('gateway_accounts_dir'),
    ]);
    gateway = await startGatewayUnderTest(db, vhost);
    directory = gateway.app.get<ChannelAccountDirectory>(CHANNEL_ACCOUNT_DIRECTORY);
    repository = gateway.app.get(ChannelAccountRepository);
  });

  afterAll(async () => {
    await gateway.app.close();
    await db.dispose();
    await vhost.dispose();
  });

  it('finds a stored account with every field, and nothing for an unknown or archived one', async () => {
    await db.dataSource.transaction((manager) => repository.insertIfNew(manager, account('5000001')));
    await db.dataSource.transaction((manager) =>
      repository.insertIfNew(manager, account('5000002', { archived: true })),
    );

    expect(await directory.find('5000001')).toEqual({
      channelAccountId: '5000001',
      portalId: '4242',
      channelId: '9001',
      inboxId: '311',
      inboxType: 'HELP_DESK',
      provider: 'twilio',
      name: 'Support line',
      deliveryIdentifier: { type: 'HS_PHONE_NUMBER', value: '+14155550100' },
      authorized: true,
      active: true,
    });
    expect(await directory.find('5000002')).toBeUndefined();
    expect(await directory.find('404')).toBeUndefined();
  });

  it('the messages of one transaction share one read of an account; the next transaction reads it again', async () => {
    await db.dataSource.transaction((manager) => repository.insertIfNew(manager, account('5000009')));
    await db.dataSource.transaction(async (batch) => {
      expect(await directory.findForTransaction(batch, '5000009')).toMatchObject({ active: true });
      // Turned off meanwhile, by another transaction: the batch goes on with the account it began with.
      await db.dataSource.query(
        `UPDATE "${db.schema}".channel_accounts SET active = false WHERE channel_account_id = $1`,
        ['5000009'],
      );
      expect(await directory.findForTransaction(batch, '5000009')).toMatchObject({ active: true });
    });
    await db.dataSource.transaction(async (next) => {
      expect(await directory.findForTransaction(next, '5000009')).toMatchObject({ active: false });
    });
    expect(await directory.findForTransaction(db.dataSource.manager, '404')).toBeUndefined();
  });

  it('inserts an account once: a second insert changes nothing', async () => {
    const first = await db.dataSource.transaction((m) => repository.insertIfNew(m, account('5000003')));
    const second = await db.dataSource.transaction((m) =>
      repository.insertIfNew(m, account('5000003', { name: 'Other name' })),
    );
    expect([first, second]).toEqual([true, false]);
    expect((await directory.find('5000003'))?.name).toBe('Support line');
  });

  it('remembers conversations by thread and by customer address, and purge forgets them with the account', async () => {
    const customer = { type: 'HS_PHONE_NUMBER', value: '+14155550199' } as const;
    await db.dataSource.transaction((manager) => repository.insertIfNew(manager, account('5000004')));
    await db.dataSource.transaction((manager) =>
      directory.rememberConversations(manager, [
        {
          channelAccountId: '5000004',
          deliveryIdentifier: customer,
          conversationKey: '+14155550199',
          hubspotThreadId: '7001',
        },
      ]),
    );
    const manager = db.dataSource.manager;
    expect(await repository.findConversation(manager, '5000004', { hubspotThreadId: '7001' })).toBe(
      '+14155550199',
    );
    expect(
      await repository.findConversation(manager, '5000004', {
        hubspotThreadId: 'unknown',
        deliveryIdentifier: customer,
      }),
    ).toBe('+14155550199');
    expect(
      await repository.findConversation(manager, '5000001', { hubspotThreadId: '7001' }),
    ).toBeUndefined();

    await db.dataSource.transaction((m) => repository.purge(m, '5000004'));
    expect(await directory.find('5000004')).toBeUndefined();
    expect(
      await repository.findConversation(manager, '5000004', {
        hubspotThreadId: '7001',
        deliveryIdentifier: customer,
      }),
    ).toBeUndefined();
  });

  it('prunes processed webhooks past the retention, keeps recent and unprocessed ones', async () => {
    const insert = (key: string, processedAgo: string | null) =>
      db.dataSource.query(
        `INSERT INTO "${db.schema}".hubspot_webhook_events
           (portal_id, dedupe_key, event_type, payload, ordering_key, processed_at, outcome, next_attempt_at)
         VALUES (1, $1, 'CHANNEL_ACCOUNT_PURGED', '{}'::jsonb, 'account:prune',
                 CASE WHEN $2::text IS NULL THEN NULL ELSE now() - $2::interval END,
                 CASE WHEN $2::text IS NULL THEN NULL ELSE 'stored' END, now() + interval '1 day')`,
        [key, processedAgo],
      );
    await insert('prune:old', '8 days');
    await insert('prune:recent', '1 day');
    await insert('prune:pending', null);
    const deleted = await gateway.app.get(HubSpotWebhookWorker, { strict: false }).pruneProcessed();
    expect(deleted).toBe(1);
    const left = await db.dataSource.query<{ dedupe_key: string }[]>(
      `SELECT dedupe_key FROM "${db.schema}".hubspot_webhook_events WHERE dedupe_key LIKE 'prune:%' ORDER BY dedupe_key`,
    );
    expect(left.map((row) => row.dedupe_key)).toEqual(['prune:pending', 'prune:recent']);
  });
});
