import { TablePruner } from '@inbox-bridge/service-kit';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { PlatformFixture } from './platform-fixture.js';

const HUB_ID = 6_262;
const RETAINED = [
  'published_messages',
  'forgotten_messages',
  'outbound_message_statuses',
  'conversation_events',
  'bridge_thread_assignments',
] as const;

describe('gateway: message records are pruned past MESSAGE_RECORD_RETENTION_MS (90 days)', () => {
  const fixture = new PlatformFixture(HUB_ID);

  beforeAll(async () => {
    await fixture.start('gateway_retention');
  });

  afterAll(async () => {
    await fixture.stop();
  });

  it('deletes what was published (and the digests of messages of deleted threads), reply statuses, conversation events and bridge assignments older than 90 days, assignment intents older than 15 minutes, and keeps the rest', async () => {
    const s = fixture.db.schema;
    const query = (sql: string) => fixture.db.dataSource.query(sql);
    for (const [suffix, age] of [
      ['old', '91 days'],
      ['recent', '89 days'],
    ] as const) {
      await query(
        `INSERT INTO "${s}".published_messages
           (channel_account_id, idempotency_id, provider_message_id, conversation_key, hubspot_message_id, hubspot_thread_id, published_at)
         VALUES ('ca-${suffix}', 'i', 'p', 'c', 'h', 't', now() - interval '${age}')`,
      );
      await query(
        `INSERT INTO "${s}".forgotten_messages (channel_account_id, idempotency_digest, published_at)
         VALUES ('ca-${suffix}', 'd', now() - interval '${age}')`,
      );
      await query(
        `INSERT INTO "${s}".outbound_message_statuses (hubspot_message_id, channel_account_id, status, updated_at)
         VALUES ('h-${suffix}', 'ca-${suffix}', 'SENT', now() - interval '${age}')`,
      );
      await query(
        `INSERT INTO "${s}".conversation_events (portal_id, event_id, subscription_type, thread_id, occurred_at, received_at)
         VALUES (${HUB_ID}, 'e-${suffix}', 'conversation.propertyChange', 't-${suffix}', now() - interval '${age}', now() - interval '${age}')`,
      );
      await query(
        `INSERT INTO "${s}".bridge_thread_assignments (portal_id, thread_id, actor_id, applied_at)
         VALUES (${HUB_ID}, 't-${suffix}', 'A-1', now() - interval '${age}')`,
      );
    }

    // A portal that fell quiet keeps the rate limiter's grants of its last calls until they are a minute expired.
    for (const held of [
      "now() - interval '2 minutes'",
      "now() - interval '10 seconds'",
      "now() + interval '10 seconds'",
    ]) {
      await query(
        `INSERT INTO "${s}".hubspot_rate_grants (bucket_key, busy_until, completed) VALUES ('quiet-portal', ${held}, true)`,
      );
    }

    // An assignee the bridge was about to set counts for 15 minutes at the most; then it goes.
    for (const [actor, age] of [
      ['A-1', '16 minutes'],
      ['A-2', '14 minutes'],
    ] as const) {
      await query(
        `INSERT INTO "${s}".bridge_assignment_intents (portal_id, thread_id, actor_key, intended_at)
         VALUES (${HUB_ID}, 't-intent', '${actor}', now() - interval '${age}')`,
      );
    }

    expect(await fixture.gateway.app.get(TablePruner).prune()).toEqual({
      ...Object.fromEntries(RETAINED.map((table) => [table, 1])),
      hubspot_rate_grants: 1,
      bridge_assignment_intents: 1,
    });
    const intents = await fixture.db.dataSource.query<{ actor_key: string }[]>(
      `SELECT actor_key FROM "${s}".bridge_assignment_intents`,
    );
    expect(intents).toEqual([{ actor_key: 'A-2' }]);
    const [grants] = await fixture.db.dataSource.query<{ n: number }[]>(
      `SELECT count(*)::int AS n FROM "${s}".hubspot_rate_grants WHERE bucket_key = 'quiet-portal'`,
    );
    expect(grants?.n).toBe(2);
    for (const table of RETAINED) {
      const [row] = await fixture.db.dataSource.query<{ n: number }[]>(
        `SELECT count(*)::int AS n FROM "${s}".${table}`,
      );
      expect({ table, rows: row?.n }).toEqual({ table, rows: 1 });
    }
  });
});
