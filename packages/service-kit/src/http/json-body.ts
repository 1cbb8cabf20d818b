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

/**
 * Deepest nesting a body may have. Nothing the bridge reads nests beyond a handful of levels; JSON.parse without a
 * reviver takes any depth, but JSON.stringify (storing the payload) recurses and overflows the stack at a few
 * thousand levels: a RangeError, a 500, and with it every webhook stored in the same shared INSERT.
 */
export const MAX_JSON_DEPTH = 64;

/** The path of the first value nested deeper than `MAX_JSON_DEPTH`, or undefined. Iterative: any depth is safe. */
function tooDeep(root: unknown): (string | number)[] | undefined {
  const pending: { value: unknown; path: (string | number)[] }[] = [{ value: root, path: [] }];
  for (let next = pending.pop(); next !== undefined; next = pending.pop()) {
    const { value, path } = next;
    if (typeof value !== 'object' || value === null) {
      continue;
    }
    if (path.length >= MAX_JSON_DEPTH) {
      return path;
    }
    const entries: [string | number, unknown][] = Array.isArray(value)
      ? value.map((item, index): [number, unknown] => [index, item])
      : Object.entries(value);
    for (const [key, child] of entries) {
      if (typeof child === 'object' && child !== null) {
        pending.push({ value: child, path: [...path, key] });
      }
    }
  }
  return undefined;
}

/** A JSON body as the Express parser reads it (same refusals, same 400 naming the body), for raw routes. */
export function parseJsonBody(rawBody: Buffer): unknown {
  const text = rawBody.toString('utf8');
  let body: unknown;
  try {
    body = MAYBE_UNSTORABLE_ESCAPE.test(text) ? JSON.parse(text, refuseUnstorableText) : JSON.parse(text);
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    throw new RequestValidationError([{ field: '(body)', message: `not valid JSON: ${message}` }]);
  }
  const deep = tooDeep(body);
  if (deep !== undefined) {
    const where = deep.slice(0, 3).join('.') + (deep.length > 3 ? '…' : '');
    throw new RequestValidationError([
      { field: '(body)', message: `"${where}" is nested deeper than ${MAX_JSON_DEPTH} levels` },
    ]);
  }
  return body;
}
