import { RoutingKeys } from '@inbox-bridge/shared';
import * as testing from '@inbox-bridge/testing';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { routerMigrations } from '../src/database/data-source.js';
import type { RoutingRulesInput } from '../src/routing/routing-rules.js';
import {
  adminClient,
  GatewayEvents,
  ManualClock,
  nextId,
  RouterCommands,
  started,
  startRouter,
  user,
  type RunningRouter,
} from './router-harness.js';

const TOKEN = 'router-thread-deletion-token-01';
const PORTAL_ID = 7_400_001;

describe('threads deleted in HubSpot (real PostgreSQL and RabbitMQ, gateway events on the vhost)', () => {
  let db: testing.TestDatabase;
  let vhost: testing.TestVhost;
  let router: RunningRouter;
  let events: GatewayEvents;
  let commands: RouterCommands;
  const clock = new ManualClock(new Date('2026-11-23T15:00:00Z'));

  beforeAll(async () => {
    vhost = await testing.createTestVhost('router_deletion');
    db = await testing.createTestDatabase('router_deletion', routerMigrations, { poolSize: 2 });
    router = await startRouter(db, vhost, { clock, adminTokens: `${PORTAL_ID}:${TOKEN}` });
    events = await GatewayEvents.open(vhost.url);
    commands = await RouterCommands.capture(vhost.url);
  }, 90_000);

  afterAll(async () => {
    await commands.close();
    await events.close();
    await router.close();
    await db.dispose();
    await vhost.dispose();
  });

  const rowsOf = async (table: string, threadId: string) =>
    db.dataSource.query<unknown[]>(
      `SELECT * FROM "${db.schema}".${table} WHERE portal_id = $1 AND hubspot_thread_id = $2`,
      [PORTAL_ID, threadId],
    );
  const handlers = async () =>
    (
      await db.dataSource.query<{ conversation_key: string }[]>(
        `SELECT conversation_key FROM "${db.schema}".customer_handlers WHERE portal_id = $1 ORDER BY 1`,
        [PORTAL_ID],
      )
    ).map((row) => row.conversation_key);
  const openCount = async () => {
    const [row] = await db.dataSource.query<{ open_count: number }[]>(
      `SELECT open_count FROM "${db.schema}".agents WHERE portal_id = $1 AND user_id = 'd1'`,
      [PORTAL_ID],
    );
    return row?.open_count;
  };

  it('releases the assignee’s slot to the oldest waiting conversation and deletes the conversation and its audit; a privacy deletion forgets the customer’s last handler', async () => {
    const admin = adminClient(router.baseUrl, TOKEN);
    const channelAccountId = nextId('ca');
    await events.publish(PORTAL_ID, RoutingKeys.GatewayChannelAccountConnectedV1, {
      channelAccountId,
      hubspotChannelId: '1001',
      inboxId: '9001',
      provider: 'telegram',
      name: 'Support bot',
    });
    await events.publish(PORTAL_ID, RoutingKeys.GatewayRosterChangedV1, {
      users: [user('d1')],
      teams: [],
      full: true,
    });
    await testing.expectEventually(
      async () => {
        const queue = await admin.queue(channelAccountId);
        expect(queue.body?.['agents']).toHaveLength(1);
      },
      { description: 'channel account and roster known' },
    );
    const rules: RoutingRulesInput = {
      mode: 'users-and-teams',
      targets: { userIds: ['d1'] },
      capacity: { maxOpenPerAgent: 1 },
    };
    expect((await admin.putRules(channelAccountId, rules)).status).toBe(200);
    const status = (threadId: string) =>
      testing.expectEventually(
        async () => ((await admin.audit(threadId)).body as { status: string } | undefined)?.status,
        { description: `thread ${threadId} known` },
      );
    const waitFor = (threadId: string, expected: string) =>
      testing.expectEventually(
        async () => {
          expect(await status(threadId)).toBe(expected);
        },
        {
          description: `thread ${threadId} ${expected}`,
        },
      );
    const apply = async (threadId: string) => {
      const request = await commands.nth(PORTAL_ID, threadId, 1);
      await events.publish(PORTAL_ID, RoutingKeys.GatewayAssignmentAppliedV1, {
        decisionId: request.decisionId,
        hubspotThreadId: threadId,
        userId: 'd1',
        appliedAt: clock.now().toISOString(),
      });
      await waitFor(threadId, 'assigned');
    };
    const remember = (threadId: string) =>
      db.dataSource.query(
        `INSERT INTO "${db.schema}".customer_handlers (portal_id, channel_account_id, conversation_key, user_id, handled_at)
         VALUES ($1, $2, $3, 'd1', now())`,
        [PORTAL_ID, channelAccountId, `key-${threadId}`],
      );

    await events.publish(
      PORTAL_ID,
      RoutingKeys.GatewayConversationStartedV1,
      started(channelAccountId, 'del1'),
    );
    await apply('del1');
    await remember('del1');
    await events.publish(
      PORTAL_ID,
      RoutingKeys.GatewayConversationStartedV1,
      started(channelAccountId, 'del2'),
    );
    await waitFor('del2', 'waiting');
    expect(await openCount()).toBe(1);

    // A GDPR deletion of the assigned thread: del2 gets d1's slot; nothing of del1 is left.
    await events.publish(PORTAL_ID, RoutingKeys.GatewayThreadDeletedV1, {
      hubspotThreadId: 'del1',
      privacy: true,
      conversations: [{ channelAccountId, conversationKey: 'key-del1' }],
    });
    expect((await commands.nth(PORTAL_ID, 'del2', 1)).assignee).toEqual({ type: 'user', userId: 'd1' });
    await testing.expectEventually(
      async () => {
        expect(await rowsOf('conversations', 'del1')).toEqual([]);
      },
      {
        description: 'del1 forgotten',
      },
    );
    expect(await rowsOf('routing_audit', 'del1')).toEqual([]);
    expect(await handlers()).toEqual([]);
    await apply('del2');
    expect(await openCount()).toBe(1);

    // A rep deletes the assigned del2: the slot is free again, the customer's last handler stays.
    await remember('del2');
    await events.publish(PORTAL_ID, RoutingKeys.GatewayThreadDeletedV1, {
      hubspotThreadId: 'del2',
      privacy: false,
      conversations: [{ channelAccountId, conversationKey: 'key-del2' }],
    });
    await testing.expectEventually(
      async () => {
        expect(await rowsOf('conversations', 'del2')).toEqual([]);
      },
      {
        description: 'del2 forgotten',
      },
    );
    expect(await rowsOf('routing_audit', 'del2')).toEqual([]);
    expect(await openCount()).toBe(0);
    expect(await handlers()).toEqual(['key-del2']);

    // A deletion of a thread the router never saw changes nothing.
    await events.publish(PORTAL_ID, RoutingKeys.GatewayThreadDeletedV1, {
      hubspotThreadId: 'never-seen',
      privacy: true,
      conversations: [],
    });
    await testing.delay(300);
    expect(await openCount()).toBe(0);
  });
});
