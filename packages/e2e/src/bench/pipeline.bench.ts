// npm run bench:pipeline — inbound throughput and latency through the whole durable pipeline (connector →
// RabbitMQ → gateway → HubSpot sandbox, every service a process on this machine) next to a naive direct forwarder
// (no durability) posting to the same HubSpot sandbox, in one run.
// Knobs: BENCH_MESSAGES (5000), BENCH_CONVERSATIONS (500), BENCH_CONCURRENCY (64), BENCH_ACK_RATE (1000 msg/s),
//        BENCH_BURST (2000), BENCH_SECTIONS (throughput,burst).
import { signV3 } from '@inbox-bridge/hubspot-sandbox';
import { randomBytes, randomUUID } from 'node:crypto';
import { cpus, totalmem } from 'node:os';
import {
  DEMO_INBOX_ID,
  DEMO_PORTAL_ID,
  installApp,
  registerChannel,
  seedPortal,
} from '../../../../scripts/demo/seed.mjs';
import { startStack, type RunningStack } from '../stack.js';
import { signedGenericMessage } from './generic-message.js';
import { runLoad, summarize, type LoadResult } from './load.js';
import { startNaiveForwarder } from './naive-forwarder.js';

const messages = Number(process.env['BENCH_MESSAGES'] ?? 5_000);
const conversations = Number(process.env['BENCH_CONVERSATIONS'] ?? 500);
const concurrency = Number(process.env['BENCH_CONCURRENCY'] ?? 64);
const ackRate = Number(process.env['BENCH_ACK_RATE'] ?? 1_000);
const BASELINE_PORTAL_ID = 7001;
const log = (line: string): void => {
  process.stdout.write(`${line}\n`);
};
const ms = (value: number): string => (Number.isFinite(value) ? value.toFixed(1) : 'n/a');

interface StoredMessage {
  readonly direction: string;
  readonly text: string;
  readonly createdAt: string;
  readonly updatedAt: string;
}
interface StoredThread {
  readonly channelAccountId: string;
  readonly messages: readonly StoredMessage[];
}

