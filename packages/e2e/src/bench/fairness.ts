// Fairness: one portal floods at ten times HubSpot's limit while twenty quiet portals each send 0.5 msg/s; the
// quiet portals' end-to-end latency (customer send → stored in the HubSpot sandbox) next to the same quiet load
// alone, in one run, at HubSpot's real limit (110 per 10 s per portal, not compressed).
import { DEMO_PORTAL_ID } from '../../../../scripts/demo/seed.mjs';
import { startStack, type RunningStack } from '../stack.js';
import { signedGenericMessage } from './generic-message.js';
import {
  connectGenericAccount,
  log,
  ms,
  prepare,
  quietSandboxes,
  seedAndInstallPortal,
  sleep,
  storedIncoming,
  type GenericAccount,
} from './harness.js';
import { runLoad, summarize, type LatencySummary, type LoadResult } from './load.js';

const QUIET_TARGET_P99_MS = 1_000;
const FIRST_QUIET_PORTAL = 5_001;

function send(
  account: GenericAccount,
  options: { rate: number; seconds: number; label: string; conversations: number },
) {
  return runLoad({
    count: Math.max(1, Math.round(options.rate * options.seconds)),
    concurrency: Math.max(1, Math.min(64, Math.ceil(options.rate))),
    ratePerSecond: options.rate,
    makeRequest: (i) =>
      signedGenericMessage({
        url: account.url,
        secret: account.secret,
        id: `${options.label}-${account.portalId}-${i}`,
        conversationId: `${options.label}-${account.portalId}-c${i % options.conversations}`,
        sentAt: new Date(),
        text: `bench ${options.label} ${i}`,
      }),
  });
}

/** Every quiet portal sends `rate` msg/s for `seconds`, their starts spread over one interval. */
async function quietLoad(quiet: readonly GenericAccount[], label: string, rate: number, seconds: number) {
  const spread = 1000 / rate / quiet.length;
  return Promise.all(
    quiet.map(async (account, index) => {
      await sleep(index * spread);
      return send(account, { rate, seconds, label, conversations: 2 });
    }),
  );
}

/** Waits until each quiet portal's messages are in HubSpot (or `timeoutMs`), then summarises their latency. */
async function quietLatency(
  stack: RunningStack,
  quiet: readonly GenericAccount[],
  label: string,
  expectedEach: number,
  timeoutMs: number,
): Promise<{ latency: LatencySummary; stored: number; expected: number }> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const stored = await Promise.all(
      quiet.map((account) =>
        storedIncoming(stack, account.portalId, account.channelAccountId, `bench ${label} `),
      ),
    );
    const total = stored.reduce((sum, list) => sum + list.length, 0);
    if (total >= expectedEach * quiet.length || Date.now() > deadline) {
      return {
        latency: summarize(stored.flat().map((message) => message.latencyMs)),
        stored: total,
        expected: expectedEach * quiet.length,
      };
    }
    await sleep(1_000);
  }
}

function reportQuiet(
  name: string,
  result: Awaited<ReturnType<typeof quietLatency>>,
  loads: LoadResult[],
): void {
  const errors = loads.reduce((sum, load) => sum + load.errors, 0);
  const statuses = new Map<number, number>();
  for (const load of loads) {
    for (const [status, times] of load.statuses) {
      statuses.set(status, (statuses.get(status) ?? 0) + times);
    }
  }
  log(
    `${name}: ${result.stored}/${result.expected} in HubSpot (webhook answers ${JSON.stringify(Object.fromEntries(statuses))}, ` +
      `errors ${errors}); send→HubSpot p50 ${ms(result.latency.p50)} ms, p99 ${ms(result.latency.p99)} ms, ` +
      `max ${ms(result.latency.max)} ms`,
  );
}

export async function fairnessSection(): Promise<void> {
  const seconds = Number(process.env['BENCH_FAIRNESS_SECONDS'] ?? 60);
  const quietPortals = Number(process.env['BENCH_QUIET_PORTALS'] ?? 20);
  const quietRate = Number(process.env['BENCH_QUIET_RATE'] ?? 0.5);
  // Ten times HubSpot's 110 per 10 s.
  const floodRate = Number(process.env['BENCH_FLOOD_RATE'] ?? 110);
  const quietPortalIds = Array.from({ length: quietPortals }, (_, index) => FIRST_QUIET_PORTAL + index);
  const stack = await startStack(
    DEMO_PORTAL_ID,
    { ...quietSandboxes, gateway: { HUBSPOT_CONTACT_LOOKUP: 'false' } },
    { adminPortalIds: quietPortalIds },
  );
  try {
    await prepare(stack);
    const flooding = await connectGenericAccount(stack);
    const quiet: GenericAccount[] = [];
    for (const portalId of quietPortalIds) {
      const inboxId = await seedAndInstallPortal(stack, portalId);
      quiet.push(await connectGenericAccount(stack, portalId, inboxId));
    }
    await sleep(10_000); // the set-up calls leave HubSpot's window
    const expectedEach = Math.max(1, Math.round(quietRate * seconds));
    log(
      `\n## fairness: ${quietPortals} quiet portals at ${quietRate} msg/s each for ${seconds} s, alone and next to one ` +
        `portal flooding at ${floodRate} msg/s (HubSpot: 110 per 10 s per portal, real time; gateway budget: its defaults)`,
    );
    const aloneLoads = await quietLoad(quiet, 'quiet-alone', quietRate, seconds);
    const alone = await quietLatency(stack, quiet, 'quiet-alone', expectedEach, 60_000);
    reportQuiet('baseline: quiet portals alone', alone, aloneLoads);

    const floodStartedAt = Date.now();
    const [floodLoad, withFloodLoads] = await Promise.all([
      send(flooding, { rate: floodRate, seconds, label: 'flood', conversations: 50 }),
      quietLoad(quiet, 'quiet-flood', quietRate, seconds),
    ]);
    const withFlood = await quietLatency(stack, quiet, 'quiet-flood', expectedEach, 120_000);
    reportQuiet('quiet portals next to the flood', withFlood, withFloodLoads);
    const floodStored = await storedIncoming(
      stack,
      DEMO_PORTAL_ID,
      flooding.channelAccountId,
      'bench flood ',
    );
    const floodSeconds = (Date.now() - floodStartedAt) / 1000;
    log(
      `flooding portal: sent ${floodLoad.ack.count} at ${floodLoad.perSecond.toFixed(0)}/s (answers ` +
        `${JSON.stringify(Object.fromEntries(floodLoad.statuses))}, errors ${floodLoad.errors}); ${floodStored.length} in ` +
        `HubSpot after ${floodSeconds.toFixed(0)} s = ${(floodStored.length / floodSeconds).toFixed(1)}/s (its limit: 11/s)`,
    );
    log(
      `target quiet p99 < ${QUIET_TARGET_P99_MS} ms next to the flood: ${
        withFlood.latency.p99 < QUIET_TARGET_P99_MS && withFlood.stored === withFlood.expected
          ? 'met'
          : 'NOT met'
      }`,
    );
  } finally {
    await stack.stop();
  }
}
