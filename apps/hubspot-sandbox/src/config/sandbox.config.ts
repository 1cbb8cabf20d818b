import {
  durationMs,
  loadConfig,
  logLevel,
  nonEmptyString,
  port,
  positiveInt,
  positiveNumber,
  secret,
  type Env,
} from '@inbox-bridge/service-kit';
import { z } from 'zod';

/**
 * The sandbox's environment. Every default of the seeded app is for LOCAL DEVELOPMENT ONLY: the sandbox is
 * never deployed next to real HubSpot credentials.
 */
export const sandboxConfigSchema = z.object({
  PORT: port().default(4010),
  LOG_LEVEL: logLevel().default('info'),
  /** Lifetime of OAuth access tokens (HubSpot: 30 min, `expires_in` 1800). */
  SANDBOX_ACCESS_TOKEN_TTL_MS: durationMs().default(1_800_000),
  /** Requests per rolling window per portal and app (HubSpot public apps: 110 per 10 s). */
  SANDBOX_RATE_LIMIT_MAX: positiveInt().default(110),
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
  SANDBOX_REDIRECT_URIS: nonEmptyString().default('http://localhost:3001/oauth/callback'),
  /** Space-separated scopes the seeded app may request. */
  SANDBOX_APP_SCOPES: nonEmptyString().default(
    'oauth conversations.custom_channels.read conversations.custom_channels.write conversations.read conversations.write files crm.objects.contacts.read crm.objects.contacts.write crm.objects.owners.read crm.objects.users.read tickets',
  ),
});

export type SandboxConfig = z.output<typeof sandboxConfigSchema>;

export const loadSandboxConfig = (env: Env): SandboxConfig => loadConfig(sandboxConfigSchema, env);
