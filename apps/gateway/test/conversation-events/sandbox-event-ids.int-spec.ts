import {
  SandboxControlClient,
  startHubSpotSandbox,
  type RunningHubSpotSandbox,
} from '@inbox-bridge/hubspot-sandbox';
import { EVENTS_EXCHANGE } from '@inbox-bridge/messaging';
import * as testing from '@inbox-bridge/testing';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { gatewayMigrations } from '../../src/database/data-source.js';
import { startPublicGateway, type GatewayUnderTest } from '../accounts/gateway-under-test.js';
import { SANDBOX_APP } from '../accounts/hubspot-fixture.js';

const HUB_ID = 7191;
const INBOX_ID = '531';
const USER_ID = 77;
const SCOPES = [
  'conversations.custom_channels.read',
  'conversations.custom_channels.write',
  'conversations.read',
  'conversations.write',
];

interface AssignmentChanged {
  readonly payload: { readonly hubspotThreadId: string; readonly assignedActorId: string | null };
}

/**
 * The gateway keeps Webhooks API conversation events by (portalId, eventId) for 90 days and drops a repeat: a
 * sandbox whose event ids started again at 1 after a reset or a restart had its new assignments dropped.
 */
describe('hubspot-sandbox conversation events → gateway across sandbox resets and restarts (real HTTP, PostgreSQL, RabbitMQ)', () => {
  let db: testing.TestDatabase;
  let vhost: testing.TestVhost;
  let gateway: GatewayUnderTest;
  let captured: testing.CapturedMessages<AssignmentChanged>;
  let sandbox: RunningHubSpotSandbox;

  const startSandbox = (): Promise<RunningHubSpotSandbox> =>
    startHubSpotSandbox({ LOG_LEVEL: 'silent', SANDBOX_WEBHOOK_TIME_SCALE: '0.001' }, { port: 0 });

  /**
   * In a freshly seeded portal, the app subscribed to assignment changes at the gateway: a customer's message
   * makes a thread, which the rep is assigned. Resolves to the thread's id.
   */
  const assignNewThread = async (target: RunningHubSpotSandbox): Promise<string> => {
    const control = new SandboxControlClient(target.url);
    await control.seedPortal({
      hubId: HUB_ID,
      users: [{ id: USER_ID, email: 'rep@example.com' }],
      inboxes: [{ id: INBOX_ID, name: 'Support' }],
    });
    const { access_token: token } = await control.issueTokens(HUB_ID, {
      appId: SANDBOX_APP.appId,
      userId: USER_ID,
      scopes: SCOPES,
    });
    await control.setAppWebhooks(SANDBOX_APP.appId, {
      targetUrl: `${gateway.baseUrl}/webhooks/hubspot/conversation-events`,
      subscriptions: [{ subscriptionType: 'conversation.propertyChange', propertyName: 'assignedTo' }],
    });
    const call = async <T>(path: string, method: string, body: unknown, hapikey = false): Promise<T> => {
      const url = new URL(path, target.url);
      if (hapikey) {
        url.searchParams.set('hapikey', SANDBOX_APP.hapikey);
        url.searchParams.set('appId', String(SANDBOX_APP.appId));
      }
      const response = await fetch(url, {
        method,
        headers: {
          'content-type': 'application/json',
          ...(hapikey ? {} : { authorization: `Bearer ${token}` }),
        },
        body: JSON.stringify(body),
      });
      expect(response.status).toBeLessThan(300);
      return (await response.json()) as T;
    };
    const bot = { type: 'CHANNEL_SPECIFIC_OPAQUE_ID', value: 'bot-1' };
    const channel = await call<{ id: string }>(
      '/conversations/v3/custom-channels',
      'POST',
      { name: 'Event ids', capabilities: { deliveryIdentifierTypes: ['CHANNEL_SPECIFIC_OPAQUE_ID'] } },
      true,
    );
    const account = await call<{ id: string }>(
      `/conversations/v3/custom-channels/${channel.id}/channel-accounts`,
      'POST',
      { inboxId: INBOX_ID, name: 'Bot', authorized: true, deliveryIdentifier: bot },
    );
    const message = await call<{ conversationsThreadId: string }>(
      `/conversations/v3/custom-channels/${channel.id}/messages`,
      'POST',
      {
        channelAccountId: account.id,
        messageDirection: 'INCOMING',
        integrationThreadId: 'chat-1',
        text: 'hello',
        senders: [{ deliveryIdentifier: { type: 'CHANNEL_SPECIFIC_OPAQUE_ID', value: 'customer-1' } }],
        recipients: [{ deliveryIdentifier: bot }],
        timestamp: new Date().toISOString(),
        attachments: [],
      },
    );
    await call(`/conversations/conversations/v3/threads/${message.conversationsThreadId}/assignee`, 'PUT', {
      actorId: `A-${USER_ID}`,
    });
    return message.conversationsThreadId;
  };

  const awaitAssignments = (count: number): Promise<void> =>
    testing.expectEventually(
      () => {
        if (captured.messages.length < count) {
          throw new Error(`${captured.messages.length} of ${count} assignment changes published`);
        }
      },
      { timeoutMs: 10_000, description: `${count} assignment changes published by the gateway` },
    );

  beforeAll(async () => {
    [db, vhost] = await Promise.all([
      testing.createTestDatabase('gateway_sandbox_event_ids', gatewayMigrations, { poolSize: 2 }),
      testing.createTestVhost('gateway_sandbox_event_ids'),
    ]);
    captured = await testing.captureMessages<AssignmentChanged>(
      vhost.url,
      EVENTS_EXCHANGE,
      'gateway.thread.assignment-changed.v1',
    );
    sandbox = await startSandbox();
    gateway = await startPublicGateway(db, vhost, sandbox.url);
  });

  afterAll(async () => {
    await gateway.app.close();
    await sandbox.close();
    await captured.close();
    await db.dispose();
    await vhost.dispose();
  });

  it('an assignment after a sandbox reset, and after a sandbox restart, reaches the gateway like the first', async () => {
    await assignNewThread(sandbox);
    await awaitAssignments(1);

    await new SandboxControlClient(sandbox.url).reset();
    await assignNewThread(sandbox);
    await awaitAssignments(2);

    await sandbox.close();
    sandbox = await startSandbox();
    const threadId = await assignNewThread(sandbox);
    await awaitAssignments(3);

    expect(captured.messages.map((message) => message.payload)).toContainEqual({
      hubspotThreadId: threadId,
      assignedActorId: `A-${USER_ID}`,
      byAgent: true,
    });
    const stored = await db.dataSource.query<{ event_id: string }[]>(
      `SELECT event_id FROM "${db.schema}".conversation_events ORDER BY received_at, event_id`,
    );
    expect(new Set(stored.map((row) => row.event_id)).size).toBe(3);
    expect(stored.every((row) => Number.isSafeInteger(Number(row.event_id)))).toBe(true);
  });
});
