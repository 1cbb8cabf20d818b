// Webhook acknowledgement at a fixed rate: HubSpot's POST /webhooks/hubspot on the gateway next to a bare Node
// HTTP server that only answers 200, the same signed requests paced open-loop at the same rate.
import { signV3 } from '@inbox-bridge/hubspot-sandbox';
import { randomUUID } from 'node:crypto';
import { DEMO_PORTAL_ID } from '../../../../scripts/demo/seed.mjs';
import { startStack } from '../stack.js';
import { SANDBOX_APP, log, ms, quietSandboxes } from './harness.js';
import { runLoad, type LoadRequest, type LoadResult } from './load.js';
import { startBareServer } from './processes.js';

const ACK_TARGET_P99_MS = 20;

/** Agents' replies spread over this many threads, as a portal's traffic is (one thread cannot take 1,000/s). */
const ACK_THREADS = 500;
let nextThread = 0;

/**
 * A signed OUTGOING_CHANNEL_MESSAGE_CREATED event (one per request, as HubSpot sends custom-channel events) for a
 * portal that never installed the app: the gateway verifies, dedupes, stores and answers. Nothing downstream adds
 * work, but the gateway's background worker does: the account is unknown, so it retries each event (1 s, 5 s,
 * 25 s) before refusing it, and its claims compete with the acknowledgements for the database (docs/benchmarks.md).
 */
export function signedOutgoingMessageEvent(url: string): LoadRequest {
  nextThread = (nextThread + 1) % ACK_THREADS;
  const threadId = String(5_000 + nextThread);
  const body = JSON.stringify({
    type: 'OUTGOING_CHANNEL_MESSAGE_CREATED',
    eventId: randomUUID(),
    portalId: '999999',
    channelId: '1001',
    eventTimestamp: new Date().toISOString(),
    channelIntegrationThreadIds: [`bench-thread-${threadId}`],
    message: {
      id: randomUUID(),
      type: 'MESSAGE',
      direction: 'OUTGOING',
      channelId: '1001',
      channelAccountId: '77',
      conversationsThreadId: threadId,
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
      'x-hubspot-signature-v3': signV3(SANDBOX_APP.clientSecret, 'POST', url, body, timestamp),
    },
    body,
  };
}

export function pacedWebhooks(url: string, rate: number, seconds: number, concurrency: number) {
  return runLoad({
    count: Math.round(rate * seconds),
    concurrency,
    ratePerSecond: rate,
    makeRequest: () => signedOutgoingMessageEvent(url),
  });
}

function reportAck(name: string, result: LoadResult, rate: number): void {
  log(
    `${name}: ${result.ack.count} requests at ${rate}/s → achieved ${result.perSecond.toFixed(0)}/s; ` +
      `answers ${JSON.stringify(Object.fromEntries(result.statuses))}, errors ${result.errors}; ` +
      `p50 ${ms(result.ack.p50)} ms, p99 ${ms(result.ack.p99)} ms, max ${ms(result.ack.max)} ms`,
  );
}

export async function webhookAckSection(): Promise<void> {
  const rate = Number(process.env['BENCH_ACK_RATE'] ?? 1_000);
  const seconds = Number(process.env['BENCH_ACK_SECONDS'] ?? 20);
  // Open loop: requests are due at fixed times and latency counts from the due time, so when a server slower
  // than the rate fills every socket, the wait for a free one shows in the latency instead of being hidden.
  const concurrency = Number(process.env['BENCH_ACK_CONCURRENCY'] ?? 256);
  log(
    `\n## webhook acknowledgement: ${rate}/s for ${seconds} s (open loop, ≤ ${concurrency} in flight, 2 s warm-up each)`,
  );
  const bare = await startBareServer();
  try {
    const url = `${bare.url}/webhooks/hubspot`;
    await pacedWebhooks(url, rate, 2, concurrency);
    reportAck(
      'baseline: bare node:http server answering 200',
      await pacedWebhooks(url, rate, seconds, concurrency),
      rate,
    );
  } finally {
    await bare.close();
  }
  const stack = await startStack(DEMO_PORTAL_ID, {
    ...quietSandboxes,
    'hubspot-sandbox': { ...quietSandboxes['hubspot-sandbox'], SANDBOX_RATE_LIMIT_MAX: '0' },
  });
  try {
    const url = `${stack.urls.gateway}/webhooks/hubspot`;
    await pacedWebhooks(url, rate, 2, concurrency);
    const result = await pacedWebhooks(url, rate, seconds, concurrency);
    reportAck('gateway POST /webhooks/hubspot (verify, dedupe, store, answer)', result, rate);
    log(
      `target p99 < ${ACK_TARGET_P99_MS} ms: ${result.ack.p99 < ACK_TARGET_P99_MS && result.errors === 0 ? 'met' : 'NOT met'}`,
    );
  } finally {
    await stack.stop();
  }
}
