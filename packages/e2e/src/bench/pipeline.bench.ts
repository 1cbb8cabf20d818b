// npm run bench:pipeline — the benchmarks of issue 7 §4 that run every service as a process on this machine, each
// next to a baseline in the same run (docs/benchmarks.md):
//   throughput  inbound through the durable pipeline (connector → RabbitMQ → gateway → HubSpot sandbox) next to a
//               naive direct forwarder (no durability), both posting to the same HubSpot sandbox;
//   outbound    agents' replies from the HubSpot sandbox through the pipeline to Telegram customers (provider
//               sandbox) next to a naive forwarder from HubSpot's webhook straight to Telegram;
//   ack         HubSpot's webhook acknowledgement at a fixed rate next to a bare node:http server;
//   burst       one portal bursting under HubSpot's 110 per 10 s (time-compressed) against the theoretical minimum;
//   fairness    one portal flooding at ten times its limit next to twenty quiet portals, against them alone;
//   memory      resident memory per service idle, under load and after a soak, next to a bare node:http process.
// Knobs: BENCH_SECTIONS (throughput,outbound,ack,burst,fairness,memory); throughput: BENCH_MESSAGES (5000),
// BENCH_CONVERSATIONS (500), BENCH_CONCURRENCY (64), BENCH_PACED_RATE (1000), BENCH_GATEWAY_LIMIT (1000000),
// BENCH_TRACING (1: then the pipeline with every span exported, then again without, in the same run); ack: BENCH_ACK_RATE (1000),
// BENCH_ACK_SECONDS (20); burst: BENCH_BURST (5000), BENCH_BURST_TIME_SCALE (2), BENCH_BURST_GATEWAY_LIMIT (108);
// fairness: BENCH_FAIRNESS_SECONDS (60), BENCH_QUIET_PORTALS (20), BENCH_QUIET_RATE (0.5), BENCH_FLOOD_RATE (110);
// memory: BENCH_SOAK_SECONDS (600), BENCH_SOAK_RATE (25); outbound: BENCH_OUTBOUND_REPLIES (2000),
// BENCH_OUTBOUND_BOTS (40), BENCH_CONCURRENCY.
import { randomBytes } from 'node:crypto';
import { cpus, loadavg, totalmem } from 'node:os';
import { DEMO_PORTAL_ID } from '../../../../scripts/demo/seed.mjs';
import { startStack, type RunningStack } from '../stack.js';
import { webhookAckSection } from './ack.js';
import { burstSection } from './burst.js';
import { fairnessSection } from './fairness.js';
import { signedGenericMessage } from './generic-message.js';
import {
  call,
  connectGenericAccount,
  log,
  meanBatchSizes,
  ms,
  prepare,
  quietSandboxes,
  waitForAll,
} from './harness.js';
import { runLoad, type LoadResult } from './load.js';
import { memorySection } from './memory.js';
import { startNaiveForwarder } from './naive-forwarder.js';
import { outboundSection } from './outbound.js';
import { startSpanSink } from './span-sink.js';

