import { correlationContext } from '@inbox-bridge/messaging';
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';

export const CORRELATION_ID_HEADER = 'x-correlation-id';
const INCOMING_HEADERS = [CORRELATION_ID_HEADER, 'x-request-id'] as const;
const CORRELATION_ID_PATTERN = /^[A-Za-z0-9._:-]{1,200}$/;

export function isValidCorrelationId(value: unknown): value is string {
  return typeof value === 'string' && CORRELATION_ID_PATTERN.test(value);
}

const assigned = new WeakMap<IncomingMessage, string>();

/**
 * The request's correlation id: a valid incoming `x-correlation-id` or `x-request-id`, else a new UUID.
 * Memoized per request so pino-http's `genReqId` and the context middleware agree whatever their order.
 */
export function requestCorrelationId(req: IncomingMessage): string {
  let id = assigned.get(req);
  if (id === undefined) {
    const incoming = INCOMING_HEADERS.map((name) => req.headers[name]).find(isValidCorrelationId);
    id = incoming ?? randomUUID();
    assigned.set(req, id);
  }
  return id;
}

/** Express middleware: echoes the id and runs the rest of the request inside `correlationContext`. */
export function correlationMiddleware(req: IncomingMessage, res: ServerResponse, next: () => void): void {
  const correlationId = requestCorrelationId(req);
  res.setHeader(CORRELATION_ID_HEADER, correlationId);
  correlationContext.run({ correlationId }, next);
}
