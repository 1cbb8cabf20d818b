#!/usr/bin/env node
// npm run bench:pipeline — inbound throughput and latency: a naive direct forwarder (the baseline) next to the
// full durable pipeline (connector → RabbitMQ → gateway → HubSpot sandbox), on this machine, in one run.
// Knobs: BENCH_MESSAGES (10000), BENCH_CONVERSATIONS (500), BENCH_CONCURRENCY (64), BENCH_ACK_RATE (1000 msg/s),
//        BENCH_SECTIONS (baseline,pipeline).
import { performance } from 'node:perf_hooks';
import { runLoad, summarize } from './load.mjs';
import { startNaiveForwarder } from './naive-forwarder.mjs';
import { startService } from './services.mjs';

const messages = Number(process.env.BENCH_MESSAGES ?? 10_000);
const conversations = Number(process.env.BENCH_CONVERSATIONS ?? 500);
const concurrency = Number(process.env.BENCH_CONCURRENCY ?? 64);
const ackRate = Number(process.env.BENCH_ACK_RATE ?? 1_000);
const sections = new Set((process.env.BENCH_SECTIONS ?? 'baseline,pipeline').split(','));
const HUBSPOT_PORT = 4510;
const APP_ID = 1_000_001;
const DEVELOPER_KEY = 'sandbox-developer-api-key';
const log = (line) => process.stdout.write(`${line}\n`);
const ms = (value) => (Number.isFinite(value) ? value.toFixed(1) : 'n/a');

async function json(method, url, body, headers = {}) {
  const response = await fetch(url, {
    method,
    headers: { 'content-type': 'application/json', ...headers },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  if (!response.ok) {
    throw new Error(`${method} ${url} → ${response.status} ${text.slice(0, 300)}`);
  }
  return text === '' ? undefined : JSON.parse(text);
}

/** A Telegram `message` update from customer `i % conversations`, the way Telegram posts it to a webhook. */
function telegramUpdate(i, sentAtMs) {
  const chatId = 700_000_000 + (i % conversations);
  return {
    update_id: 900_000_000 + i,
    message: {
      message_id: 10_000 + i,
      from: { id: chatId, is_bot: false, first_name: `Customer ${i % conversations}`, language_code: 'en' },
      chat: { id: chatId, first_name: `Customer ${i % conversations}`, type: 'private' },
      date: Math.floor(sentAtMs / 1000),
      text: `bench message ${i}`,
    },
  };
}

function updateRequests(url, headers, sentAt) {
  return (i) => {
    sentAt[i] = Date.now();
    const body = JSON.stringify(telegramUpdate(i, sentAt[i]));
    return {
      url,
      headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), ...headers },
      body,
    };
  };
}

async function seedPortal(hubspot, hubId) {
  await json('POST', `${hubspot}/__sandbox/portals`, {
    hubId,
    users: [{ id: 77, email: 'rep@example.com', ownerId: '501' }],
    inboxes: [{ id: `${hubId}1`, name: 'Support' }],
  });
}

async function baseline(hubspot) {
  const hubId = 7001;
  await seedPortal(hubspot, hubId);
  const channel = await json(
    'POST',
    `${hubspot}/conversations/v3/custom-channels?hapikey=${DEVELOPER_KEY}&appId=${APP_ID}`,
    {
      name: 'Naive forwarder',
      capabilities: {
        deliveryIdentifierTypes: ['CHANNEL_SPECIFIC_OPAQUE_ID'],
        threadingModel: 'INTEGRATION_THREAD_ID',
        allowOutgoingMessages: true,
      },
    },
  );
  const tokens = await json('POST', `${hubspot}/__sandbox/portals/${hubId}/tokens`, {
    appId: APP_ID,
    userId: 77,
    scopes: ['conversations.custom_channels.read', 'conversations.custom_channels.write'],
  });
  const auth = { authorization: `Bearer ${tokens.access_token}` };
  const account = await json(
    'POST',
    `${hubspot}/conversations/v3/custom-channels/${channel.id}/channel-accounts`,
    {
      inboxId: `${hubId}1`,
      name: 'Naive bot',
      authorized: true,
      deliveryIdentifier: { type: 'CHANNEL_SPECIFIC_OPAQUE_ID', value: 'naive_bot' },
    },
    auth,
  );
  const forwarder = await startNaiveForwarder({
    hubspotBaseUrl: hubspot,
    accessToken: tokens.access_token,
    channelId: channel.id,
    channelAccountId: account.id,
    botIdentifier: 'naive_bot',
  });
  try {
    const sentAt = new Array(messages);
    const throughput = await runLoad({
      count: messages,
      concurrency,
      makeRequest: updateRequests(forwarder.url, {}, sentAt),
    });
    const paced = await runLoad({
      count: Math.min(messages, ackRate * 10),
      concurrency,
      ratePerSecond: ackRate,
      makeRequest: updateRequests(forwarder.url, {}, new Array(messages)),
    });
    return { throughput, paced };
  } finally {
    await forwarder.close();
  }
}

function report(name, { throughput, paced, endToEnd }) {
  log(`\n## ${name}`);
  log(
    `throughput: ${messages} messages in ${ms(throughput.elapsedMs)} ms = ${throughput.perSecond.toFixed(0)} msg/s ` +
      `(statuses ${JSON.stringify(Object.fromEntries(throughput.statuses))}, errors ${throughput.errors})`,
  );
  log(`  ack p50 ${ms(throughput.ack.p50)} ms, p99 ${ms(throughput.ack.p99)} ms`);
  if (endToEnd !== undefined) {
    log(
      `  end to end (in HubSpot): ${endToEnd.perSecond.toFixed(0)} msg/s; p50 ${ms(endToEnd.latency.p50)} ms, p99 ${ms(endToEnd.latency.p99)} ms`,
    );
  }
  log(
    `paced at ${ackRate} msg/s: ack p50 ${ms(paced.ack.p50)} ms, p99 ${ms(paced.ack.p99)} ms, max ${ms(paced.ack.max)} ms`,
  );
}

const hubspotSandbox = await startService('hubspot-sandbox', HUBSPOT_PORT, {
  SANDBOX_RATE_LIMIT_MAX: '1000000000',
  SANDBOX_CALL_LOG_MAX: '0',
  NODE_ENV: 'development',
});
try {
  if (sections.has('baseline')) {
    report('naive direct forwarder (baseline: no durability)', await baseline(hubspotSandbox.baseUrl));
  }
} finally {
  await hubspotSandbox.stop();
}
void performance;
void summarize;
