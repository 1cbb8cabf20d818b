// Resident memory of every service process idle, under a steady load and after a soak, next to a bare Node HTTP
// server process taking the same request rate.
import { DEMO_PORTAL_ID } from '../../../../scripts/demo/seed.mjs';
import { startStack, type ServiceName } from '../stack.js';
import { pacedWebhooks } from './ack.js';
import { signedGenericMessage } from './generic-message.js';
import { connectGenericAccount, log, prepare, quietSandboxes, sleep, waitForAll } from './harness.js';
import { runLoad } from './load.js';
import { pidListeningOn, residentMiB, startBareServer } from './processes.js';

const RSS_TARGET_MIB = 200;
/** Growth from the first quarter of the soak to its end that still counts as flat. */
const FLAT_TOLERANCE = 0.1;
const SAMPLE_EVERY_MS = 10_000;

const services: readonly ServiceName[] = [
  'gateway',
  'connector',
  'router',
  'hubspot-sandbox',
  'provider-sandbox',
];

export async function memorySection(): Promise<void> {
  const soakSeconds = Number(process.env['BENCH_SOAK_SECONDS'] ?? 600);
  const rate = Number(process.env['BENCH_SOAK_RATE'] ?? 25);
  const stack = await startStack(DEMO_PORTAL_ID, {
    ...quietSandboxes,
    'hubspot-sandbox': { ...quietSandboxes['hubspot-sandbox'], SANDBOX_RATE_LIMIT_MAX: '0' },
    gateway: { HUBSPOT_RATE_LIMIT_PER_10S: '1000000', HUBSPOT_CONTACT_LOOKUP: 'false' },
  });
  const bare = await startBareServer();
  try {
    await prepare(stack);
    const account = await connectGenericAccount(stack);
    const pids = new Map<string, number>(
      services.map((name) => [name, pidListeningOn(Number(new URL(stack.urls[name]).port))]),
    );
    pids.set('baseline: bare node:http', bare.pid);
    const sample = (): Map<string, number> =>
      new Map([...pids].map(([name, pid]) => [name, residentMiB(pid)]));
    const idle = sample();
    const samples: { atSeconds: number; rss: Map<string, number> }[] = [];
    const startedAt = Date.now();
    const count = Math.round(rate * soakSeconds);
    // Customer messages into the pipeline (a new conversation every fifth message, so the router decides too)
    // and HubSpot reply events into the gateway's webhook; the bare server gets both rates of plain requests.
    const loads = Promise.all([
      runLoad({
        count,
        concurrency: 64,
        ratePerSecond: rate,
        makeRequest: (i) =>
          signedGenericMessage({
            url: account.url,
            secret: account.secret,
            id: `soak-${i}`,
            conversationId: `soak-c${Math.floor(i / 5)}`,
            sentAt: new Date(),
            text: `bench soak ${i}`,
          }),
      }),
      pacedWebhooks(`${stack.urls.gateway}/webhooks/hubspot`, rate, soakSeconds, 64),
      pacedWebhooks(`${bare.url}/webhooks/hubspot`, rate * 2, soakSeconds, 64),
    ]);
    const loadEndsAt = startedAt + soakSeconds * 1000;
    while (Date.now() < loadEndsAt) {
      await sleep(SAMPLE_EVERY_MS);
      samples.push({ atSeconds: (Date.now() - startedAt) / 1000, rss: sample() });
    }
    const [inbound, replies] = await loads;
    // A request that failed (a reset socket) was never accepted; every accepted one must arrive.
    const accepted = inbound.statuses.get(200) ?? 0;
    const drained = await waitForAll(stack, DEMO_PORTAL_ID, account.channelAccountId, startedAt, {
      count: accepted,
      textPrefix: 'bench soak ',
      timeoutMs: 300_000,
    });
    await sleep(15_000);
    const settled = sample();

    const early = samples[Math.max(0, Math.floor(samples.length / 4) - 1)];
    const underLoad = samples.find((entry) => entry.atSeconds >= 60) ?? samples[0];
    const last = samples[samples.length - 1];
    log(
      `\n## resident memory (VmRSS, MiB): ${rate} customer msg/s + ${rate} HubSpot webhooks/s for ${soakSeconds} s, ` +
        `sampled every ${SAMPLE_EVERY_MS / 1000} s`,
    );
    log(
      `load: inbound ${inbound.perSecond.toFixed(0)}/s (errors ${inbound.errors}, answers ${JSON.stringify(Object.fromEntries(inbound.statuses))}), ` +
        `webhooks ${replies.perSecond.toFixed(0)}/s (errors ${replies.errors}); ${drained.stored}/${accepted} accepted customer messages ` +
        `in HubSpot (distinct ${drained.distinct}), send→HubSpot p50 ${drained.latency.p50.toFixed(0)} ms, p99 ${drained.latency.p99.toFixed(0)} ms`,
    );
    log(
      `| process | idle | under load (${underLoad?.atSeconds.toFixed(0)} s) | at ${early?.atSeconds.toFixed(0)} s | peak | ` +
        `end of soak (${last?.atSeconds.toFixed(0)} s) | 15 s after | < ${RSS_TARGET_MIB} MiB and flat |`,
    );
    log('|---|---:|---:|---:|---:|---:|---:|---|');
    for (const name of pids.keys()) {
      const at = (entry: { rss: Map<string, number> } | undefined): number =>
        entry?.rss.get(name) ?? Number.NaN;
      const peak = Math.max(...samples.map((entry) => at(entry)));
      const growth = (at(last) - at(early)) / at(early);
      const verdict =
        peak < RSS_TARGET_MIB && growth <= FLAT_TOLERANCE
          ? 'met'
          : `NOT met (${peak >= RSS_TARGET_MIB ? 'peak over' : ''}${growth > FLAT_TOLERANCE ? ` grew ${(growth * 100).toFixed(0)} %` : ''})`;
      log(
        `| ${name} | ${[idle.get(name), at(underLoad), at(early), peak, at(last), settled.get(name)]
          .map((value) => (value ?? Number.NaN).toFixed(0))
          .join(' | ')} | ${verdict} |`,
      );
    }
    log(
      `series (s: ${services.join(', ')}): ` +
        samples
          .map(
            (entry) =>
              `${entry.atSeconds.toFixed(0)}: ${services.map((name) => entry.rss.get(name)?.toFixed(0)).join('/')}`,
          )
          .join('; '),
    );
  } finally {
    await bare.close();
    await stack.stop();
  }
}
