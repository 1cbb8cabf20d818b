import {
  booleanFlag,
  durationMs,
  loadConfig,
  logLevel,
  nonEmptyString,
  port,
  positiveInt,
  positiveNumber,
  secret,
  url,
  type Env,
} from '@inbox-bridge/service-kit';
import { z } from 'zod';
import { DEFAULT_SUBSCRIPTIONS, parseSubscriptionList } from '../webhooks/subscriptions.js';

/**
 * The sandbox's environment. Every default of the seeded app is for LOCAL DEVELOPMENT ONLY: the sandbox is
 * never deployed next to real HubSpot credentials.
 */
export const sandboxConfigSchema = z.object({
  PORT: port().default(4010),
  LOG_LEVEL: logLevel().default('info'),
  /** Lifetime of OAuth access tokens (HubSpot: 30 min, `expires_in` 1800). */
  SANDBOX_ACCESS_TOKEN_TTL_MS: durationMs().default(1_800_000),
  /** Requests per rolling window per portal and app (HubSpot public apps: 110 per 10 s); 0 = unlimited. */
  SANDBOX_RATE_LIMIT_MAX: nonNegativeInt().default(110),
  SANDBOX_RATE_LIMIT_INTERVAL_MS: durationMs().default(10_000),
  /** Multiplies webhook retry delays and the 5 s answer timeout; 0.001 turns minutes into tens of ms. */
  SANDBOX_WEBHOOK_TIME_SCALE: positiveNumber().default(1),
  /** Largest upload the Files API accepts (the reference names none: the sandbox's assumption, 100 MiB). */
  SANDBOX_FILE_MAX_BYTES: positiveInt().default(104_857_600),
  /** The app seeded at start (local development defaults). */
  SANDBOX_APP_ID: positiveInt().default(1_000_001),
  SANDBOX_CLIENT_ID: nonEmptyString().default('sandbox-client-id'),
  SANDBOX_CLIENT_SECRET: secret(nonEmptyString()).default('sandbox-client-secret'),
  /** Comma-separated developer API keys (`hapikey`) of the seeded app's developer account. */
  SANDBOX_DEVELOPER_API_KEYS: secret(nonEmptyString()).default('sandbox-developer-api-key'),
  /** Comma-separated OAuth redirect URIs registered for the seeded app. */
  SANDBOX_REDIRECT_URIS: nonEmptyString().default(
    'http://localhost:3000/oauth/callback,http://127.0.0.1:3000/oauth/callback',
  ),
  /** The seeded app's Webhooks API target URL (§2.6); unset = no conversation events. */
  SANDBOX_APP_WEBHOOK_URL: url({ protocols: ['http:', 'https:'] }).optional(),
  /** Its subscriptions: `type[:property]`, comma-separated. */
  SANDBOX_APP_WEBHOOK_SUBSCRIPTIONS: z
    .string()
    .trim()
    .refine((value) => !('invalid' in parseSubscriptionList(value)), {
      error: 'expected conversation.<event>[:<property>] items separated by commas',
    })
    .default(DEFAULT_SUBSCRIPTIONS),
  /** API calls kept for `GET /__sandbox/calls` (oldest dropped first); 0 records none (benchmarks). */
  SANDBOX_CALL_LOG_MAX: nonNegativeInt().default(10_000),
  /**
   * JSON request logs (pino-http, one line per request at info). `false` drops the logging middleware for
   * benchmarks; warnings and errors then go to Nest's console logger.
   */
  SANDBOX_REQUEST_LOGS: booleanFlag().default(true),
  /** Whether recorded calls keep their request bodies. */
  SANDBOX_CALL_LOG_BODIES: booleanFlag().default(true),
  /** Space-separated scopes the seeded app may request. */
  SANDBOX_APP_SCOPES: nonEmptyString().default(
    'oauth conversations.custom_channels.read conversations.custom_channels.write conversations.read conversations.write files crm.objects.contacts.read crm.objects.contacts.write crm.objects.owners.read crm.objects.users.read tickets',
  ),
});

/** An integer ≥ 0 from a decimal string. */
function nonNegativeInt() {
  return z
    .string()
    .trim()
    .refine((value) => /^\d+$/.test(value) && Number.isSafeInteger(Number(value)), {
      error: 'expected an integer ≥ 0',
    })
    .transform(Number);
}

export type SandboxConfig = z.output<typeof sandboxConfigSchema>;

export const loadSandboxConfig = (env: Env): SandboxConfig => loadConfig(sandboxConfigSchema, env);