const messages = Number(process.env['BENCH_MESSAGES'] ?? 5_000);
const conversations = Number(process.env['BENCH_CONVERSATIONS'] ?? 500);
const concurrency = Number(process.env['BENCH_CONCURRENCY'] ?? 64);
const pacedRate = Number(process.env['BENCH_PACED_RATE'] ?? 1_000);
const gatewayLimit = Number(process.env['BENCH_GATEWAY_LIMIT'] ?? 1_000_000);
const compareTracing = process.env['BENCH_TRACING'] === '1';
const BASELINE_PORTAL_ID = 7001;

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
    count: Math.min(messages, pacedRate * 10),
    concurrency,
    ratePerSecond: pacedRate,
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
    `in HubSpot: ${endToEnd.stored}/${messages}, the last stored ${ms(endToEnd.lastStoredMs)} ms after the first send = ` +
      `${((endToEnd.stored * 1000) / endToEnd.lastStoredMs).toFixed(0)} msg/s end to end; ` +
      `send→HubSpot p50 ${ms(endToEnd.latency.p50)} ms, p99 ${ms(endToEnd.latency.p99)} ms`,
  );
  log(
    `paced at ${pacedRate} msg/s (${paced.ack.count} messages): ack p50 ${ms(paced.ack.p50)} ms, ` +
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

async function pipeline(stack: RunningStack) {
  const account = await connectGenericAccount(stack);
  const result = await measure(
    stack,
    DEMO_PORTAL_ID,
    account.channelAccountId,
    account.url,
    account.secret,
    'durable',
  );
  for (const service of ['gateway', 'router'] as const) {
    log(
      `${service} consumer batches: ${JSON.stringify(await meanBatchSizes(`${stack.urls[service]}/metrics`))}`,
    );
  }
  return result;
}

async function throughputSection(): Promise<void> {
  log(
    `\n# throughput: ${messages} messages, ${conversations} conversations, ${concurrency} in flight, paced rate ${pacedRate}/s`,
  );
  const stackOf = (services: Readonly<Record<string, string>> = {}) =>
    startStack(DEMO_PORTAL_ID, {
      ...quietSandboxes,
      'hubspot-sandbox': { ...quietSandboxes['hubspot-sandbox'], SANDBOX_RATE_LIMIT_MAX: '0' },
      // The gateway's budget out of reach too (BENCH_GATEWAY_LIMIT); its limiter still grants every call its place.
      gateway: {
        HUBSPOT_RATE_LIMIT_PER_10S: String(gatewayLimit),
        HUBSPOT_CONTACT_LOOKUP: 'false',
        ...services,
      },
      connector: services,
      router: services,
    });
  const stack = await stackOf();
  try {
    const channelId = await prepare(stack);
    report(
      'naive direct forwarder (baseline: no queue, no database, no retries)',
      await baseline(stack, channelId, randomBytes(32).toString('hex')),
    );
    report(
      'inbox-bridge durable pipeline (connector → outbox → RabbitMQ → gateway → HubSpot)',
      await pipeline(stack),
    );
  } finally {
    await stack.stop();
  }
  if (compareTracing) {
    const pipelineOnItsOwnStack = async (title: string, services: Readonly<Record<string, string>> = {}) => {
      const own = await stackOf(services);
      try {
        await prepare(own);
        report(title, await pipeline(own));
      } finally {
        await own.stop();
      }
    };
    const sink = await startSpanSink();
    try {
      await pipelineOnItsOwnStack(
        'the same pipeline, every span exported (OTLP/HTTP to a sink that counts them)',
        sink.env,
      );
      const { requests, spans } = sink.received();
      log(`spans received: ${spans} in ${requests} export requests`);
    } finally {
      await sink.close();
    }
    // Once more without traces, so the traced run sits between two untraced ones (the machine drifts).
    await pipelineOnItsOwnStack('the same pipeline again, traces off');
  }
}

const sectionRunners: Readonly<Record<string, () => Promise<void>>> = {
  throughput: throughputSection,
  outbound: outboundSection,
  ack: webhookAckSection,
  burst: burstSection,
  fairness: fairnessSection,
  memory: memorySection,
};

log(`# pipeline benchmarks — ${new Date().toISOString()}`);
log(
  `machine: ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}, ` +
    `load average at start ${loadavg()
      .map((value) => value.toFixed(1))
      .join(' ')}`,
);
const sections = (process.env['BENCH_SECTIONS'] ?? Object.keys(sectionRunners).join(',')).split(',');
for (const section of sections) {
  const runner = sectionRunners[section.trim()];
  if (runner === undefined) {
    throw new Error(`unknown section "${section}"; known: ${Object.keys(sectionRunners).join(', ')}`);
  }
  const startedAt = Date.now();
  await runner();
  log(
    `(${section} took ${((Date.now() - startedAt) / 1000).toFixed(0)} s; load average now ${loadavg()[0]?.toFixed(1)})`,
  );
}
