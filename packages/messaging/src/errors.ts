/**
 * How a failed message is treated (engineering notes §4.6):
 * - transient: retried through the delay tiers, then dead-lettered;
 * - permanent: dead-lettered at once with the reason.
 * Throw these (or subclasses) from handlers to be explicit; anything else is classified by `classifyError`.
 */
export class TransientError extends Error {
  override readonly name: string = 'TransientError';
  constructor(
    message: string,
    readonly code = 'TRANSIENT',
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

/**
 * Not a failure: the handler cannot go on before `untilMs` (epoch ms; e.g. a rate budget reserved for later).
 * The message waits in the delay tiers without using up an attempt, the rest of its conversation behind it,
 * and its handler sees `context.deferredUntil` when it comes back.
 */
export class DeferredError extends TransientError {
  override readonly name: string = 'DeferredError';
  constructor(
    message: string,
    readonly untilMs: number,
    code = 'DEFERRED',
  ) {
    super(message, code);
  }
}

export class PermanentError extends Error {
  override readonly name: string = 'PermanentError';
  constructor(
    message: string,
    readonly code = 'PERMANENT',
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

/** A message that violates its contract: never retried. */
export class ContractViolationError extends PermanentError {
  override readonly name = 'ContractViolationError';
  constructor(readonly issues: readonly string[]) {
    super(`contract violation: ${issues.join('; ')}`, 'CONTRACT_VIOLATION');
  }
}

/** An HTTP answer from HubSpot or a provider; classified by status like engineering notes §4.6. */
export class ExternalServiceError extends Error {
  override readonly name = 'ExternalServiceError';
  constructor(
    readonly service: string,
    readonly status: number,
    message: string,
    readonly retryAfterMs?: number,
  ) {
    super(`${service} answered ${status}: ${message}`);
  }
}

export type ErrorClass = 'transient' | 'permanent';

const transientNodeCodes = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'EAI_AGAIN',
  'ENOTFOUND',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_SOCKET',
]);

/** PostgreSQL SQLSTATE classes that mean "try again later": connection, resources, operator intervention, serialization. */
const transientSqlStatePrefixes = ['08', '53', '57', '40'];
/** Single SQLSTATEs outside those classes that pass too: lock_not_available (a `lock_timeout` or NOWAIT gave up). */
const transientSqlStates = new Set(['55P03']);

function errorCode(error: object): string | undefined {
  const code = (error as { code?: unknown }).code;
  return typeof code === 'string' ? code : undefined;
}

export function classifyError(error: unknown): ErrorClass {
  if (error instanceof TransientError) {
    return 'transient';
  }
  if (error instanceof PermanentError) {
    return 'permanent';
  }
  if (error instanceof ExternalServiceError) {
    return error.status === 408 || error.status === 429 || error.status >= 500 ? 'transient' : 'permanent';
  }
  if (typeof error === 'object' && error !== null) {
    const code = errorCode(error);
    if (code && transientNodeCodes.has(code)) {
      return 'transient';
    }
    if (code && /^[0-9A-Z]{5}$/.test(code)) {
      return transientSqlStates.has(code) ||
        transientSqlStatePrefixes.some((prefix) => code.startsWith(prefix))
        ? 'transient'
        : 'permanent';
    }
    const message = (error as { message?: unknown }).message;
    if (
      typeof message === 'string' &&
      /(timeout|timed out|terminat|connection (?:is )?(?:closed|lost|refused|ended)|ECONNREFUSED)/i.test(
        message,
      )
    ) {
      return 'transient';
    }
    if (error.constructor.name === 'QueryFailedError' || error.constructor.name === 'TypeORMError') {
      return 'permanent';
    }
  }
  // Unknown failures are retried: a bug gets a few attempts and then lands in the DLQ with its reason,
  // while an unforeseen outage does not dead-letter everything at once.
  return 'transient';
}

export function describeError(error: unknown): string {
  if (error instanceof Error) {
    return `${error.name}: ${error.message}`.slice(0, 2000);
  }
  return String(error).slice(0, 2000);
}
