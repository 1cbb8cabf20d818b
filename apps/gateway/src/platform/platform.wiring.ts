import type { ConsumerGroupSpec } from '@inbox-bridge/messaging';
import {
  booleanFlag,
  devDefaultProblems,
  durationMs,
  httpsOriginProblems,
  nonEmptyString,
  positiveInt,
  secret,
  url,
  type ConfigProblem,
  type Env,
} from '@inbox-bridge/service-kit';
import { Providers, RoutingKeys, type Provider } from '@inbox-bridge/shared';
import type { MigrationInterface } from 'typeorm';
import { z } from 'zod';
import { PlatformTables1764172800000 } from './migrations/1764172800000-platform-tables.js';
import { PublishedMessagesByHubSpotId1764400000000 } from './migrations/1764400000000-published-messages-by-hubspot-id.js';
import { RateBudgetReservations1764500000000 } from './migrations/1764500000000-rate-budget-reservations.js';
import { InboundBacklog1764700000000 } from './migrations/1764700000000-inbound-backlog.js';
import { RateGrants1764800000000 } from './migrations/1764800000000-rate-grants.js';

type MigrationClass = new () => MigrationInterface;
type EntityClass = abstract new (...args: never[]) => object;

/** DEV ONLY defaults: the values `apps/hubspot-sandbox` seeds its app with. Refused when NODE_ENV=production. */
export const DEV_SANDBOX_APP = {
  appId: '1000001',
  clientId: 'sandbox-client-id',
  developerApiKey: 'sandbox-developer-api-key',
  apiBaseUrl: 'http://127.0.0.1:4010',
} as const;

/** DEV ONLY: the media-link secret shared with the connector in development and tests. */
export const DEV_MEDIA_LINK_SECRET = 'dev-media-link-secret-0123456789abcdef';

const providerList = z
  .string()
  .trim()
  .transform((value, ctx): Provider[] => {
    const names = value
      .split(',')
      .map((name) => name.trim())
      .filter((name) => name !== '');
    const unknown = names.filter((name) => !(Providers as readonly string[]).includes(name));
    if (names.length === 0 || unknown.length > 0) {
      ctx.addIssue({ code: 'custom', message: `expected a comma-separated list of ${Providers.join(', ')}` });
      return z.NEVER;
    }
    return [...new Set(names)] as Provider[];
  });

/** Environment variables of the platform feature, merged into the gateway's config schema. */
export const platformConfigShape = {
  /** HubSpot API origin: `https://api.hubapi.com` in production (required there), the sandbox by default. */
  HUBSPOT_API_BASE_URL: url({ protocols: ['https:', 'http:'] }).default(DEV_SANDBOX_APP.apiBaseUrl),
  /** Origin of HubSpot's OAuth consent page (`https://app.hubspot.com`); the sandbox serves it on its API origin. */
  HUBSPOT_AUTHORIZE_BASE_URL: url({ protocols: ['https:', 'http:'] }).default(DEV_SANDBOX_APP.apiBaseUrl),
  HUBSPOT_APP_ID: z
    .string()
    .trim()
    .regex(/^\d+$/, { error: 'expected the numeric HubSpot app id' })
    .default(DEV_SANDBOX_APP.appId),
  HUBSPOT_CLIENT_ID: nonEmptyString().default(DEV_SANDBOX_APP.clientId),
  /** Developer account API key (`hapikey`) for channel create/update. */
  HUBSPOT_DEVELOPER_API_KEY: secret(nonEmptyString()).default(DEV_SANDBOX_APP.developerApiKey),
  /**
   * Requests per portal in any rolling rate window, shared by every gateway replica (HubSpot allows 110 per 10 s;
   * 2 are kept for calls HubSpot may count that the gateway does not make through its limiter).
   */
  HUBSPOT_RATE_LIMIT_PER_10S: positiveInt({ max: 1_000_000 }).default(108),
  /** The rate window the limit above applies to; 10 s for HubSpot (shorter only in tests). */
  HUBSPOT_RATE_LIMIT_INTERVAL_MS: durationMs().default(10_000),
  /** Per-attempt timeout of one HubSpot call. */
  HUBSPOT_REQUEST_TIMEOUT_MS: durationMs().default(15_000),
  /** Attempts per call (first try included) for 429, 5xx and timeouts before the caller sees the error. */
  HUBSPOT_MAX_ATTEMPTS: positiveInt({ max: 10 }).default(4),
  /** First retry delay; doubles per attempt with full jitter. */
  HUBSPOT_RETRY_BASE_MS: durationMs().default(500),
  /** Longest a call waits for its portal's rate budget before failing transiently (the message is retried later). */
  HUBSPOT_MAX_RATE_WAIT_MS: durationMs().default(30_000),
  /**
   * Longest a customer message waits for its portal's budget while it holds a consumer (counting the callers
   * queued ahead of it); beyond it the message moves to its portal's backlog and leaves the shared queues, so a
   * flooding portal never delays the others.
   */
  HUBSPOT_INBOUND_MAX_RATE_WAIT_MS: durationMs().default(250),
  /** Access tokens are refreshed this long before they expire. */
  HUBSPOT_TOKEN_REFRESH_LEAD_MS: durationMs().default(300_000),
  /** How often a replica looks for tokens to refresh and rosters to re-read. */
  PLATFORM_SCHEDULER_TICK_MS: durationMs().default(30_000),
  /** How often each portal's roster (owners, teams, availability) is re-read and published when changed. */
  ROSTER_REFRESH_INTERVAL: durationMs().default(300_000),
  HUBSPOT_THREADING_MODEL: z
    .enum(['INTEGRATION_THREAD_ID', 'DELIVERY_IDENTIFIER'], {
      error: 'expected INTEGRATION_THREAD_ID or DELIVERY_IDENTIFIER',
    })
    .default('INTEGRATION_THREAD_ID'),
  /** Providers whose capabilities the channel declares. */
  ENABLED_PROVIDERS: providerList.default(['telegram', 'twilio', 'generic-webhook']),
  CHANNEL_NAME: nonEmptyString().default('Inbox Bridge'),
  CHANNEL_DESCRIPTION: nonEmptyString().default(
    'Telegram, SMS/MMS (Twilio) and webhook conversations in your HubSpot inbox',
  ),
  CHANNEL_LOGO_URL: url({ protocols: ['https:', 'http:'] }).optional(),
  /**
   * Bearer token of the app-level ops endpoints (`POST /admin/channel/register`), none of which is about one portal
   * (those take `ADMIN_TOKENS`). Unset: the endpoints refuse everyone.
   */
  OPS_API_TOKEN: secret(z.string().trim().min(24, { error: 'must be at least 24 characters' })).optional(),
  /** The connector's internal origin, where provider media is streamed from (`/internal/media`). */
  CONNECTOR_INTERNAL_URL: url({ protocols: ['https:', 'http:'] }).default('http://127.0.0.1:3001'),
  /** HMAC secret of the signed media links shared with the connector (≥ 32 characters). */
  MEDIA_LINK_SECRET: secret(z.string().min(32, { error: 'must be at least 32 characters' })).default(
    DEV_MEDIA_LINK_SECRET,
  ),
  /** Look up the sender's contact (by email or phone) before publishing a new thread. */
  HUBSPOT_CONTACT_LOOKUP: booleanFlag().default(true),
};

