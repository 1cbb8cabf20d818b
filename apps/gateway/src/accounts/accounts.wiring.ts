import type { ConsumerGroupSpec } from '@inbox-bridge/messaging';
import {
  adminTokens,
  devDefaultProblems,
  durationMs,
  parseAdminTokens,
  portalOfToken,
  positiveInt,
  secret,
  transitPublicKey,
  url,
  type AdminTokenEntry,
  type ConfigProblem,
  type Env,
} from '@inbox-bridge/service-kit';
import { RoutingKeys } from '@inbox-bridge/shared';
import type { MigrationInterface } from 'typeorm';
import { z } from 'zod';
import { ChannelAccounts1764320000000 } from './migrations/1764320000000-channel-accounts.js';
import { ChannelAccountAddresses1765100000000 } from './migrations/1765100000000-channel-account-addresses.js';
import { HubSpotIntegrationThreadIds1765300000000 } from './migrations/1765300000000-hubspot-integration-thread-ids.js';

type MigrationClass = new () => MigrationInterface;
type EntityClass = abstract new (...args: never[]) => object;

/** Host names (`host`, `host:port` or `*.suffix`), comma-separated. */
const hostList = z
  .string()
  .trim()
  .transform((value, ctx): string[] => {
    const hosts = value
      .split(',')
      .map((host) => host.trim().toLowerCase())
      .filter((host) => host !== '');
    if (hosts.some((host) => !/^(\*\.)?[a-z0-9.-]+(:\d{1,5})?$/.test(host))) {
      ctx.addIssue({
        code: 'custom',
        message: 'expected comma-separated host names (host, host:port or *.suffix)',
      });
      return z.NEVER;
    }
    return hosts;
  });

/**
 * DEV ONLY: the public half of the development transit key pair (the connector's default
 * `CREDENTIALS_TRANSIT_PRIVATE_KEYS`). Every real deployment seals for a key pair of its own.
 */
export const DEV_CREDENTIALS_TRANSIT_PUBLIC_KEY = 'dev:OkXddHxvBrGo/nNCk8gSfGlyLHmAQLBk1Innk7QxYRc=';

/** Environment variables of the accounts feature, merged into the gateway's config schema. */
export const accountsConfigShape = {
  /**
   * `portalId:token,portalId:token`: each bearer token opens `/admin/portals/{portalId}/…` of its one portal only.
   * Empty: those endpoints answer 401 to everyone.
   */
  ADMIN_TOKENS: adminTokens(),
  /** How often each replica looks for stored HubSpot webhooks to process (its own intake wakes it at once). */
  WEBHOOK_WORKER_POLL_MS: durationMs().default(1_000),
  /**
   * Stored webhooks one replica claims and processes at once (never two of one account or thread); their effects
   * are committed together.
   */
  WEBHOOK_WORKER_CONCURRENCY: positiveInt({ max: 64 }).default(32),
  /** First retry delay of a webhook whose processing failed transiently; ×5 per attempt, at most 30 min. */
  WEBHOOK_RETRY_BASE_MS: durationMs().default(1_000),
  /** Processing attempts of one webhook before it is marked failed (counted in a metric, logged). */
  WEBHOOK_MAX_ATTEMPTS: positiveInt({ max: 100 }).default(10),
  /**
   * How long processed HubSpot webhooks are kept (dedupe of redeliveries, investigation). HubSpot redelivers
   * for up to 24 h, so at least 2 days.
   */
  WEBHOOK_EVENT_RETENTION: durationMs({ max: Number.MAX_SAFE_INTEGER })
    .refine((ms) => ms >= 172_800_000, {
      error: 'must be at least 2 days (48h): HubSpot redelivers for 24 h',
    })
    .default(604_800_000),
  /** How long the connection popup waits for the connector's credentials check. */
  CREDENTIALS_CHECK_TIMEOUT: durationMs().default(20_000),
  /**
   * `keyId:base64-32-bytes`: the connector's X25519 public key (the public half of one of its
   * `CREDENTIALS_TRANSIT_PRIVATE_KEYS`). Provider credentials are sealed with it before they enter the outbox, so
   * only the connector can read them; the gateway cannot read them back.
   */
  CREDENTIALS_TRANSIT_PUBLIC_KEY: transitPublicKey().default(DEV_CREDENTIALS_TRANSIT_PUBLIC_KEY),
  /**
   * Hosts `GET /internal/files` may download HubSpot files from, besides the host of `HUBSPOT_API_BASE_URL`
   * (HubSpot's signed file URLs point at its CDN).
   */
  HUBSPOT_FILE_HOSTS: hostList.default([
    '*.hubspotusercontent-na1.net',
    '*.hubspotusercontent-eu1.net',
    '*.hubspotusercontent-na2.net',
    '*.hubspotusercontent-ap1.net',
    '*.hubspotusercontent00.net',
    '*.hubspotusercontent10.net',
    '*.hubspotusercontent20.net',
    '*.hubspotusercontent30.net',
    '*.hubspotusercontent40.net',
    '*.hubspot.net',
    '*.hubapi.com',
  ]),
  /** Hosts the connection popup may send the admin back to (HubSpot's `redirectUrl`), besides the API host. */
  CONNECT_REDIRECT_HOSTS: hostList.default(['app.hubspot.com', '*.hubspot.com']),
  /**
   * The router's public origin (its `ROUTER_PUBLIC_URL`). With `SETTINGS_LINK_SECRET`, the popup's last step
   * links the new account's routing settings page there; both unset, the popup returns straight to HubSpot.
   */
  ROUTER_PUBLIC_URL: url({ protocols: ['https:', 'http:'] }).optional(),
  /** The router's `SETTINGS_LINK_SECRET` (≥ 32 characters), to sign the link to the settings page. */
  SETTINGS_LINK_SECRET: secret(z.string().min(32, { error: 'must be at least 32 characters' })).optional(),
  /** How long the settings link shown in the popup's last step stays valid. */
  SETTINGS_LINK_TTL_MS: durationMs().default(3_600_000),
};

