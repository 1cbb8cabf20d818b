import { correlationContext } from '@inbox-bridge/messaging';
import type { IncomingMessage } from 'node:http';
import { stdTimeFunctions, type LevelWithSilent } from 'pino';
import type { Options } from 'pino-http';
import { requestCorrelationId } from './correlation-id.js';

export const REDACT_CENSOR = '[redacted]';

const SENSITIVE_HEADERS = [
  'authorization',
  'cookie',
  'set-cookie',
  'x-hubspot-signature',
  'x-hubspot-signature-v2',
  'x-hubspot-signature-v3',
  'x-hubspot-signature-version',
  'x-twilio-signature',
  'x-telegram-bot-api-secret-token',
] as const;

const SENSITIVE_KEYS = [
  'password',
  'token',
  'accessToken',
  'refreshToken',
  'botToken',
  'authToken',
  'sharedSecret',
  'secret',
  'credentials',
] as const;

/** pino redact paths: sensitive request/response headers and secret-looking keys up to two levels deep. */
export const LOG_REDACT_PATHS: readonly string[] = [
  ...SENSITIVE_HEADERS.flatMap((header) => [`req.headers["${header}"]`, `res.headers["${header}"]`]),
  ...SENSITIVE_KEYS.flatMap((key) => [key, `*.${key}`, `*.*.${key}`]),
];

/** Query parameters that carry credentials (HubSpot's developer key, OAuth codes and tokens, staging tokens). */
const SENSITIVE_QUERY_PARAMETERS = new Set([
  'hapikey',
  'code',
  'access_token',
  'refresh_token',
  'client_secret',
  'accounttoken',
  'token',
]);

const isSensitiveParameter = (name: string): boolean => SENSITIVE_QUERY_PARAMETERS.has(name.toLowerCase());

/** `url` with the values of credential-carrying query parameters replaced, for logs. */
export function redactUrl(url: string): string {
  const start = url.indexOf('?');
  if (start < 0) {
    return url;
  }
  const parameters = new URLSearchParams(url.slice(start + 1));
  const sensitive = [...new Set(parameters.keys())].filter(isSensitiveParameter);
  if (sensitive.length === 0) {
    return url;
  }
  for (const name of sensitive) {
    parameters.set(name, REDACT_CENSOR);
  }
  return `${url.slice(0, start)}?${parameters.toString()}`;
}

/** The request as pino-http serialized it, with credentials in its URL and query replaced (a copy of the query). */
function redactRequest(request: { url?: unknown; query?: unknown }): unknown {
  if (typeof request.url === 'string') {
    request.url = redactUrl(request.url);
  }
  if (typeof request.query === 'object' && request.query !== null) {
    request.query = Object.fromEntries(
      Object.entries(request.query).map(([name, value]) => [
        name,
        isSensitiveParameter(name) ? REDACT_CENSOR : value,
      ]),
    );
  }
  return request;
}

/** Paths whose request lines are logged at debug: probes and scrapes would drown everything else. */
const QUIET_PATH_PREFIXES = ['/health', '/metrics'];

export interface LoggerSettings {
  readonly serviceName: string;
  readonly level: LevelWithSilent;
}

function requestPath(req: IncomingMessage): string {
  const original = (req as IncomingMessage & { originalUrl?: unknown }).originalUrl;
  return typeof original === 'string' ? original : (req.url ?? '');
}

export function isQuietPath(path: string): boolean {
  return QUIET_PATH_PREFIXES.some(
    (prefix) => path === prefix || path.startsWith(`${prefix}/`) || path.startsWith(`${prefix}?`),
  );
}

/** Fields of the active correlation scope, added to every log line. */
export function correlationMixin(): Record<string, unknown> {
  const scope = correlationContext.current();
  if (scope === undefined) {
    return {};
  }
  const fields: Record<string, unknown> = { correlationId: scope.correlationId };
  if (scope.messageId !== undefined) {
    fields.messageId = scope.messageId;
  }
  if (scope.causationId !== undefined && scope.causationId !== null) {
    fields.causationId = scope.causationId;
  }
  if (scope.portalId !== undefined) {
    fields.portalId = scope.portalId;
  }
  if (scope.messageType !== undefined) {
    fields.messageType = scope.messageType;
  }
  if (scope.attempt !== undefined) {
    fields.attempt = scope.attempt;
  }
  return fields;
}

export function createPinoHttpOptions(settings: LoggerSettings): Options {
  return {
    level: settings.level,
    base: { service: settings.serviceName },
    timestamp: stdTimeFunctions.isoTime,
    formatters: { level: (label) => ({ level: label }) },
    mixin: correlationMixin,
    redact: { paths: [...LOG_REDACT_PATHS], censor: REDACT_CENSOR },
    serializers: { req: redactRequest },
    genReqId: (req) => requestCorrelationId(req),
    customLogLevel: (req, res, error) => {
      const failed = error !== undefined || res.statusCode >= 500;
      if (isQuietPath(requestPath(req))) {
        return failed ? 'warn' : 'debug';
      }
      if (failed) {
        return 'error';
      }
      return res.statusCode >= 400 ? 'warn' : 'info';
    },
  };
}