/**
 * Settings that must not keep their development defaults in production: the sandbox's app credentials or
 * the shared dev media secret would let anyone who reads this repository act as the app, and the sandbox's
 * addresses or plain HTTP would send tokens in the clear. `PUBLIC_BASE_URL` must be named too: derived from a
 * request behind a TLS-terminating proxy it is `http://`, which breaks v3 signatures and the OAuth redirect.
 */
export function platformProductionProblems(env: Env): ConfigProblem[] {
  const is = (devValue: string) => (value: string) => value === devValue;
  return [
    ...devDefaultProblems(env, [
      ['HUBSPOT_DEVELOPER_API_KEY', is(DEV_SANDBOX_APP.developerApiKey)],
      ['HUBSPOT_CLIENT_ID', is(DEV_SANDBOX_APP.clientId)],
      ['HUBSPOT_APP_ID', is(DEV_SANDBOX_APP.appId)],
      ['MEDIA_LINK_SECRET', is(DEV_MEDIA_LINK_SECRET)],
    ]),
    ...httpsOriginProblems(env, ['HUBSPOT_API_BASE_URL', 'HUBSPOT_AUTHORIZE_BASE_URL', 'PUBLIC_BASE_URL']),
  ];
}

/** The platform feature's migrations, oldest first. */
export const platformMigrations: readonly MigrationClass[] = [
  PlatformTables1764172800000,
  PublishedMessagesByHubSpotId1764400000000,
  RateBudgetReservations1764500000000,
  InboundBacklog1764700000000,
  RateGrants1764800000000,
];

export const platformEntities: readonly EntityClass[] = [];

/** Inbound publishing keeps each conversation's order across replicas (consistent-hash shards). */
export const PLATFORM_INBOUND_GROUP = 'gateway.inbound';
export const PLATFORM_DELIVERY_STATUS_GROUP = 'gateway.delivery-status';
export const PLATFORM_ASSIGNMENTS_GROUP = 'gateway.assignments';

export const platformConsumerGroups: readonly ConsumerGroupSpec[] = [
  {
    name: PLATFORM_INBOUND_GROUP,
    routingKeys: [RoutingKeys.ProviderMessageReceivedV1],
    ordered: { shards: 4 },
    // Publishing waits mostly on HubSpot: a batch's messages (of different conversations) are published at once,
    // and a batch redone after a failure publishes nothing twice (integrationIdempotencyId).
    maxBatchSize: 50,
    concurrentHandlers: true,
    // Enough unacknowledged per shard for full batches: a batch pays about a dozen statements whatever its size.
    prefetch: 100,
  },
  {
    name: PLATFORM_DELIVERY_STATUS_GROUP,
    routingKeys: [RoutingKeys.ConnectorDeliveryStatusChangedV1],
    ordered: { shards: 2 },
    // A status PATCH sets a value (idempotent): a batch's statuses go to HubSpot at once and share one commit.
    maxBatchSize: 25,
    concurrentHandlers: true,
  },
  {
    name: PLATFORM_ASSIGNMENTS_GROUP,
    routingKeys: [RoutingKeys.RouterAssignmentRequestedV1],
    ordered: { shards: 2 },
  },
];
