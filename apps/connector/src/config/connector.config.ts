import {
  commonConfigSchema,
  devDefaultProblems,
  durationMs,
  encryptionKeys,
  httpsOriginProblems,
  loadConfig,
  nonEmptyString,
  parseEncryptionKeys,
  port,
  positiveInt,
  retentionMs,
  secret,
  url,
  type ConfigProblem,
  type Env,
} from '@inbox-bridge/service-kit';
import { z } from 'zod';

/**
 * DEV ONLY: the media-link secret shared with the gateway when nothing is configured. Every real deployment
 * must set `MEDIA_LINK_SECRET` (the same value in the gateway and the connector).
 */
export const DEV_MEDIA_LINK_SECRET = 'dev-media-link-secret-0123456789abcdef';

/**
 * DEV ONLY: the private half of the credentials transit key pair the gateway seals provider credentials with when
 * nothing is configured (`DEV_CREDENTIALS_TRANSIT_PUBLIC_KEY` in the gateway's config). Every real deployment must
 * set `CREDENTIALS_TRANSIT_PRIVATE_KEYS` to a key pair of its own.
 */
export const DEV_CREDENTIALS_TRANSIT_PRIVATE_KEYS = 'dev:WKhzNz551gibEhjkU8M0ZjJoCevpgulpi73n2ntOPk0=';

/** The provider sandbox's origin (`apps/provider-sandbox`), the development default for both provider APIs. */
export const SANDBOX_API_BASE_URL = 'http://127.0.0.1:4020';

const hostList = () =>
  z
    .string()
    .trim()
    .transform((value) =>
      value
        .split(',')
        .map((host) => host.trim().toLowerCase())
        .filter((host) => host !== ''),
    );

/** The connector's environment: the common variables plus provider API origins, public URLs and media links. */
export const connectorConfigSchema = commonConfigSchema.extend({
  PORT: port().default(3001),
  /**
   * The public origin providers call (e.g. `https://bridge.example.com`): webhook URLs given to Telegram and
   * Twilio, the URL Twilio signs, and the short-lived public media links Twilio fetches for MMS.
   */
  CONNECTOR_PUBLIC_BASE_URL: url({ protocols: ['https:', 'http:'] }).default('http://127.0.0.1:3001'),
  /** Telegram Bot API origin (`https://api.telegram.org` in production). */
  TELEGRAM_API_BASE_URL: url({ protocols: ['https:', 'http:'] }).default(SANDBOX_API_BASE_URL),
  /** Twilio REST API origin (`https://api.twilio.com` in production). */
  TWILIO_API_BASE_URL: url({ protocols: ['https:', 'http:'] }).default(SANDBOX_API_BASE_URL),
  /**
   * Twilio Messaging API origin (`https://messaging.twilio.com` in production): the Messaging Services that may own a
   * number's incoming messages.
   */
  TWILIO_MESSAGING_API_BASE_URL: url({ protocols: ['https:', 'http:'] }).default(SANDBOX_API_BASE_URL),
  /** Where the gateway serves HubSpot files (`GET /internal/files`). */
  GATEWAY_INTERNAL_URL: url({ protocols: ['https:', 'http:'] }).default('http://127.0.0.1:3000'),
  /** Shared with the gateway: HMAC key of the expiring media links between the services (≥ 32 characters). */
  MEDIA_LINK_SECRET: secret(z.string().min(32, 'must be at least 32 characters')).default(
    DEV_MEDIA_LINK_SECRET,
  ),
  /**
   * `keyId:base64-32-bytes[,…]`: raw X25519 private keys that open the provider credentials the gateway seals for
   * the connector (`connector.credentials.validate.v2`). Every key that sealed messages may still arrive for; the
   * gateway's `CREDENTIALS_TRANSIT_PUBLIC_KEY` is the public half of one of them.
   */
  CREDENTIALS_TRANSIT_PRIVATE_KEYS: encryptionKeys().default(DEV_CREDENTIALS_TRANSIT_PRIVATE_KEYS),
  /**
   * Hosts (lower-case names or IP literals) every outgoing request may reach even when they resolve to
   * loopback or private addresses. Default: the local sandbox in development and test, nothing in production.
   */
  SSRF_ALLOWED_HOSTS: hostList().optional(),
  /** Budget of one provider API call. */
  PROVIDER_REQUEST_TIMEOUT_MS: durationMs().default(15_000),
  /**
   * PEM file with extra certificate authorities for outgoing HTTPS (e.g. a generic-webhook receiver behind a
   * private CA), trusted in addition to Node's bundled roots.
   */
  OUTBOUND_EXTRA_CA_FILE: nonEmptyString().optional(),
  /** How long Twilio may use a public media link minted for an MMS. */
  PUBLIC_MEDIA_LINK_TTL_MS: durationMs().default(600_000),
  /**
   * How many times one reply may wait out a provider's "retry after" without using up an attempt; past it,
   * such waits count as attempts, so a receiver that always says "later" still ends in FAILED.
   */
  PROVIDER_MAX_DEFERRALS: positiveInt({ max: 1000 }).default(20),
  /**
   * How often each account of a provider that does not redeliver a failed webhook (Twilio) is compared with the
   * messages the provider holds, so a message whose webhook failed is still published, and each account's webhook
   * is checked where the provider keeps one (Telegram, Twilio); 0 turns both off.
   */
  INBOUND_RECONCILE_INTERVAL_MS: durationMs({ min: 0 }).default(300_000),
  /**
   * How old a message must be before the comparison takes it: by then its webhook has arrived or failed for good
   * (Twilio gives up within 15 s), so the comparison does not overtake it. 0: any message, however recent.
   */
  INBOUND_RECONCILE_SETTLE_MS: durationMs({ min: 0 }).default(60_000),
  /**
   * How long after a reply is sent its status is first read from the provider, when the provider reports delivery
   * by callbacks it never redelivers (Twilio): a callback refused or unreachable would otherwise leave a reply
   * that was never delivered showing "sent". Read again ×6 and ×36 later (10 min, 1 h, 6 h by default) until the
   * provider gives a final status; the comparison rounds of `INBOUND_RECONCILE_INTERVAL_MS` do it. 0: at the next
   * round.
   */
  DELIVERY_STATUS_CHECK_AFTER_MS: durationMs({ min: 0 }).default(600_000),
  /**
   * How long the message ledger keeps a message's traces (inbound dedupe keys, reply states, sent reply parts);
   * longer than any provider redelivers (Telegram: a day) or reports a status. At least 72 h: the inbound
   * comparison never reaches back further than this less a day.
   */
  MESSAGE_LEDGER_RETENTION_MS: retentionMs(72).default(720 * 3_600_000),
});

