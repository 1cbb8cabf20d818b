import {
  adminTokens,
  commonConfigSchema,
  durationMs,
  loadConfig,
  port,
  positiveInt,
  retentionMs,
  secret,
  url,
  type Env,
} from '@inbox-bridge/service-kit';
import { z } from 'zod';

/** The router's environment: the common variables plus the admin tokens and the routing timers. */
export const routerConfigSchema = commonConfigSchema.extend({
  PORT: port().default(3002),
  /**
   * `portalId:token,portalId:token`: each bearer token opens the admin API and settings page of one portal.
   * Empty: the admin API answers 401 to everyone.
   */
  ADMIN_TOKENS: adminTokens(),
  /**
   * Signs the expiring links to the settings page (`/settings/<channelAccountId>?ref=&exp=&sig=`), at least 32
   * characters; the gateway shares it to link the popup's last step. Empty: only bearer tokens open the page.
   */
  SETTINGS_LINK_SECRET: secret(
    z.union([z.literal(''), z.string().min(32, 'must be at least 32 characters')]).default(''),
  ),
  /** How long a settings link minted by `POST /admin/channel-accounts/{id}/settings-link` stays valid. */
  SETTINGS_LINK_TTL_MS: durationMs().default(3_600_000),
  /** The router's public origin, for the settings links it mints. */
  ROUTER_PUBLIC_URL: url().default('http://127.0.0.1:3002'),
  /** How often the timer poller looks for due no-reply timers and waiting conversations. */
  ROUTER_TIMER_POLL_INTERVAL_MS: durationMs().default(5_000),
  /** Delay before an assignment the gateway reported as retryable is requested again. */
  ROUTER_ASSIGNMENT_RETRY_DELAY_MS: durationMs().default(30_000),
  /** Most waiting conversations one back-fill pass assigns, and most due timers per poll. */
  ROUTER_BATCH_SIZE: positiveInt({ max: 10_000 }).default(100),
  /** How long the routing audit (every decision and its reason, `GET …/audit`) is kept. At least 72 h. */
  ROUTING_AUDIT_RETENTION_MS: retentionMs(72).default(2160 * 3_600_000),
});

export type RouterConfig = z.output<typeof routerConfigSchema>;

/** Validates `env` once; throws a `ConfigValidationError` naming every bad or missing variable. */
export const loadRouterConfig = (env: Env): RouterConfig => loadConfig(routerConfigSchema, env);
