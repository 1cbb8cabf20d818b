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
  'secret',
] as const;

/** pino redact paths: sensitive request/response headers and secret-looking keys up to two levels deep. */
export const LOG_REDACT_PATHS: readonly string[] = [
  ...SENSITIVE_HEADERS.flatMap((header) => [`req.headers["${header}"]`, `res.headers["${header}"]`]),
  ...SENSITIVE_KEYS.flatMap((key) => [key, `*.${key}`, `*.*.${key}`]),
];

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