type ParsedConnectorConfig = z.output<typeof connectorConfigSchema>;

export type ConnectorConfig = Omit<ParsedConnectorConfig, 'SSRF_ALLOWED_HOSTS'> & {
  readonly SSRF_ALLOWED_HOSTS: readonly string[];
};

/**
 * Production must share real secrets with the gateway: the dev media secret would let anyone mint media links, and
 * the dev transit key would let anyone open the provider credentials in transit.
 */
function productionSecretProblems(env: Env): ConfigProblem[] {
  return devDefaultProblems(env, [
    ['MEDIA_LINK_SECRET', (value) => value === DEV_MEDIA_LINK_SECRET],
    ['CREDENTIALS_TRANSIT_PRIVATE_KEYS', holdsDevTransitKey],
  ]);
}

/** A ring that still lists the development key (under any id) opens what anyone who reads this repository seals. */
function holdsDevTransitKey(value: string): boolean {
  const devKey = [...parseEncryptionKeys(DEV_CREDENTIALS_TRANSIT_PRIVATE_KEYS).values()][0];
  try {
    return [...parseEncryptionKeys(value).values()].some((key) => devKey?.equals(key) === true);
  } catch {
    return false;
  }
}

/**
 * Origins production names itself, over TLS: the defaults are the provider sandbox and this machine over plain HTTP
 * (Telegram refuses a webhook URL that is not https; Twilio would sign an http URL the proxy never sees).
 */
const PRODUCTION_HTTPS_ORIGINS = [
  'CONNECTOR_PUBLIC_BASE_URL',
  'TELEGRAM_API_BASE_URL',
  'TWILIO_API_BASE_URL',
  'TWILIO_MESSAGING_API_BASE_URL',
];

/**
 * Validates `env` once; throws a `ConfigValidationError` naming every bad or missing variable, including
 * `MEDIA_LINK_SECRET` and `CREDENTIALS_TRANSIT_PRIVATE_KEYS` when unset (or the dev defaults) in production, and
 * the provider and public origins unless https in production.
 */
export function loadConnectorConfig(env: Env): ConnectorConfig {
  const crossProblems = [
    ...productionSecretProblems(env),
    ...httpsOriginProblems(env, PRODUCTION_HTTPS_ORIGINS),
  ];
  const parsed = loadConfig(connectorConfigSchema, env, crossProblems);
  const allowedHosts =
    parsed.SSRF_ALLOWED_HOSTS ?? (parsed.NODE_ENV === 'production' ? [] : ['127.0.0.1', 'localhost', '::1']);
  return { ...parsed, SSRF_ALLOWED_HOSTS: allowedHosts };
}
