import { OutboxWriter, TransientError } from '@inbox-bridge/messaging';
import * as testing from '@inbox-bridge/testing';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Logger } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { Registry } from 'prom-client';
import { DataSource } from 'typeorm';
import { gatewayMigrations } from '../src/database/data-source.js';
import { HubSpotWebhookEventRepository } from '../src/webhooks/hubspot-webhook-event.repository.js';
import { HubSpotWebhookMetrics } from '../src/webhooks/hubspot-webhook.metrics.js';
import type { WebhookEventProcessor } from '../src/webhooks/hubspot-webhook.processing.js';
import { HubSpotWebhookWorker } from '../src/webhooks/hubspot-webhook.worker.js';
import { testGatewayConfig } from './accounts/gateway-under-test.js';

/** Far below the worker's 2-minute lease: the event must not wait for the lease to expire. */
const RECOVERY_BUDGET_MS = 15_000;

describe('HubSpot webhook worker: a failure it could not record while PostgreSQL was away', () => {
  let db: testing.TestDatabase;
  let postgres: testing.TcpProxy;
  let viaProxy: DataSource;

  beforeAll(async () => {
    // The worker warns on every failed poll while the database is away; that is expected here.
    Logger.overrideLogger(false);
    db = await testing.createTestDatabase('gateway_worker_outage', gatewayMigrations, { poolSize: 2 });
    const target = new URL(testing.testDatabaseUrl);
    postgres = await new testing.TcpProxy(target.hostname, Number(target.port || 5432)).start();
    viaProxy = new DataSource({
      type: 'postgres',
      url: postgres.via(testing.testDatabaseUrl),
      schema: db.schema,
      extra: { max: 4, options: `-c search_path=${db.schema},public` },
    });
    await viaProxy.initialize();
  });

  afterAll(async () => {
    await viaProxy.destroy().catch(() => undefined);
    await postgres.stop();
    await db.dispose();
  });

  it('gives the event back as soon as the database answers and processes it then, not after its lease', async () => {
    const events = new HubSpotWebhookEventRepository();
    const payload = {
      type: 'CHANNEL_ACCOUNT_PURGED',
      portalId: '4242',
      channelId: '1001',
      eventTimestamp: new Date().toISOString(),
      channelAccountId: '77',
      eventId: randomUUID(),
    };
    await db.dataSource.transaction((manager) =>
      events.insertIfNew(manager, {
        portalId: 4242,
        dedupeKey: `event:${payload.eventId}`,
        eventType: payload.type,
        orderingKey: 'account:77',
        payload,
      }),
    );
    let prepared = 0;
    const processor: WebhookEventProcessor = {
      prepare: () => {
        prepared += 1;
        if (prepared === 1) {
          // HubSpot fails the call, and the database is gone by the time the worker records that.
          postgres.cut();
          setTimeout(() => {
            postgres.restore();
          }, 1_500);
          return Promise.reject(new TransientError('HubSpot is unavailable'));
        }
        return Promise.resolve(() => Promise.resolve({ outcome: 'stored' as const }));
      },
    };
    const config = testGatewayConfig(db, testing.testAmqpUrl, {
      HUBSPOT_CLIENT_SECRET: 'secret',
      WEBHOOK_WORKER_POLL_MS: '100',
      WEBHOOK_RETRY_BASE_MS: '500',
    });
    const worker = new HubSpotWebhookWorker(
      viaProxy,
      config,
      processor,
      events,
      new HubSpotWebhookMetrics(new Registry()),
      { outbox: new OutboxWriter(db.schema) },
    );
    const started = Date.now();
    worker.onApplicationBootstrap();
    try {
      const [row] = await testing.expectEventually(
        async () => {
          const rows = await db.dataSource.query<{ attempts: number; outcome: string | null }[]>(
            `SELECT attempts, outcome FROM "${db.schema}".hubspot_webhook_events WHERE dedupe_key = $1`,
            [`event:${payload.eventId}`],
          );
          if (rows[0]?.outcome === null || rows[0]?.outcome === undefined) {
            throw new Error('not processed yet');
          }
          return rows;
        },
        { timeoutMs: RECOVERY_BUDGET_MS, description: 'the event processed after the outage' },
      );
      expect(row).toEqual({ attempts: 2, outcome: 'stored' });
      expect(prepared).toBe(2);
      expect(Date.now() - started).toBeLessThan(RECOVERY_BUDGET_MS);
    } finally {
      await worker.beforeApplicationShutdown();
    }
  }, 40_000);
});
