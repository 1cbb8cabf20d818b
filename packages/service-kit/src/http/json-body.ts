import { RequestValidationError } from '../errors/validation.js';

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
/**
 * JSON can carry a NUL or a lone surrogate only as a `\u` escape (raw control characters are not JSON, and UTF-8
 * cannot encode a lone surrogate), so a body without one of these escapes needs no per-value check.
 */
const MAYBE_UNSTORABLE_ESCAPE = /\\u(?:0000|[dD][89a-fA-F])/;

export function holdsUnstorableText(text: string): boolean {
  return text.includes('\u0000') || LONE_SURROGATE.test(text);
}

/**
 * JSON.parse reviver. PostgreSQL stores neither a NUL character nor a lone UTF-16 surrogate in text or jsonb, so
 * a JSON body holding one would fail at the first write (a 500, and for a webhook an endless redelivery): it is
 * refused as unreadable instead, a 400 naming the field.
 */
export function refuseUnstorableText(key: string, value: unknown): unknown {
  if (holdsUnstorableText(key) || (typeof value === 'string' && holdsUnstorableText(value))) {
    const field = JSON.stringify(key).slice(1, -1);
    throw new SyntaxError(`"${field}" holds a NUL character or a lone surrogate, which cannot be stored`);
  }
  return value;
}

/** A JSON body as the Express parser reads it (same refusals, same 400 naming the body), for raw routes. */
export function parseJsonBody(rawBody: Buffer): unknown {
  const text = rawBody.toString('utf8');
  try {
    return MAYBE_UNSTORABLE_ESCAPE.test(text) ? JSON.parse(text, refuseUnstorableText) : JSON.parse(text);
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    throw new RequestValidationError([{ field: '(body)', message: `not valid JSON: ${message}` }]);
  }
}
