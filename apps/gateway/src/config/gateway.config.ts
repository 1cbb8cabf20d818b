import {
  commonConfigSchema,
  loadConfig,
  nonEmptyString,
  port,
  secret,
  url,
  type Env,
} from '@inbox-bridge/service-kit';
import type { z } from 'zod';

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
   * used to rebuild the signed URL behind a proxy. Unset: derived from the request's protocol and Host header.
   */
  PUBLIC_BASE_URL: url({ protocols: ['https:', 'http:'] }).optional(),
  /** The HubSpot app's client secret (webhook signature v3 key). The default is the sandbox's, dev only. */
  HUBSPOT_CLIENT_SECRET: secret(nonEmptyString()).default(DEV_SANDBOX_CLIENT_SECRET),
});

export type GatewayConfig = z.output<typeof gatewayConfigSchema>;

/** Validates `env` once; throws a `ConfigValidationError` naming every bad or missing variable. */
export const loadGatewayConfig = (env: Env): GatewayConfig => loadConfig(gatewayConfigSchema, env);
