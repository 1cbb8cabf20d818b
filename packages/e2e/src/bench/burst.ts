// One portal bursting under HubSpot's limit of 110 requests per rolling 10 s: drain time against the theoretical
// minimum, the 429s HubSpot (the sandbox) answered, and whether every message is stored exactly once.
import { DEMO_PORTAL_ID } from '../../../../scripts/demo/seed.mjs';
import { startStack } from '../stack.js';
import { signedGenericMessage } from './generic-message.js';
import {
  call,
  connectGenericAccount,
  log,
  ms,
  prepare,
  quietSandboxes,
  sleep,
  waitForAll,
} from './harness.js';
import { runLoad } from './load.js';

const HUBSPOT_LIMIT = 110;
const HUBSPOT_WINDOW_MS = 10_000;
const DRAIN_TARGET = 0.05;

interface RecordedCall {
  readonly method: string;
  readonly path: string;
  readonly status: number;
}

export async function burstSection(): Promise<void> {
  const count = Number(process.env['BENCH_BURST'] ?? 5_000);
  // HubSpot's window divided by this; the request counts per window stay as they are.
  const timeScale = Number(process.env['BENCH_BURST_TIME_SCALE'] ?? 2);
  // The gateway's budget per rolling window; unset, its shipped default (108 of HubSpot's 110).
  const gatewayLimit = Number(process.env['BENCH_BURST_GATEWAY_LIMIT'] ?? 108);
  const conversations = Number(process.env['BENCH_CONVERSATIONS'] ?? 500);
  const windowMs = HUBSPOT_WINDOW_MS / timeScale;
  const stack = await startStack(DEMO_PORTAL_ID, {
    ...quietSandboxes,
    'hubspot-sandbox': {
      ...quietSandboxes['hubspot-sandbox'],
      SANDBOX_RATE_LIMIT_MAX: String(HUBSPOT_LIMIT),
      SANDBOX_RATE_LIMIT_INTERVAL_MS: String(windowMs),
      SANDBOX_CALL_LOG_MAX: String(count * 3 + 1_000),
      SANDBOX_CALL_LOG_BODIES: 'false',
    },
    gateway: {
      HUBSPOT_RATE_LIMIT_PER_10S: String(gatewayLimit),
      HUBSPOT_RATE_LIMIT_INTERVAL_MS: String(windowMs),
      HUBSPOT_CONTACT_LOOKUP: 'false',
    },
  });
  try {
    await prepare(stack);
    const account = await connectGenericAccount(stack);
    await sleep(windowMs * 1.2); // the set-up calls leave the window; the gateway's bucket refills
    const hubspot = stack.urls['hubspot-sandbox'];
    const callsBefore = (
      await call<RecordedCall[]>('GET', `${hubspot}/__sandbox/portals/${DEMO_PORTAL_ID}/calls`)
    ).length;
    const startedAt = Date.now();
    const intake = await runLoad({
      count,
      concurrency: 64,
      makeRequest: (i) =>
        signedGenericMessage({
          url: account.url,
          secret: account.secret,
          id: `burst-${i}`,
          conversationId: `burst-c${i % conversations}`,
          sentAt: new Date(),
          text: `bench burst ${i}`,
        }),
    });
    const hubspotMinimumMs = (Math.ceil(count / HUBSPOT_LIMIT) - 1) * windowMs;
    // The gateway's own budget: its whole window's worth at once, then again a window later.
    const gatewayMinimumMs = (Math.ceil(count / gatewayLimit) - 1) * windowMs;
    const drained = await waitForAll(stack, DEMO_PORTAL_ID, account.channelAccountId, startedAt, {
      count,
      textPrefix: 'bench burst ',
      timeoutMs: Math.max(600_000, hubspotMinimumMs * 3),
    });
    const calls = (
      await call<RecordedCall[]>('GET', `${hubspot}/__sandbox/portals/${DEMO_PORTAL_ID}/calls`)
    ).slice(callsBefore);
    const tooMany = calls.filter((recorded) => recorded.status === 429).length;
    const published = calls.filter(
      (recorded) =>
        recorded.method === 'POST' && recorded.path.endsWith('/messages') && recorded.status === 201,
    ).length;
    const over = (drained.lastStoredMs - hubspotMinimumMs) / hubspotMinimumMs;
    log(
      `\n## burst: one portal sends ${count} messages at once under HubSpot's ${HUBSPOT_LIMIT} per window` +
        ` (window compressed ${timeScale}× to ${windowMs} ms; request counts unchanged; gateway budget ${gatewayLimit} per rolling window)`,
    );
    log(
      `intake ${intake.perSecond.toFixed(0)} msg/s (answers ${JSON.stringify(Object.fromEntries(intake.statuses))}, errors ${intake.errors})`,
    );
    log(
      `drained (last message stored in HubSpot) after ${ms(drained.lastStoredMs)} ms; theoretical minimum under ` +
        `HubSpot's limit ${ms(hubspotMinimumMs)} ms → +${(over * 100).toFixed(1)} % (target ≤ ${DRAIN_TARGET * 100} %: ` +
        `${over <= DRAIN_TARGET ? 'met' : 'NOT met'}); minimum under the gateway's own budget ${ms(gatewayMinimumMs)} ms ` +
        `(+${(((drained.lastStoredMs - gatewayMinimumMs) / gatewayMinimumMs) * 100).toFixed(1)} %)`,
    );
    log(
      `at real time (×${timeScale}): drained ${ms((drained.lastStoredMs * timeScale) / 1000)} s, minimum ${ms((hubspotMinimumMs * timeScale) / 1000)} s`,
    );
    log(
      `HubSpot (sandbox call log): ${tooMany} × 429, ${published} messages accepted (201), ${calls.length} API calls; ` +
        `stored ${drained.stored}/${count}, distinct ${drained.distinct} → ` +
        (drained.stored === count && drained.distinct === count
          ? 'nothing lost, nothing twice'
          : 'LOST OR DUPLICATED'),
    );
  } finally {
    await stack.stop();
  }
}
