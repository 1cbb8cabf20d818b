import { EVENTS_EXCHANGE } from '@inbox-bridge/messaging';
import * as testing from '@inbox-bridge/testing';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomBytes, randomUUID } from 'node:crypto';
import {
  CHANNEL_ACCOUNT_DIRECTORY,
  type ChannelAccountDirectory,
} from '../../src/accounts/channel-account-directory.js';
import { CredentialCheckRepository } from '../../src/accounts/credential-check.repository.js';
import { gatewayMigrations } from '../../src/database/data-source.js';
import { startGatewayUnderTest, type GatewayUnderTest } from './gateway-under-test.js';
import { SANDBOX_APP, startHubSpotFixture, type HubSpotFixture } from './hubspot-fixture.js';

const HUB_ID = 9292;
const INBOX_ID = '811';
const ACCOUNTS = 8;

interface Envelope {
  readonly messageId: string;
  readonly type: string;
  readonly payload: Record<string, unknown>;
}

describe('two gateway replicas processing the same stored webhooks', () => {
  let hubspot: HubSpotFixture;
  let db: testing.TestDatabase;
  let vhost: testing.TestVhost;
  let replicas: GatewayUnderTest[];
  let published: testing.CapturedMessages<Envelope>;
  let channelId: string;

  beforeAll(async () => {
    hubspot = await startHubSpotFixture({ hubId: HUB_ID, inboxes: [{ id: INBOX_ID, name: 'Support' }] });
    [db, vhost] = await Promise.all([
      testing.createTestDatabase('gateway_two_replicas', gatewayMigrations, { poolSize: 2 }),
      testing.createTestVhost('gateway_two_replicas'),
    ]);
    published = await testing.captureMessages<Envelope>(
      vhost.url,
      EVENTS_EXCHANGE,
      'gateway.channel-account.#',
    );
    const env = {
      HUBSPOT_API_BASE_URL: hubspot.sandbox.url,
      HUBSPOT_CLIENT_SECRET: SANDBOX_APP.clientSecret,
      // The replica HubSpot does not call only polls: make it poll often so both really compete.
      WEBHOOK_WORKER_POLL_MS: '10',
      WEBHOOK_WORKER_CONCURRENCY: '4',
      HUBSPOT_RATE_LIMIT_PER_10S: '5000',
      // Replicas share the key ring, as they share the encrypted tokens.
      ENCRYPTION_KEYS: `k1:${randomBytes(32).toString('base64')}`,
      ENCRYPTION_ACTIVE_KEY_ID: 'k1',
    };
    replicas = [await startGatewayUnderTest(db, vhost, env), await startGatewayUnderTest(db, vhost, env)];
    await hubspot.installInto(replicas[0]?.app ?? replicas[1]!.app);
    channelId = await hubspot.createChannel(replicas[0]?.webhookUrl ?? '');
  });

  afterAll(async () => {
    await hubspot.close();
    for (const replica of replicas) {
      await replica.app.close();
    }
    await published.close();
    await db.dispose();
    await vhost.dispose();
  });

  it('announces every account once and never publishes an older name after a newer one', async () => {
    const app = replicas[0]!.app;
    const checks = app.get(CredentialCheckRepository);
    const accountIds: string[] = [];
    for (let index = 0; index < ACCOUNTS; index += 1) {
      const botId = `bot-replica-${index}`;
      const identifier = { type: 'CHANNEL_SPECIFIC_OPAQUE_ID', value: botId } as const;
      const requestId = randomUUID();
      await db.dataSource.transaction(async (manager) => {
        await checks.insert(manager, {
          requestId,
          origin: 'popup',
          portalId: String(HUB_ID),
          channelId,
          inboxId: INBOX_ID,
          provider: 'telegram',
        });
        await checks.answer(manager, requestId, {
          ok: true,
          accountName: botId,
          deliveryIdentifier: identifier,
        });
        await checks.finalise(manager, requestId, { accountName: botId, deliveryIdentifier: identifier });
      });
      const staging = await hubspot.control.createStagingToken({
        portalId: HUB_ID,
        channelId,
        inboxId: INBOX_ID,
        userId: hubspot.userId,
      });
      await hubspot.api(
        'PATCH',
        `/conversations/v3/custom-channels/${channelId}/channel-account-staging-tokens/${staging.accountToken}`,
        { accountName: botId, deliveryIdentifier: identifier },
      );
    }
    const { results } = await hubspot.api<{ results: { id: string }[] }>(
      'GET',
      `/conversations/v3/custom-channels/${channelId}/channel-accounts`,
    );
    accountIds.push(...results.map((account) => account.id));
    expect(accountIds).toHaveLength(ACCOUNTS);
    for (const accountId of accountIds) {
      for (const round of [1, 2, 3]) {
        await hubspot.control.updateChannelAccount(accountId, { name: `name-${round}` });
      }
    }

    const directory = app.get<ChannelAccountDirectory>(CHANNEL_ACCOUNT_DIRECTORY);
    await testing.expectEventually(
      async () => {
        const [pending] = await db.dataSource.query<{ count: number }[]>(
          `SELECT count(*)::int AS count FROM "${db.schema}".hubspot_webhook_events WHERE processed_at IS NULL`,
        );
        if (pending?.count !== 0) {
          const errors = await db.dataSource.query<unknown[]>(
            `SELECT id, ordering_key, event_type, attempts, next_attempt_at, last_error FROM "${db.schema}".hubspot_webhook_events WHERE processed_at IS NULL ORDER BY attempts DESC LIMIT 3`,
          );
          throw new Error(`${pending?.count} events not processed: ${JSON.stringify(errors)}`);
        }
        for (const accountId of accountIds) {
          if ((await directory.find(accountId))?.name !== 'name-3') {
            throw new Error(`${accountId} not renamed to name-3 yet`);
          }
        }
      },
      { timeoutMs: 30_000, description: 'every event processed, every account at its last name' },
    );
    await testing.expectEventually(
      async () => {
        const [outbox] = await db.dataSource.query<{ count: number }[]>(
          `SELECT count(*)::int AS count FROM "${db.schema}".outbox`,
        );
        if (outbox?.count !== 0) {
          throw new Error(`${outbox?.count} messages still in the outbox`);
        }
      },
      { timeoutMs: 15_000, description: 'the outbox drained' },
    );
    await testing.delay(300);

    const messageIds = published.messages.map((message) => message.messageId);
    expect(new Set(messageIds).size).toBe(messageIds.length);
    const [processedBy] = await db.dataSource.query<{ outcomes: string[] }[]>(
      `SELECT array_agg(DISTINCT outcome) AS outcomes FROM "${db.schema}".hubspot_webhook_events`,
    );
    expect(processedBy?.outcomes).not.toContain('failed');
    for (const accountId of accountIds) {
      const ofAccount = published.messages.filter(
        (message) => message.payload['channelAccountId'] === accountId,
      );
      expect(
        ofAccount.filter((message) => message.type === 'gateway.channel-account.connected.v1'),
      ).toHaveLength(1);
      const names = ofAccount
        .filter((message) => message.type === 'gateway.channel-account.updated.v1')
        .map((message) => String(message.payload['name']));
      expect(names.at(-1)).toBe('name-3');
      expect([...names].sort()).toEqual(names);
      expect(new Set(names).size).toBe(names.length);
    }
  });
});
