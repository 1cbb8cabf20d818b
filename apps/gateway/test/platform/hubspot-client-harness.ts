import { SecretBox, type DrainState } from '@inbox-bridge/service-kit';
import * as testing from '@inbox-bridge/testing';
import { randomBytes } from 'node:crypto';
import { Registry } from 'prom-client';
import { DataSource } from 'typeorm';
import { HttpHubSpotApi } from '../../src/hubspot/hubspot-api.client.js';
import { HubSpotOAuthClient } from '../../src/hubspot/hubspot-oauth.client.js';
import { HubSpotMetrics } from '../../src/hubspot/hubspot.metrics.js';
import { PortalRateLimiter } from '../../src/hubspot/portal-rate-limiter.js';
import { PortalTokens } from '../../src/hubspot/portal-tokens.js';

export const SANDBOX_CLIENT = {
  appId: '1000001',
  clientId: 'sandbox-client-id',
  clientSecret: 'sandbox-client-secret',
  developerApiKey: 'sandbox-developer-api-key',
} as const;

export const TEST_SECRETS = SecretBox.fromConfig({
  ENCRYPTION_KEYS: `k1:${randomBytes(32).toString('base64')}`,
  ENCRYPTION_ACTIVE_KEY_ID: 'k1',
});

export interface ClientReplica {
  readonly api: HttpHubSpotApi;
  readonly tokens: PortalTokens;
  readonly limiter: PortalRateLimiter;
  readonly registry: Registry;
  readonly dataSource: DataSource;
  close(): Promise<void>;
}

export interface ReplicaOptions {
  readonly sandboxUrl: string;
  readonly maxPerInterval?: number;
  readonly intervalMs?: number;
  readonly timeoutMs?: number;
  readonly maxAttempts?: number;
  readonly maxWaitMs?: number;
  readonly retryBaseMs?: number;
  /** The process's drain state (SIGTERM), as the gateway passes it. */
  readonly drain?: DrainState;
}

/**
 * One gateway replica's HubSpot client, wired as PlatformModule wires it, with its own connection pool on
 * the test schema (so two replicas share only what PostgreSQL shares).
 */
export async function startClientReplica(
  db: testing.TestDatabase,
  options: ReplicaOptions,
): Promise<ClientReplica> {
  const dataSource = new DataSource({
    type: 'postgres',
    url: testing.testDatabaseUrl,
    schema: db.schema,
    extra: { max: 4, options: `-c search_path=${db.schema},public` },
  });
  await dataSource.initialize();
  const registry = new Registry();
  const metrics = new HubSpotMetrics(registry);
  const intervalMs = options.intervalMs ?? 1_000;
  const oauth = new HubSpotOAuthClient({
    baseUrl: options.sandboxUrl,
    clientId: SANDBOX_CLIENT.clientId,
    clientSecret: SANDBOX_CLIENT.clientSecret,
    timeoutMs: 5_000,
  });
  const tokens = new PortalTokens(dataSource, db.schema, TEST_SECRETS, oauth, metrics);
  const limiter = new PortalRateLimiter(dataSource, db.schema, {
    maxPerInterval: options.maxPerInterval ?? 1_000,
    intervalMs,
    maxWaitMs: options.maxWaitMs ?? 60_000,
    maxCallMs: options.timeoutMs ?? 5_000,
  });
  const api = new HttpHubSpotApi(
    {
      baseUrl: options.sandboxUrl,
      appId: SANDBOX_CLIENT.appId,
      developerApiKey: SANDBOX_CLIENT.developerApiKey,
      timeoutMs: options.timeoutMs ?? 5_000,
      maxAttempts: options.maxAttempts ?? 5,
      baseDelayMs: options.retryBaseMs ?? 20,
      rateIntervalMs: intervalMs,
    },
    limiter,
    tokens,
    metrics,
    new PortalRateLimiter(dataSource, db.schema, {
      maxPerInterval: 4,
      intervalMs: 1_000,
      maxWaitMs: 60_000,
      maxCallMs: options.timeoutMs ?? 5_000,
    }),
    options.drain,
  );
  return { api, tokens, limiter, registry, dataSource, close: () => dataSource.destroy() };
}

export async function metricValue(
  registry: Registry,
  name: string,
  labels: Record<string, string> = {},
): Promise<number> {
  const metric = await registry.getSingleMetric(name)?.get();
  return (metric?.values ?? [])
    .filter((value) => Object.entries(labels).every(([key, wanted]) => String(value.labels[key]) === wanted))
    .reduce((sum, value) => sum + value.value, 0);
}
