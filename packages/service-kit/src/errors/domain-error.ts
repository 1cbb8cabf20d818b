export interface DomainErrorOptions {
  /** Extra structured context for logs; never sent to clients. */
  readonly details?: Readonly<Record<string, unknown>>;
  /** Extension members of the problem body (RFC 9457 §3.2), safe for clients; they never replace a standard one. */
  readonly extensions?: Readonly<Record<string, string | number | boolean>>;
  /** HTTP status the transport edge should answer with; 422 when omitted. */
  readonly httpStatus?: number;
  readonly cause?: unknown;
}

/**
 * Base of every expected, coded error. `code` is a stable string (callers and other services switch on
 * it); `message` is safe to show to API clients.
 */
export class DomainError<TCode extends string = string> extends Error {
  readonly code: TCode;
  readonly details: Readonly<Record<string, unknown>> | undefined;
  readonly extensions: Readonly<Record<string, string | number | boolean>> | undefined;
  readonly httpStatus: number | undefined;

  constructor(code: TCode, message: string, options: DomainErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.details = options.details;
    this.extensions = options.extensions;
    this.httpStatus = options.httpStatus;
  }
}
