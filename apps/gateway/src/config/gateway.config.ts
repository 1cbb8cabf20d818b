import {
  commonConfigSchema,
  devDefaultProblems,
  loadConfig,
  nonEmptyString,
  port,
  retentionMs,
  secret,
  url,
  type Env,
} from '@inbox-bridge/service-kit';
import type { z } from 'zod';
import {
  accountsConfigShape,
  credentialsTransitProblems,
  opsTokenProblems,
  settingsLinkProblems,
} from '../accounts/accounts.wiring.js';
import { platformConfigShape, platformProductionProblems } from '../platform/platform.wiring.js';

/**
 * DEV ONLY: the client secret `apps/hubspot-sandbox` signs its webhooks with (`SANDBOX_CLIENT_SECRET`'s
 * default). Every real deployment must set `HUBSPOT_CLIENT_SECRET` to the HubSpot app's client secret.
 */
export const DEV_SANDBOX_CLIENT_SECRET = 'sandbox-client-secret';

/** The gateway's environment: the common variables plus the HubSpot webhook settings. */
export const gatewayConfigSchema = commonConfigSchema.extend({
  PORT: port().default(3000),
  /**
   * The public origin HubSpot calls (scheme, host and optional path prefix, e.g. `https://bridge.example.com`),
   * used to rebuild the signed URL behind a proxy. Required (https) in production; elsewhere, unset: derived from
   * the request's protocol and Host header.
   */
  PUBLIC_BASE_URL: url({ protocols: ['https:', 'http:'] }).optional(),
  /**
   * The HubSpot app's client secret (webhook signature v3 key). The default is the sandbox's, for
   * development and tests only: with `NODE_ENV=production` (the default) it must be set to another value.
   */
  HUBSPOT_CLIENT_SECRET: secret(nonEmptyString()).default(DEV_SANDBOX_CLIENT_SECRET),
  /**
   * How long the records of each message are kept: what was published (and its HubSpot ids, for a rep's reply
   * that quotes it), reply statuses, conversation events received and the bridge's own assignments (told apart from
   * their echo). At least 72 h.
   */
  MESSAGE_RECORD_RETENTION_MS: retentionMs(72).default(2160 * 3_600_000),
  ...platformConfigShape,
  ...accountsConfigShape,
});

export type GatewayConfig = z.output<typeof gatewayConfigSchema>;

/**
 * Validates `env` once; throws a `ConfigValidationError` naming every bad or missing variable, including
 * `HUBSPOT_CLIENT_SECRET`, the platform's app credentials and `CREDENTIALS_TRANSIT_PUBLIC_KEY` when unset (or dev
 * defaults) in production, the HubSpot and public origins unless https in production,
 * `ROUTER_PUBLIC_URL` / `SETTINGS_LINK_SECRET` set one without the other, and an `OPS_API_TOKEN` that is also an
 * `ADMIN_TOKENS` token.
 */
export function loadGatewayConfig(env: Env): GatewayConfig {
  const crossProblems = [
    // The sandbox's secret would accept webhooks signed by anyone who reads this repository.
    ...devDefaultProblems(env, [['HUBSPOT_CLIENT_SECRET', (value) => value === DEV_SANDBOX_CLIENT_SECRET]]),
    ...platformProductionProblems(env),
    ...credentialsTransitProblems(env),
    ...settingsLinkProblems(env),
    ...opsTokenProblems(env),
  ];
  return loadConfig(gatewayConfigSchema, env, crossProblems);
}
