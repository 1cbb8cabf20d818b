import * as testing from '@inbox-bridge/testing';
import type { RunningStack, ServiceName } from '../stack.js';
import type { ChaosConfig } from './config.js';
import type { ChaosWorld } from './world.js';

export type Disruption =
  | { readonly kind: 'kill'; readonly atMs: number; readonly service: ServiceName; readonly downMs: number }
  | {
      readonly kind: 'broker-outage' | 'database-outage';
      readonly atMs: number;
      readonly durationMs: number;
    };

export interface DisruptionLog {
  readonly done: {
    readonly disruption: Disruption;
    readonly startedAtMs: number;
    readonly tookMs: number;
    /** Set when the service did not come back ready after its restart. */
    readonly failure?: string;
  }[];
  readonly faultPhases: string[];
}

const killable: readonly ServiceName[] = ['gateway', 'connector', 'router'];

/** Kills in turn over the bridge services and outages, at random times in the middle 80 % of the run. */
export function planDisruptions(config: ChaosConfig, random: () => number): Disruption[] {
  const window = config.seconds * 1000;
  const at = (): number => Math.round(window * (0.05 + 0.8 * random()));
  const plan: Disruption[] = [];
  const firstService = Math.floor(random() * killable.length);
  for (let i = 0; i < config.kills; i++) {
    const service = killable[(firstService + i) % killable.length] as ServiceName;
    plan.push({ kind: 'kill', atMs: at(), service, downMs: Math.round(2_000 * random()) });
  }
  for (let i = 0; i < config.brokerOutages; i++) {
    plan.push({ kind: 'broker-outage', atMs: at(), durationMs: config.outageSeconds * 1000 });
  }
  for (let i = 0; i < config.databaseOutages; i++) {
    plan.push({ kind: 'database-outage', atMs: at(), durationMs: config.outageSeconds * 1000 });
  }
  return plan.sort((left, right) => left.atMs - right.atMs);
}

export function describeDisruption(disruption: Disruption): string {
  return disruption.kind === 'kill'
    ? `SIGKILL ${disruption.service}, restart after ${disruption.downMs} ms`
    : `${disruption.kind === 'broker-outage' ? 'RabbitMQ' : 'PostgreSQL'} down for ${disruption.durationMs} ms`;
}

/**
 * Runs the plan one disruption at a time (a kill waits for the service to be ready again before the next
 * disruption starts), so that two outages never hide each other.
 */
export async function runDisruptions(
  stack: RunningStack,
  plan: readonly Disruption[],
  startedAt: number,
  log: (line: string) => void,
): Promise<DisruptionLog['done']> {
  const proxies = stack.proxies;
  if (proxies === undefined) {
    throw new Error('the chaos stack must run with viaProxies');
  }
  const done: DisruptionLog['done'] = [];
  for (const disruption of plan) {
    const wait = startedAt + disruption.atMs - Date.now();
    if (wait > 0) {
      await testing.delay(wait);
    }
    const began = Date.now();
    log(`  t+${((began - startedAt) / 1000).toFixed(1)} s: ${describeDisruption(disruption)}`);
    if (disruption.kind === 'kill') {
      await stack.kill(disruption.service, 'SIGKILL');
      await testing.delay(disruption.downMs);
      try {
        await stack.restart(disruption.service, 'SIGKILL');
      } catch (error) {
        const failure = (error instanceof Error ? error.message : String(error)).split('\n')[0] ?? '';
        log(`  ${failure}`);
        done.push({ disruption, startedAtMs: began - startedAt, tookMs: Date.now() - began, failure });
        continue;
      }
    } else {
      const proxy = disruption.kind === 'broker-outage' ? proxies.rabbitmq : proxies.postgres;
      proxy.cut();
      await testing.delay(disruption.durationMs);
      proxy.restore();
    }
    done.push({ disruption, startedAtMs: began - startedAt, tookMs: Date.now() - began });
  }
  return done;
}

interface FaultPhase {
  readonly name: string;
  apply(world: ChaosWorld): Promise<void>;
}

const HUBSPOT_PATHS = '/conversations/v3/custom-channels';

/**
 * The sandboxes' fault injection, one phase at a time: HubSpot answering 5xx, then 429, then holding requests past
 * the gateway's timeout and dropping connections; Telegram's sendMessage answering 5xx, 429 (retry after 1 s) and
 * answering only after the connector gave up (a timeout; the sandbox has not sent the message). Every Telegram
 * webhook is also delivered twice for a while (a duplicate update, as Telegram does after a lost answer).
 */
const faultPhases: readonly FaultPhase[] = [
  {
    name: 'HubSpot 503 (15 %), Telegram sendMessage 500 (20 %)',
    async apply({ hubspot, provider, portals }) {
      await hubspot.setFaults([{ pathPrefix: HUBSPOT_PATHS, errorRate: 0.15, status: 503 }]);
      for (const portal of portals) {
        await provider.setFault(portal.botId, 'sendMessage', { status: 500, probability: 0.2 });
      }
    },
  },
  {
    name: 'HubSpot 429 (15 %), Telegram sendMessage 429 retry after 1 s (20 %), duplicate webhooks',
    async apply({ hubspot, provider, portals }) {
      await hubspot.setFaults([{ pathPrefix: HUBSPOT_PATHS, errorRate: 0.15, status: 429 }]);
      for (const portal of portals) {
        await provider.setFault(portal.botId, 'sendMessage', {
          status: 429,
          retryAfter: 1,
          probability: 0.2,
        });
        await provider.setWebhookFaults(portal.botId, { duplicate: true, times: 20 });
      }
    },
  },
  {
    name: 'HubSpot held past the timeout (5 %) or dropped (3 %), Telegram sendMessage timing out (next 2 calls)',
    async apply({ hubspot, provider, portals }) {
      await hubspot.setFaults([
        { pathPrefix: HUBSPOT_PATHS, timeoutRate: 0.05, holdMs: 3_000, dropRate: 0.03 },
      ]);
      for (const portal of portals) {
        await provider.setFault(portal.botId, 'sendMessage', { status: 502, latencyMs: 3_000, times: 2 });
      }
    },
  },
  {
    name: 'no faults',
    async apply(world) {
      await clearFaults(world);
    },
  },
];

export async function clearFaults({ hubspot, provider, portals }: ChaosWorld): Promise<void> {
  await hubspot.setFaults([]);
  for (const portal of portals) {
    await provider.clearFaults(portal.botId);
    await provider.clearWebhookFaults(portal.botId);
  }
}

/** Cycles through the fault phases, `phaseMs` each, until `until` resolves; leaves no fault behind. */
export async function cycleFaults(
  world: ChaosWorld,
  phaseMs: number,
  until: Promise<unknown>,
  log: (line: string) => void,
): Promise<string[]> {
  const progress = { finished: false };
  void until
    .finally(() => {
      progress.finished = true;
    })
    .catch(() => undefined);
  const applied: string[] = [];
  for (let i = 0; !progress.finished; i++) {
    const phase = faultPhases[i % faultPhases.length] as FaultPhase;
    await phase.apply(world);
    if (i < faultPhases.length) {
      log(`  faults: ${phase.name}`);
    }
    applied.push(phase.name);
    await Promise.race([testing.delay(phaseMs), until.catch(() => undefined)]);
  }
  await clearFaults(world);
  return applied;
}
