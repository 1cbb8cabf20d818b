/** The size and pace of a chaos run; every knob has a CHAOS_* environment variable. */
export interface ChaosConfig {
  /** Inbound customer messages, spread round-robin over the conversations. */
  readonly messages: number;
  readonly conversations: number;
  readonly portals: number;
  /** Agent replies, sent while the inbound traffic runs. */
  readonly replies: number;
  /** SIGKILL + restart of a bridge service (gateway, connector, router in turn). */
  readonly kills: number;
  /** Simulated RabbitMQ and PostgreSQL restarts: the proxy in front drops every connection, refuses new ones. */
  readonly brokerOutages: number;
  readonly databaseOutages: number;
  readonly outageSeconds: number;
  /** How long the traffic and the disruptions last. */
  readonly seconds: number;
  /** How long the checker waits, once the disruptions end, for every message to arrive. */
  readonly settleSeconds: number;
  /** Seed of the disruption schedule, so a failing run can be replayed with the same timings. */
  readonly seed: number;
}

export const ciChaosConfig: ChaosConfig = {
  messages: 200,
  conversations: 20,
  portals: 2,
  replies: 30,
  kills: 3,
  brokerOutages: 1,
  databaseOutages: 1,
  outageSeconds: 4,
  seconds: 50,
  settleSeconds: 90,
  seed: 7,
};

export const defaultChaosConfig: ChaosConfig = {
  messages: 3_000,
  conversations: 150,
  portals: 5,
  replies: 300,
  kills: 12,
  brokerOutages: 2,
  databaseOutages: 2,
  outageSeconds: 5,
  seconds: 240,
  settleSeconds: 300,
  seed: Date.now() % 1_000_000,
};

const knobs: Readonly<Record<keyof ChaosConfig, string>> = {
  messages: 'CHAOS_MESSAGES',
  conversations: 'CHAOS_CONVERSATIONS',
  portals: 'CHAOS_PORTALS',
  replies: 'CHAOS_REPLIES',
  kills: 'CHAOS_KILLS',
  brokerOutages: 'CHAOS_BROKER_OUTAGES',
  databaseOutages: 'CHAOS_DB_OUTAGES',
  outageSeconds: 'CHAOS_OUTAGE_SECONDS',
  seconds: 'CHAOS_SECONDS',
  settleSeconds: 'CHAOS_SETTLE_SECONDS',
  seed: 'CHAOS_SEED',
};

/** `base` with every CHAOS_* variable set in `env` applied; a value that is not a non-negative number is refused. */
export function chaosConfigFromEnv(
  base: ChaosConfig,
  env: Readonly<Record<string, string | undefined>>,
): ChaosConfig {
  const config: Record<string, number> = { ...base };
  for (const [field, variable] of Object.entries(knobs)) {
    const raw = env[variable];
    if (raw === undefined || raw === '') {
      continue;
    }
    const value = Number(raw);
    if (!Number.isFinite(value) || value < 0) {
      throw new Error(`${variable} must be a non-negative number, got ${JSON.stringify(raw)}`);
    }
    config[field] = value;
  }
  const result = config as unknown as ChaosConfig;
  if (result.conversations < result.portals || result.portals < 1 || result.seconds <= 0) {
    throw new Error('CHAOS_PORTALS must be ≥ 1, CHAOS_CONVERSATIONS ≥ CHAOS_PORTALS and CHAOS_SECONDS > 0');
  }
  return result;
}

/** A small deterministic pseudo-random generator (mulberry32), so a seed replays a schedule. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}
