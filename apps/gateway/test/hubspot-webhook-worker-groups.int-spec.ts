import { OutboxWriter, PermanentError, TransientError } from '@inbox-bridge/messaging';
import * as testing from '@inbox-bridge/testing';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Logger } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { Registry } from 'prom-client';
import { gatewayMigrations } from '../src/database/data-source.js';
import { HubSpotWebhookEventRepository } from '../src/webhooks/hubspot-webhook-event.repository.js';
import { HubSpotWebhookMetrics } from '../src/webhooks/hubspot-webhook.metrics.js';
import type { WebhookEventProcessor } from '../src/webhooks/hubspot-webhook.processing.js';
import { HubSpotWebhookWorker } from '../src/webhooks/hubspot-webhook.worker.js';
import { testGatewayConfig } from './accounts/gateway-under-test.js';

interface StoredState {
  readonly account: string;
  readonly attempts: number;
  readonly outcome: string | null;
  readonly transaction: string | null;
  readonly last_error: string | null;
}

describe('HubSpot webhook worker: the events of one claim are committed together (real PostgreSQL)', () => {
  let db: testing.TestDatabase;
  const events = new HubSpotWebhookEventRepository();

  beforeAll(async () => {
    Logger.overrideLogger(false);
    db = await testing.createTestDatabase('gateway_worker_groups', gatewayMigrations, { poolSize: 4 });
    await db.dataSource.query(
      `CREATE TABLE "${db.schema}".effects (account text PRIMARY KEY, transaction_id text NOT NULL)`,
    );
  });

  afterAll(async () => {
    await db.dispose();
  });

  /** Purge events of `accounts` (one ordering key each), stored as the intake stores them. */
  const store = async (accounts: readonly string[]): Promise<void> => {
    await db.dataSource.transaction((manager) =>
      events.insertAllIfNew(
        manager,
        accounts.map((account) => {
          const eventId = randomUUID();
          return {
            portalId: 4242,
            dedupeKey: `event:${eventId}`,
            eventType: 'CHANNEL_ACCOUNT_PURGED',
            orderingKey: `account:${account}`,
            payload: {
              type: 'CHANNEL_ACCOUNT_PURGED',
              portalId: '4242',
              channelId: '1001',
              eventTimestamp: new Date().toISOString(),
              channelAccountId: account,
              eventId,
            },
          };
        }),
      ),
    );
  };

  /** Each effect records the transaction it ran in; the accounts in `failing` fail theirs. */
  const processorFailing = (failing: ReadonlySet<string>): WebhookEventProcessor => ({
    prepare: (event) => {
      const account = 'channelAccountId' in event ? event.channelAccountId : '';
      return Promise.resolve(async (manager) => {
        await manager.query(
          `INSERT INTO "${db.schema}".effects (account, transaction_id) VALUES ($1, txid_current()::text)`,
          [account],
        );
        if (failing.has(account)) {
          throw new TransientError(`the effect of ${account} failed`);
        }
        return { outcome: 'stored' as const };
      });
    },
  });

  const runUntilSettled = async (processor: WebhookEventProcessor, accounts: readonly string[]) => {
    const worker = new HubSpotWebhookWorker(
      db.dataSource,
      testGatewayConfig(db, testing.testAmqpUrl, {
        HUBSPOT_CLIENT_SECRET: 'secret',
        WEBHOOK_WORKER_POLL_MS: '50',
        WEBHOOK_RETRY_BASE_MS: '60000',
      }),
      processor,
      events,
      new HubSpotWebhookMetrics(new Registry()),
      { outbox: new OutboxWriter(db.schema) },
    );
    worker.onApplicationBootstrap();
    try {
      return await testing.expectEventually(async () => {
        const rows = await db.dataSource.query<StoredState[]>(
          `SELECT e.payload->>'channelAccountId' AS account, e.attempts, e.outcome, e.last_error,
                  f.transaction_id AS transaction
             FROM "${db.schema}".hubspot_webhook_events e
             LEFT JOIN "${db.schema}".effects f ON f.account = e.payload->>'channelAccountId'
            WHERE e.payload->>'channelAccountId' = ANY($1) ORDER BY e.id`,
          [accounts],
        );
        if (rows.length !== accounts.length || rows.some((row) => row.outcome === null && row.attempts < 1)) {
          throw new Error('not settled yet');
        }
        if (rows.some((row) => row.outcome === null && row.last_error === null)) {
          throw new Error('not settled yet');
        }
        return rows;
      });
    } finally {
      await worker.beforeApplicationShutdown();
    }
  };

  it('does not claim again on every wake while claims find nothing (each would walk the blocked events again)', async () => {
    let claims = 0;
    // Every due event blocked behind its key's oldest one: a claim that takes 20 ms and finds nothing.
    const blockedEverywhere = Object.assign(new HubSpotWebhookEventRepository(), {
      claim: async () => {
        claims += 1;
        await testing.delay(20);
        return [];
      },
    });
    const worker = new HubSpotWebhookWorker(
      db.dataSource,
      testGatewayConfig(db, testing.testAmqpUrl, {
        HUBSPOT_CLIENT_SECRET: 'secret',
        WEBHOOK_WORKER_POLL_MS: '1000',
      }),
      processorFailing(new Set()),
      blockedEverywhere,
      new HubSpotWebhookMetrics(new Registry()),
      { outbox: new OutboxWriter(db.schema) },
    );
    worker.onApplicationBootstrap();
    // Webhooks keep arriving (each wakes the worker), as at 1,000/s.
    const waking = setInterval(() => {
      worker.wake();
    }, 2);
    try {
      await testing.delay(1_000);
    } finally {
      clearInterval(waking);
      await worker.beforeApplicationShutdown();
    }
    // Two loops claiming back to back would make about 100; each empty claim pauses both loops 4 × 20 ms.
    expect(claims).toBeGreaterThan(3);
    expect(claims).toBeLessThan(30);
  });

  it('commits the effects and processed marks of a claim in one transaction', async () => {
    const accounts = Array.from({ length: 6 }, (_, index) => `together-${index}`);
    await store(accounts);
    const rows = await runUntilSettled(processorFailing(new Set()), accounts);
    expect(rows.map((row) => row.outcome)).toEqual(accounts.map(() => 'stored'));
    // One transaction per claim, not per event (the worker's two loops may split the six between two claims).
    expect(new Set(rows.map((row) => row.transaction)).size).toBeLessThanOrEqual(2);
  });

  it('records the failures of a claim in one transaction: HubSpot down fails every event at once', async () => {
    await db.dataSource.query(`
      CREATE TABLE "${db.schema}".failure_records (id bigint, transaction_id text NOT NULL);
      CREATE FUNCTION "${db.schema}".record_failure() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
          INSERT INTO "${db.schema}".failure_records VALUES (NEW.id, txid_current()::text);
          RETURN NEW;
        END $$;
      CREATE TRIGGER failure_recorded AFTER UPDATE OF last_error ON "${db.schema}".hubspot_webhook_events
        FOR EACH ROW WHEN (NEW.last_error IS NOT NULL) EXECUTE FUNCTION "${db.schema}".record_failure();`);
    const accounts = Array.from({ length: 8 }, (_, index) => `down-${index}`);
    await store(accounts);
    const hubspotDown: WebhookEventProcessor = {
      prepare: (event) =>
        Promise.reject(
          'channelAccountId' in event && event.channelAccountId === 'down-5'
            ? new PermanentError('HubSpot refused the read (403)')
            : new TransientError('HubSpot answered 503'),
        ),
    };
    const rows = await runUntilSettled(hubspotDown, accounts);
    expect(rows.map((row) => [row.account, row.attempts, row.outcome])).toEqual(
      accounts.map((account) => [account, 1, account === 'down-5' ? 'failed' : null]),
    );
    expect(rows.find((row) => row.account === 'down-1')?.last_error).toContain('HubSpot answered 503');
    expect(rows.find((row) => row.account === 'down-5')?.last_error).toContain('(403)');
    const records = await db.dataSource.query<{ transaction_id: string }[]>(
      `SELECT r.transaction_id FROM "${db.schema}".failure_records r
         JOIN "${db.schema}".hubspot_webhook_events e ON e.id = r.id
        WHERE e.payload->>'channelAccountId' = ANY($1)`,
      [accounts],
    );
    expect(records).toHaveLength(accounts.length);
    // One transaction per claim, not per event (the worker's two loops may split the eight between two claims).
    expect(new Set(records.map((record) => record.transaction_id)).size).toBeLessThanOrEqual(2);
    await db.dataSource.query(`DROP TRIGGER failure_recorded ON "${db.schema}".hubspot_webhook_events`);
  });

  it('commits each event alone when one effect fails: only that one is retried', async () => {
    const accounts = Array.from({ length: 5 }, (_, index) => `alone-${index}`);
    await store(accounts);
    const rows = await runUntilSettled(processorFailing(new Set(['alone-2'])), accounts);
    const failed = rows.find((row) => row.account === 'alone-2');
    expect(failed).toMatchObject({ attempts: 1, outcome: null, transaction: null });
    expect(failed?.last_error).toContain('the effect of alone-2 failed');
    const committed = rows.filter((row) => row.account !== 'alone-2');
    expect(committed.map((row) => row.outcome)).toEqual(['stored', 'stored', 'stored', 'stored']);
    // Each in its own transaction: the group's was rolled back with the failing effect.
    expect(new Set(committed.map((row) => row.transaction)).size).toBe(4);
  });
});
