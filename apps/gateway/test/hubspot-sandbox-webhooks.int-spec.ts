import {
  SandboxControlClient,
  startHubSpotSandbox,
  type RunningHubSpotSandbox,
  type WebhookDelivery,
} from '@inbox-bridge/hubspot-sandbox';
import { EVENTS_EXCHANGE } from '@inbox-bridge/messaging';
import * as testing from '@inbox-bridge/testing';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { gatewayMigrations } from '../src/database/data-source.js';
import {
  startGatewayUnderTest as startGateway,
  type GatewayUnderTest as RunningGateway,
} from './accounts/gateway-under-test.js';

/** Shared by the sandbox (signs) and the gateway (verifies); not the sandbox's default, so both must agree. */
const CLIENT_SECRET = 'e2e-hubspot-client-secret';
const APP_ID = 1_000_001;
const HAPIKEY = 'sandbox-developer-api-key';
const HUB_ID = 4242;
const USER_ID = 77;
const INBOX_ID = '311';
const PURGED = 'gateway.channel-account.purged.v1';

interface Envelope {
  readonly type: string;
  readonly portalId: number;
  readonly payload: Record<string, unknown>;
}

describe('hubspot-sandbox → gateway: signed custom-channel webhooks end to end', () => {
  let sandbox: RunningHubSpotSandbox;
  let control: SandboxControlClient;
  let db: testing.TestDatabase;
  let vhost: testing.TestVhost;
  let gateway: RunningGateway;
  let published: testing.CapturedMessages<Envelope>;
  let accessToken: string;

  /** The emulated HubSpot API, as the gateway's HubSpot client will call it. */
  const hubspot = async <T>(path: string, body: unknown, auth: 'hapikey' | 'bearer'): Promise<T> => {
    const url = new URL(path, sandbox.url);
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    if (auth === 'hapikey') {
      url.searchParams.set('hapikey', HAPIKEY);
      url.searchParams.set('appId', String(APP_ID));
    } else {
      headers.authorization = `Bearer ${accessToken}`;
    }
    const response = await fetch(url, { method: 'POST', headers, body: JSON.stringify(body) });
    const text = await response.text();
    if (response.status !== 201) {
      throw new Error(`POST ${path} answered ${response.status}: ${text}`);
    }
    return JSON.parse(text) as T;
  };

  const createChannel = async (webhookUrl: string): Promise<string> => {
    const channel = await hubspot<{ id: string }>(
      '/conversations/v3/custom-channels',
      {
        name: 'Bridge e2e',
        webhookUrl,
        capabilities: {
          deliveryIdentifierTypes: ['CHANNEL_SPECIFIC_OPAQUE_ID'],
          threadingModel: 'INTEGRATION_THREAD_ID',
          allowOutgoingMessages: true,
        },
      },
      'hapikey',
    );
    return channel.id;
  };

  const createAccount = async (channelId: string, botId: string): Promise<string> => {
    const account = await hubspot<{ id: string }>(
      `/conversations/v3/custom-channels/${channelId}/channel-accounts`,
      {
        inboxId: INBOX_ID,
        name: 'Telegram bot',
        authorized: true,
        deliveryIdentifier: { type: 'CHANNEL_SPECIFIC_OPAQUE_ID', value: botId },
      },
      'bearer',
    );
    return account.id;
  };

  const deliveriesTo = async (url: string): Promise<WebhookDelivery[]> =>
    (await control.webhookDeliveries()).filter((delivery) => delivery.url === url);

  const storedEvents = (database: testing.TestDatabase, channelAccountId: string) =>
    database.dataSource.query<{ portal_id: string; event_type: string; payload: Record<string, unknown> }[]>(
      `SELECT portal_id, event_type, payload FROM "${database.schema}".hubspot_webhook_events
        WHERE payload->>'channelAccountId' = $1 ORDER BY id`,
      [channelAccountId],
    );

  beforeAll(async () => {
    vhost = await testing.createTestVhost('gateway_sandbox');
    db = await testing.createTestDatabase('gateway_sandbox', gatewayMigrations, { poolSize: 2 });
    published = await testing.captureMessages<Envelope>(vhost.url, EVENTS_EXCHANGE, PURGED);

    sandbox = await startHubSpotSandbox(
      { LOG_LEVEL: 'silent', SANDBOX_CLIENT_SECRET: CLIENT_SECRET, SANDBOX_WEBHOOK_TIME_SCALE: '0.001' },
      { port: 0 },
    );
    control = new SandboxControlClient(sandbox.url);
    await control.seedPortal({
      hubId: HUB_ID,
      users: [{ id: USER_ID, email: 'rep@example.com' }],
      inboxes: [{ id: INBOX_ID, name: 'Support' }],
    });
    accessToken = (
      await control.issueTokens(HUB_ID, {
        appId: APP_ID,
        userId: USER_ID,
        scopes: ['conversations.custom_channels.read', 'conversations.custom_channels.write'],
      })
    ).access_token;

    gateway = await startGateway(db, vhost, { HUBSPOT_CLIENT_SECRET: CLIENT_SECRET });
  });

  afterAll(async () => {
    await sandbox.close();
    await gateway.app.close();
    await published.close();
    await db.dispose();
    await vhost.dispose();
  });

  it('stores CHANNEL_ACCOUNT_CREATED and _PURGED with a verified signature, publishes purged.v1 once, answers 2xx at once', async () => {
    const channelId = await createChannel(gateway.webhookUrl);
    const accountId = await createAccount(channelId, 'bot-e2e');
    await testing.expectEventually(
      async () => {
        if ((await storedEvents(db, accountId)).length !== 1) {
          throw new Error('CHANNEL_ACCOUNT_CREATED not stored yet');
        }
      },
      { timeoutMs: 10_000, description: 'the created event stored by the gateway' },
    );
    await control.purgeChannelAccount(accountId);

    const stored = await testing.expectEventually(
      async () => {
        const rows = await storedEvents(db, accountId);
        if (rows.length !== 2) {
          throw new Error(`${rows.length} events stored`);
        }
        return rows;
      },
      { timeoutMs: 10_000, description: 'both account events stored by the gateway' },
    );
    expect(stored.map((row) => row.event_type)).toEqual([
      'CHANNEL_ACCOUNT_CREATED',
      'CHANNEL_ACCOUNT_PURGED',
    ]);
    for (const row of stored) {
      expect(row.portal_id).toBe(String(HUB_ID));
      expect(row.payload).toMatchObject({ portalId: String(HUB_ID), channelId, channelAccountId: accountId });
    }

    const envelope = await testing.expectEventually(
      () => {
        const found = published.messages.find((e) => e.type === PURGED);
        if (found === undefined) {
          throw new Error('not published yet');
        }
        return found;
      },
      { timeoutMs: 15_000, description: 'the purged envelope on the test queue' },
    );
    expect(envelope).toMatchObject({ portalId: HUB_ID, payload: { channelAccountId: accountId } });

    const deliveries = await testing.expectEventually(
      async () => {
        const found = await deliveriesTo(gateway.webhookUrl);
        if (found.length !== 2 || found.some((delivery) => delivery.state !== 'DELIVERED')) {
          throw new Error(`deliveries: ${JSON.stringify(found.map((d) => d.state))}`);
        }
        return found;
      },
      { timeoutMs: 5_000, description: 'both deliveries marked DELIVERED' },
    );
    expect(deliveries.map((delivery) => delivery.eventType).sort()).toEqual([
      'CHANNEL_ACCOUNT_CREATED',
      'CHANNEL_ACCOUNT_PURGED',
    ]);
    for (const delivery of deliveries) {
      expect(delivery.attempts).toHaveLength(1);
      expect(delivery.attempts[0]?.status).toBeGreaterThanOrEqual(200);
      expect(delivery.attempts[0]?.status).toBeLessThan(300);
    }

    // Nothing redelivered, nothing published twice.
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(published.messages.filter((e) => e.type === PURGED)).toHaveLength(1);
  });

  it('with a wrong HUBSPOT_CLIENT_SECRET in the gateway, the sandbox sees 401 answers and retries', async () => {
    const otherDb = await testing.createTestDatabase('gateway_sandbox_bad', gatewayMigrations, {
      poolSize: 2,
    });
    const misconfigured = await startGateway(otherDb, vhost, { HUBSPOT_CLIENT_SECRET: 'not-the-app-secret' });
    try {
      const channelId = await createChannel(misconfigured.webhookUrl);
      const accountId = await createAccount(channelId, 'bot-wrong-secret');

      const delivery = await testing.expectEventually(
        async () => {
          const [found] = await deliveriesTo(misconfigured.webhookUrl);
          if (found === undefined || found.attempts.length < 3) {
            throw new Error(`${found?.attempts.length ?? 0} attempts`);
          }
          return found;
        },
        { timeoutMs: 10_000, description: 'three attempts at the misconfigured gateway' },
      );
      expect(delivery.eventType).toBe('CHANNEL_ACCOUNT_CREATED');
      expect(delivery.state).toBe('PENDING');
      expect(delivery.attempts.slice(0, 3).map((attempt) => attempt.status)).toEqual([401, 401, 401]);
      expect(await storedEvents(otherDb, accountId)).toHaveLength(0);
    } finally {
      await misconfigured.app.close();
      await otherDb.dispose();
    }
  });
});