/** The popup's routing link needs the router's address and its secret: one without the other is a mistake. */
export function settingsLinkProblems(env: Env): ConfigProblem[] {
  const given = (name: string): boolean => (env[name]?.trim() ?? '') !== '';
  if (given('ROUTER_PUBLIC_URL') === given('SETTINGS_LINK_SECRET')) {
    return [];
  }
  const [missing, present] = given('ROUTER_PUBLIC_URL')
    ? ['SETTINGS_LINK_SECRET', 'ROUTER_PUBLIC_URL']
    : ['ROUTER_PUBLIC_URL', 'SETTINGS_LINK_SECRET'];
  return [
    {
      variable: missing,
      reason: `required when ${present} is set (the connection popup links the router's settings page with both; unset both to return straight to HubSpot)`,
    },
  ];
}

/** The ops token opens no portal's endpoints: listed in `ADMIN_TOKENS` as well, it would open that portal's. */
export function opsTokenProblems(env: Env): ConfigProblem[] {
  const opsToken = env.OPS_API_TOKEN?.trim() ?? '';
  if (opsToken === '') {
    return [];
  }
  let entries: AdminTokenEntry[];
  try {
    entries = parseAdminTokens(env.ADMIN_TOKENS ?? '');
  } catch {
    return []; // ADMIN_TOKENS itself is reported by its field
  }
  return portalOfToken(entries, opsToken) === undefined
    ? []
    : [
        {
          variable: 'OPS_API_TOKEN',
          reason: "must differ from every ADMIN_TOKENS token (it must not open a portal's endpoints)",
        },
      ];
}

/** Production seals for its own connector: the development key pair's private half is in this repository. */
export function credentialsTransitProblems(env: Env): ConfigProblem[] {
  const keyMaterial = (value: string): string => value.slice(value.indexOf(':') + 1);
  return devDefaultProblems(env, [
    [
      'CREDENTIALS_TRANSIT_PUBLIC_KEY',
      // Under any key id.
      (value) => keyMaterial(value) === keyMaterial(DEV_CREDENTIALS_TRANSIT_PUBLIC_KEY),
    ],
  ]);
}

/** The accounts feature's migrations, oldest first. */
export const accountsMigrations: readonly MigrationClass[] = [
  ChannelAccounts1764320000000,
  ChannelAccountAddresses1765100000000,
  HubSpotIntegrationThreadIds1765300000000,
];

export const accountsEntities: readonly EntityClass[] = [];

/**
 * What the connector says about credentials: replies to the popup's checks, and refusals of a connected account's
 * credentials (each handled once under the account's row lock, so order does not matter); any replica may take one.
 */
export const ACCOUNTS_CREDENTIALS_GROUP = 'gateway.credentials';

export const accountsConsumerGroups: readonly ConsumerGroupSpec[] = [
  {
    name: ACCOUNTS_CREDENTIALS_GROUP,
    routingKeys: [RoutingKeys.ConnectorCredentialsValidatedV1, RoutingKeys.ConnectorCredentialsRejectedV1],
  },
];
