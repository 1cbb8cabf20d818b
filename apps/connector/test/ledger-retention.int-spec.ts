import { TablePruner } from '@inbox-bridge/service-kit';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { ChannelAccountRepository } from '../src/accounts/channel-account.repository.js';
import { startConnectorHarness, type ConnectorHarness } from './support/connector-harness.js';

const DAY_MS = 86_400_000;

describe('connector: the message ledger is pruned past its retention (30 days)', () => {
  let h: ConnectorHarness;
  const count = async (table: string, account: string): Promise<number> => {
    const [row] = await h.db.dataSource.query<{ n: number }[]>(
      `SELECT count(*)::int AS n FROM "${h.db.schema}".${table} WHERE channel_account_id = $1`,
      [account],
    );
    return row?.n ?? 0;
  };

  beforeAll(async () => {
    h = await startConnectorHarness('connector_retention');
  }, 60_000);

  afterAll(async () => {
    await h.dispose();
  });

  it('deletes dedupe keys, reply states, sent parts and their message ids older than the retention, and keeps the rest', async () => {
    const s = h.db.schema;
    // 25,000 dedupe keys 31 days old (three statements of 10,000), and one of each kind a day old.
    await h.db.dataSource.query(
      `INSERT INTO "${s}".inbound_messages (channel_account_id, dedupe_key, received_at)
       SELECT 'old', 'k' || i, now() - interval '31 days' FROM generate_series(1, 25000) AS i`,
    );
    await h.db.dataSource.query(
      `INSERT INTO "${s}".inbound_messages (channel_account_id, dedupe_key, received_at)
       VALUES ('recent', 'k1', now() - interval '1 day')`,
    );
    await h.db.dataSource.query(
      `INSERT INTO "${s}".outbound_messages (channel_account_id, hubspot_message_id, provider_message_id, status, updated_at)
       VALUES ('old', 'h1', 'p1', 'SENT', now() - interval '31 days'),
              ('recent', 'h1', 'p1', 'SENT', now() - interval '1 day')`,
    );
    await h.db.dataSource.query(
      `INSERT INTO "${s}".reply_parts_sent (channel_account_id, hubspot_message_id, part, value, recorded_at)
       VALUES ('old', 'h1', 'text:0', 'v', now() - interval '31 days'),
              ('recent', 'h1', 'text:0', 'v', now() - interval '1 day')`,
    );
    await h.db.dataSource.query(
      `INSERT INTO "${s}".reply_message_parts (channel_account_id, part_message_id, provider_message_id, recorded_at)
       VALUES ('old', 'p2', 'p1', now() - interval '31 days'),
              ('recent', 'p2', 'p1', now() - interval '1 day')`,
    );

    expect(await h.app.get(TablePruner).prune()).toEqual({
      inbound_messages: 25_000,
      outbound_messages: 1,
      reply_parts_sent: 1,
      reply_message_parts: 1,
    });
    for (const table of [
      'inbound_messages',
      'outbound_messages',
      'reply_parts_sent',
      'reply_message_parts',
    ]) {
      expect({ table, old: await count(table, 'old'), recent: await count(table, 'recent') }).toEqual({
        table,
        old: 0,
        recent: 1,
      });
    }
  });

  it('never compares an account further back than the retention less a day (older dedupe keys are gone)', async () => {
    await h.db.dataSource.query(
      `INSERT INTO "${h.db.schema}".channel_accounts
         (channel_account_id, portal_id, provider, credentials, inbound_checked_until)
       VALUES ('long-deauthorized', 1, 'twilio', 'sealed', now() - interval '40 days'),
              ('checked-lately', 1, 'twilio', 'sealed', now() - interval '2 hours')`,
    );
    const claims = await h.app
      .get(ChannelAccountRepository)
      .claimInboundChecks(['twilio'], { intervalMs: 0, settleMs: 60_000, lookBackMs: 30 * DAY_MS }, 10);
    const fromOf = (id: string) =>
      claims.find((claim) => claim.channelAccountId === id)?.from.getTime() ?? Number.NaN;
    const now = Date.now();
    expect(Math.abs(fromOf('long-deauthorized') - (now - 29 * DAY_MS))).toBeLessThan(60_000);
    expect(Math.abs(fromOf('checked-lately') - (now - 2 * 3_600_000))).toBeLessThan(60_000);
    for (const claim of claims) {
      expect(Math.abs(claim.until.getTime() - (now - 60_000))).toBeLessThan(60_000);
    }
  });
});