async function call<T>(
  method: string,
  url: string,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<T> {
  const response = await fetch(url, {
    method,
    headers: { 'content-type': 'application/json', ...headers },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await response.text();
  if (!response.ok) {
    throw new Error(`${method} ${url} → ${response.status} ${text.slice(0, 300)}`);
  }
  return (text === '' ? undefined : JSON.parse(text)) as T;
}

/** Incoming messages stored for one channel account, with HubSpot's receive time minus the customer's send time. */
async function storedIncoming(
  stack: RunningStack,
  portalId: number,
  channelAccountId: string,
  textPrefix: string,
) {
  const threads = await call<StoredThread[]>(
    'GET',
    `${stack.urls['hubspot-sandbox']}/__sandbox/portals/${portalId}/threads`,
  );
  return threads
    .filter((thread) => thread.channelAccountId === channelAccountId)
    .flatMap((thread) =>
      thread.messages.filter(
        (message) => message.direction === 'INCOMING' && message.text.startsWith(textPrefix),
      ),
    )
    .map((message) => Date.parse(message.updatedAt) - Date.parse(message.createdAt));
}

async function waitForAll(
  stack: RunningStack,
  portalId: number,
  channelAccountId: string,
  startedAt: number,
  expected: { readonly count: number; readonly textPrefix: string },
) {
  const deadline = Date.now() + 600_000;
  for (;;) {
    const latencies = await storedIncoming(stack, portalId, channelAccountId, expected.textPrefix);
    if (latencies.length >= expected.count || Date.now() > deadline) {
      return { stored: latencies.length, drainedMs: Date.now() - startedAt, latency: summarize(latencies) };
    }
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
}

async function measure(
  stack: RunningStack,
  portalId: number,
  channelAccountId: string,
  url: string,
  secret: string,
  prefix: string,
): Promise<{ throughput: LoadResult; endToEnd: Awaited<ReturnType<typeof waitForAll>>; paced: LoadResult }> {
  const request = (run: string) => (i: number) =>
    signedGenericMessage({
      url,
      secret,
      id: `${prefix}-${run}-${i}`,
      conversationId: `${prefix}-${run}-c${i % conversations}`,
      sentAt: new Date(),
      text: `bench ${run} ${i}`,
    });
  const startedAt = Date.now();
  const throughput = await runLoad({ count: messages, concurrency, makeRequest: request('burst') });
  const endToEnd = await waitForAll(stack, portalId, channelAccountId, startedAt, {
    count: messages,
    textPrefix: 'bench burst ',
  });
  const paced = await runLoad({
    count: Math.min(messages, ackRate * 10),
    concurrency,
    ratePerSecond: ackRate,
    makeRequest: request('paced'),
  });
  return { throughput, endToEnd, paced };
}

function report(name: string, result: Awaited<ReturnType<typeof measure>>): void {
  const { throughput, endToEnd, paced } = result;
  log(`\n## ${name}`);
  log(
    `webhook intake: ${messages} messages in ${ms(throughput.elapsedMs)} ms = ${throughput.perSecond.toFixed(0)} msg/s ` +
      `(answers ${JSON.stringify(Object.fromEntries(throughput.statuses))}, errors ${throughput.errors}); ` +
      `ack p50 ${ms(throughput.ack.p50)} ms, p99 ${ms(throughput.ack.p99)} ms`,
  );
  log(
    `in HubSpot: ${endToEnd.stored}/${messages} after ${ms(endToEnd.drainedMs)} ms = ` +
      `${((endToEnd.stored * 1000) / endToEnd.drainedMs).toFixed(0)} msg/s end to end; ` +
      `send→HubSpot p50 ${ms(endToEnd.latency.p50)} ms, p99 ${ms(endToEnd.latency.p99)} ms`,
  );
  log(
    `paced at ${ackRate} msg/s (${paced.ack.count} messages): ack p50 ${ms(paced.ack.p50)} ms, ` +
      `p99 ${ms(paced.ack.p99)} ms, max ${ms(paced.ack.max)} ms`,
  );
}

async function baseline(stack: RunningStack, channelId: string, secret: string) {
  const hubspot = stack.urls['hubspot-sandbox'];
  await call('POST', `${hubspot}/__sandbox/portals`, {
    hubId: BASELINE_PORTAL_ID,
    users: [{ id: 91, email: 'naive@example.com' }],
    inboxes: [{ id: '701', name: 'Naive' }],
  });
  const tokens = await call<{ access_token: string }>(
    'POST',
    `${hubspot}/__sandbox/portals/${BASELINE_PORTAL_ID}/tokens`,
    {
      appId: 1_000_001,
      userId: 91,
      scopes: ['conversations.custom_channels.read', 'conversations.custom_channels.write'],
    },
  );
  const account = await call<{ id: string }>(
    'POST',
    `${hubspot}/conversations/v3/custom-channels/${channelId}/channel-accounts`,
    {
      inboxId: '701',
      name: 'Naive forwarder',
      authorized: true,
      deliveryIdentifier: { type: 'CHANNEL_SPECIFIC_OPAQUE_ID', value: 'naive' },
    },
    { authorization: `Bearer ${tokens.access_token}` },
  );
  const forwarder = await startNaiveForwarder({
    hubspotBaseUrl: hubspot,
    accessToken: tokens.access_token,
    channelId,
    channelAccountId: account.id,
    accountIdentifier: 'naive',
    secret,
  });
  try {
    return await measure(stack, BASELINE_PORTAL_ID, account.id, forwarder.url, secret, 'naive');
  } finally {
    await forwarder.close();
  }
}

/** A generic-webhook channel account connected through the gateway's admin path, ready to take messages. */
async function connectGenericAccount(stack: RunningStack, secret: string) {
  const account = await call<{ channelAccountId: string }>(
    'POST',
    `${stack.urls.gateway}/admin/portals/${DEMO_PORTAL_ID}/channel-accounts`,
    {
      inboxId: DEMO_INBOX_ID,
      credentials: {
        provider: 'generic-webhook',
        callbackUrl: 'https://127.0.0.1:9/bench-replies',
        sharedSecret: secret,
      },
    },
    { authorization: `Bearer ${stack.opsToken}` },
  );
  const url = `${stack.urls.connector}/webhooks/generic/${account.channelAccountId}`;
  // The connector learns of the account from the gateway's event: wait until it takes messages.
  for (let attempt = 0; ; attempt++) {
    const probe = signedGenericMessage({
      url,
      secret,
      id: `probe-${attempt}`,
      conversationId: 'probe',
      sentAt: new Date(),
      text: 'probe',
    });
    const response = await fetch(probe.url, {
      method: 'POST',
      headers: probe.headers as Record<string, string>,
      body: probe.body,
    });
    if (response.ok || attempt > 100) {
      return { channelAccountId: account.channelAccountId, url };
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

async function pipeline(stack: RunningStack, secret: string) {
  const { channelAccountId, url } = await connectGenericAccount(stack, secret);
  return measure(stack, DEMO_PORTAL_ID, channelAccountId, url, secret, 'durable');
}

async function prepare(stack: RunningStack): Promise<string> {
  await seedPortal({ hubspotUrl: stack.urls['hubspot-sandbox'] });
  const channelId = await registerChannel({ gatewayUrl: stack.urls.gateway, opsToken: stack.opsToken });
  await installApp({
    gatewayUrl: stack.urls.gateway,
    hubspotUrl: stack.urls['hubspot-sandbox'],
    portalId: DEMO_PORTAL_ID,
    userId: 77,
  });
  return channelId;
}

/**
 * One portal bursting under HubSpot's limit, the window compressed tenfold so the run stays short: the sandbox
 * allows 110 requests per second and the gateway keeps to 100 per second. Drain time against the theoretical
 * minimum (the first window's 100 at once, then 100 per second), the 429s the gateway received, and whether every
 * message arrived exactly once.
 */
async function burstUnderRateLimit(): Promise<void> {
  const count = Number(process.env['BENCH_BURST'] ?? 2_000);
  const stack = await startStack(DEMO_PORTAL_ID, {
    'hubspot-sandbox': {
      SANDBOX_RATE_LIMIT_MAX: '110',
      SANDBOX_RATE_LIMIT_INTERVAL_MS: '1000',
      SANDBOX_CALL_LOG_MAX: '0',
      SANDBOX_REQUEST_LOGS: 'false',
    },
    'provider-sandbox': { SANDBOX_REQUEST_LOGS: 'false' },
    gateway: {
      HUBSPOT_RATE_LIMIT_PER_10S: '100',
      HUBSPOT_RATE_LIMIT_INTERVAL_MS: '1000',
      HUBSPOT_CONTACT_LOOKUP: 'false',
    },
    connector: { SSRF_ALLOWED_HOSTS: '127.0.0.1' },
  });
  try {
    await prepare(stack);
    const secret = randomBytes(32).toString('hex');
    const { channelAccountId, url } = await connectGenericAccount(stack, secret);
    await new Promise((resolve) => setTimeout(resolve, 1_500)); // let the set-up calls' window pass
    const startedAt = Date.now();
    const intake = await runLoad({
      count,
      concurrency,
      makeRequest: (i) =>
        signedGenericMessage({
          url,
          secret,
          id: `burst-${i}`,
          conversationId: `burst-c${i % conversations}`,
          sentAt: new Date(),
          text: `bench burst ${i}`,
        }),
    });
    const drained = await waitForAll(stack, DEMO_PORTAL_ID, channelAccountId, startedAt, {
      count,
      textPrefix: 'bench burst ',
    });
    const metrics = await (await fetch(`${stack.urls.gateway}/metrics`)).text();
    const rateLimited = [...metrics.matchAll(/^hubspot_rate_limited_total\{[^}]*\} (\d+)/gm)].reduce(
      (sum, match) => sum + Number(match[1]),
      0,
    );
    const minimumMs = (Math.max(0, count - 100) / 100) * 1000;
    log(`\n## one portal bursting ${count} messages under a 110 per second limit (HubSpot's window ÷ 10)`);
    log(
      `intake ${intake.perSecond.toFixed(0)} msg/s (answers ${JSON.stringify(Object.fromEntries(intake.statuses))}); ` +
        `all in HubSpot after ${ms(drained.drainedMs)} ms, theoretical minimum ${ms(minimumMs)} ms ` +
        `(+${(((drained.drainedMs - minimumMs) / minimumMs) * 100).toFixed(1)} %); ` +
        `${drained.stored}/${count} stored once each; HubSpot 429s received: ${rateLimited}`,
    );
  } finally {
    await stack.stop();
  }
}

/**
 * HubSpot's webhook intake alone: signed OUTGOING_CHANNEL_MESSAGE_CREATED events paced at `ackRate` for ten
 * seconds, for a portal that never installed the app (the background worker sets them aside), so the figure is
 * the gateway's verify + dedupe + store + answer under a steady rate.
 */
async function hubspotWebhookAck(stack: RunningStack): Promise<LoadResult> {
  const url = `${stack.urls.gateway}/webhooks/hubspot`;
  return runLoad({
    count: ackRate * 10,
    concurrency,
    ratePerSecond: ackRate,
    makeRequest: () => {
      const messageId = randomUUID();
      const body = JSON.stringify({
        type: 'OUTGOING_CHANNEL_MESSAGE_CREATED',
        eventId: randomUUID(),
        portalId: '999999',
        channelId: '1001',
        eventTimestamp: new Date().toISOString(),
        channelIntegrationThreadIds: ['bench-thread'],
        message: {
          id: messageId,
          type: 'MESSAGE',
          direction: 'OUTGOING',
          channelId: '1001',
          channelAccountId: '77',
          conversationsThreadId: '555',
          createdAt: new Date().toISOString(),
          createdBy: 'A-123',
          senders: [{ actorId: 'A-123', name: 'Rep' }],
          recipients: [
            { actorId: 'V-9', deliveryIdentifier: { type: 'CHANNEL_SPECIFIC_OPAQUE_ID', value: 'x' } },
          ],
          text: 'bench reply',
          truncationStatus: 'NOT_TRUNCATED',
          status: 'SENT',
        },
      });
      const timestamp = String(Date.now());
      return {
        url,
        headers: {
          'content-type': 'application/json',
          'content-length': Buffer.byteLength(body),
          'x-hubspot-request-timestamp': timestamp,
          'x-hubspot-signature-v3': signV3('sandbox-client-secret', 'POST', url, body, timestamp),
        },
        body,
      };
    },
  });
}

log(`# inbound pipeline benchmark — ${new Date().toISOString()}`);
log(
  `machine: ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}`,
);
log(
  `messages ${messages}, conversations ${conversations}, concurrency ${concurrency}, paced rate ${ackRate}/s`,
);
const sections = new Set((process.env['BENCH_SECTIONS'] ?? 'throughput,burst').split(','));
if (sections.has('throughput')) {
  const stack = await startStack(DEMO_PORTAL_ID, {
    'hubspot-sandbox': {
      SANDBOX_RATE_LIMIT_MAX: '0',
      SANDBOX_CALL_LOG_MAX: '0',
      SANDBOX_REQUEST_LOGS: 'false',
    },
    'provider-sandbox': { SANDBOX_REQUEST_LOGS: 'false' },
    gateway: { HUBSPOT_RATE_LIMIT_PER_10S: '1000000', HUBSPOT_CONTACT_LOOKUP: 'false' },
    connector: { SSRF_ALLOWED_HOSTS: '127.0.0.1' },
  });
  try {
    const channelId = await prepare(stack);
    const secret = randomBytes(32).toString('hex');
    report(
      'naive direct forwarder (baseline: no queue, no database, no retries)',
      await baseline(stack, channelId, secret),
    );
    report(
      'inbox-bridge durable pipeline (connector → outbox → RabbitMQ → gateway → HubSpot)',
      await pipeline(stack, secret),
    );
    const ack = await hubspotWebhookAck(stack);
    log(`\n## HubSpot webhook intake (POST /webhooks/hubspot) paced at ${ackRate}/s for 10 s`);
    log(
      `${ack.ack.count} webhooks: answers ${JSON.stringify(Object.fromEntries(ack.statuses))}, errors ${ack.errors}; ` +
        `ack p50 ${ms(ack.ack.p50)} ms, p99 ${ms(ack.ack.p99)} ms, max ${ms(ack.ack.max)} ms`,
    );
  } finally {
    await stack.stop();
  }
}
if (sections.has('burst')) {
  await burstUnderRateLimit();
}
