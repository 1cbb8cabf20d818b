import type { SandboxBot } from '@inbox-bridge/provider-sandbox';
import { DATA_SOURCE } from '@inbox-bridge/service-kit';
import * as testing from '@inbox-bridge/testing';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { setTimeout as sleep } from 'node:timers/promises';
import type { DataSource } from 'typeorm';
import { PartWriterPool } from '../src/outbound/part-writer.js';
import { SendProgressStore } from '../src/outbound/send-progress.js';
import { startConnectorHarness, type ConnectorHarness } from './support/connector-harness.js';

const SEND_LATENCY_MS = 3_000;

describe('connector: a reply Telegram accepted while the database was away', () => {
  let h: ConnectorHarness;
  let postgres: testing.TcpProxy;
  let bot: SandboxBot;
  let chatId: number;
  const accountId = '9100077';

  beforeAll(async () => {
    const target = new URL(testing.testDatabaseUrl);
    postgres = await new testing.TcpProxy(target.hostname, Number(target.port || 5432)).start();
    h = await startConnectorHarness('connector_dbout', {
      env: { DATABASE_URL: postgres.via(testing.testDatabaseUrl) },
    });
    bot = await h.client.createBot({ username: 'outage_bot', first_name: 'Outage' });
    chatId = (await h.client.createCustomer(bot.id, { first_name: 'Lee' })).chat.id;
    await h.connectTelegramBot(accountId, bot);
  }, 60_000);

  afterAll(async () => {
    await h.dispose();
    await postgres.stop();
  });

  it('is not sent again when its outcome could not be recorded, and is reported SENT once the database is back', async () => {
    await h.client.setFault(bot.id, 'sendMessage', { latencyMs: SEND_LATENCY_MS, times: 1 });
    const requestedAt = Date.now();
    const hubspotMessageId = await h.requestReply({
      channelAccountId: accountId,
      conversationKey: String(chatId),
      recipient: { deliveryIdentifier: { type: 'CHANNEL_SPECIFIC_OPAQUE_ID', value: String(chatId) } },
      text: 'sent while the database was away',
      richText: undefined,
    });
    // Telegram holds the call for 3 s; the database goes away during it and comes back after Telegram answered,
    // so the transaction that holds the message's outcome dies with its connection.
    await sleep(1_500);
    postgres.cut();
    await sleep(SEND_LATENCY_MS);
    postgres.restore();

    const status = await h.firstStatus(hubspotMessageId);
    expect(status.status).toBe('SENT');
    const calls = (await h.client.calls(bot.id, 'sendMessage')).filter(
      (call) => call.params['text'] === 'sent while the database was away',
    );
    expect(calls.map((call) => call.status)).toEqual([200]);
    // The one call (recorded when answered, 3 s after it arrived) was in flight when the database went away, so
    // this test exercised the outage it is about.
    const answeredAt = Date.parse(calls[0]?.at ?? '');
    expect(answeredAt).toBeGreaterThan(requestedAt + 1_500);
    expect(answeredAt).toBeLessThan(requestedAt + 1_500 + SEND_LATENCY_MS);
    const fromBot = (await h.client.messages(bot.id, chatId, 'from_bot')).filter(
      (message) => message.message.text === 'sent while the database was away',
    );
    expect(fromBot).toHaveLength(1);
    expect(h.statuses(hubspotMessageId).map((reported) => reported.status)).toEqual(['SENT']);
  }, 90_000);

  it('writes a part the provider accepted while the database was away once the database is back', async () => {
    const hubspotMessageId = 'accepted-during-outage-1';
    const retried: unknown[] = [];
    const store = new SendProgressStore({
      // The connector's own pools, which reach the database through the proxy.
      dataSource: h.app.get<DataSource>(DATA_SOURCE),
      writer: h.app.get(PartWriterPool).dataSource,
      schema: h.db.schema,
      onPersistRetry: (error) => retried.push(error),
      onPersistFailed: (error) => {
        throw error;
      },
    });
    const progress = await store.load(accountId, hubspotMessageId);
    postgres.cut();
    progress.record('text:0', `${chatId}:424242`);
    await testing.expectEventually(() => retried.length >= 2, {
      description: 'the write failing while cut off',
    });
    postgres.restore();
    await progress.written();
    const rows = await h.db.dataSource.query<{ value: string }[]>(
      `SELECT value FROM "${h.db.schema}".reply_parts_sent WHERE channel_account_id = $1 AND hubspot_message_id = $2`,
      [accountId, hubspotMessageId],
    );
    expect(rows).toEqual([{ value: `${chatId}:424242` }]);
  }, 60_000);

  it('writes a part at once even while the consumers hold every connection of the main pool', async () => {
    const hubspotMessageId = 'pool-taken-1';
    const progress = await h.app.get(SendProgressStore).load(accountId, hubspotMessageId);
    const main = h.app.get<DataSource>(DATA_SOURCE);
    const poolSize = (main.options.extra as { max: number }).max;
    const taken = await Promise.all(
      Array.from({ length: poolSize }, async () => {
        const runner = main.createQueryRunner();
        await runner.connect();
        await runner.query('SELECT 1');
        return runner;
      }),
    );
    try {
      progress.record('text:0', `${chatId}:555555`);
      await testing.expectEventually(
        async () =>
          (
            await h.db.dataSource.query<{ value: string }[]>(
              `SELECT value FROM "${h.db.schema}".reply_parts_sent WHERE channel_account_id = $1 AND hubspot_message_id = $2`,
              [accountId, hubspotMessageId],
            )
          ).length === 1,
        { timeoutMs: 2_000, description: 'the part written while the main pool is taken' },
      );
    } finally {
      await Promise.all(taken.map((runner) => runner.release()));
    }
  }, 30_000);

  it('is not sent again by the next process when the one that sent it died before recording it', async () => {
    const text = 'sent just before the connector died';
    const hubspotMessageId = 'died-before-commit-1';
    // What a connector killed right after Telegram accepted the reply leaves behind: the part it wrote at once.
    const previousProcess = new SendProgressStore({
      dataSource: h.db.dataSource,
      writer: h.db.dataSource,
      schema: h.db.schema,
      onPersistFailed: (error) => {
        throw error;
      },
    });
    (await previousProcess.load(accountId, hubspotMessageId)).record('text:0', `${chatId}:987654`);
    const partsOf = () =>
      h.db.dataSource.query<{ value: string }[]>(
        `SELECT value FROM "${h.db.schema}".reply_parts_sent WHERE channel_account_id = $1 AND hubspot_message_id = $2`,
        [accountId, hubspotMessageId],
      );
    await testing.expectEventually(async () => (await partsOf()).length === 1, {
      description: 'part written',
    });

    await h.requestReply({
      hubspotMessageId,
      channelAccountId: accountId,
      conversationKey: String(chatId),
      recipient: { deliveryIdentifier: { type: 'CHANNEL_SPECIFIC_OPAQUE_ID', value: String(chatId) } },
      text,
      richText: undefined,
    });
    const status = await h.firstStatus(hubspotMessageId);
    expect(status).toMatchObject({ status: 'SENT', providerMessageId: `${chatId}:987654` });
    const calls = (await h.client.calls(bot.id, 'sendMessage')).filter(
      (call) => call.params['text'] === text,
    );
    expect(calls).toHaveLength(0);
    // Removed with the outcome, in the same transaction.
    expect(await partsOf()).toHaveLength(0);
  }, 60_000);
});
