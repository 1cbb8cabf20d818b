import { HttpException, HttpStatus } from '@nestjs/common';
import { STATUS_CODES } from 'node:http';
import { DomainError } from './domain-error.js';
import { RequestValidationError, type FieldError } from './validation.js';

/** RFC 9457 problem details, plus our stable `code`. */
export interface ProblemDetails {
  readonly type: string;
  readonly title: string;
  readonly status: number;
  readonly detail: string;
  readonly code: string;
  readonly errors?: readonly FieldError[];
  readonly correlationId?: string;
  /** Extension members (RFC 9457 §3.2) a DomainError declared for clients. */
  readonly [extension: string]: unknown;
}

export interface MappedProblem {
  readonly body: ProblemDetails;
  /** Whether this is a server fault that must be logged with its stack. */
  readonly isServerFault: boolean;
}

export const PROBLEM_CONTENT_TYPE = 'application/problem+json';
const DEFAULT_DOMAIN_ERROR_STATUS = HttpStatus.UNPROCESSABLE_ENTITY;
const GENERIC_DETAIL = 'An unexpected error occurred.';

function title(status: number): string {
  return STATUS_CODES[status] ?? 'Error';
}

function statusCode(status: number): string {
  const phrase = STATUS_CODES[status];
  return phrase === undefined ? `HTTP_${status}` : phrase.toUpperCase().replace(/[^A-Z0-9]+/g, '_');
}

function internalError(): MappedProblem {
  return {
    isServerFault: true,
    body: {
      type: 'about:blank',
      title: title(500),
      status: 500,
      detail: GENERIC_DETAIL,
      code: 'INTERNAL_ERROR',
    },
  };
}

/** Maps anything thrown to a problem body that leaks nothing internal. Pure, for the filter and tests. */
export function toProblemDetails(exception: unknown): MappedProblem {
  if (exception instanceof DomainError) {
    const code = (exception as DomainError).code;
    const status = exception.httpStatus ?? DEFAULT_DOMAIN_ERROR_STATUS;
    if (status === 500) {
      return internalError();
    }
    return {
      isServerFault: status >= 500,
      body: {
        ...exception.extensions,
        type: `urn:inbox-bridge:problem:${code.toLowerCase().replace(/_/g, '-')}`,
        title: title(status),
        status,
        detail: exception.message,
        code,
        ...(exception instanceof RequestValidationError ? { errors: exception.errors } : {}),
      },
    };
  }
  if (exception instanceof HttpException) {
    const status = exception.getStatus();
    if (status >= 500) {
      return {
        ...internalError(),
        body: { ...internalError().body, status, title: title(status), code: statusCode(status) },
      };
    }
    const response = exception.getResponse();
    const fields = typeof response === 'object' ? (response as Record<string, unknown>) : {};
    const message = typeof response === 'string' ? response : fields.message;
    const messages = Array.isArray(message) ? message.filter((item) => typeof item === 'string') : [];
    const code = typeof fields.code === 'string' ? fields.code : statusCode(status);
    return {
      isServerFault: false,
      body: {
        type: 'about:blank',
        title: title(status),
        status,
        detail:
          typeof message === 'string'
            ? message
            : messages.length > 0
              ? 'The request is invalid.'
              : title(status),
        code: messages.length > 0 && status === 400 ? 'VALIDATION_FAILED' : code,
        ...(messages.length > 0 ? { errors: messages.map((item) => ({ field: '', message: item })) } : {}),
      },
    };
  }
  return internalError();
}
