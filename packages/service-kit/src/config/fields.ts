import { z } from 'zod';
import { parseEncryptionKeys } from '../crypto/encryption-keys.js';

/** Fields registered here are never printed: not in validation errors, not by `redactConfig`. */
export const sensitiveConfigFields = z.registry<{ sensitive: true }>();

/** Marks a field as sensitive (a secret): its value never appears in errors or logged config. */
export function secret<T extends z.ZodType>(schema: T): T {
  sensitiveConfigFields.add(schema, { sensitive: true });
  return schema;
}

/** True when the field, or any schema it wraps (optional, default, pipe…), was marked with `secret()`. */
export function isSensitiveField(schema: z.ZodType): boolean {
  const seen = new Set<unknown>();
  const visit = (candidate: unknown): boolean => {
    if (!(candidate instanceof z.ZodType) || seen.has(candidate)) {
      return false;
    }
    seen.add(candidate);
    if (sensitiveConfigFields.has(candidate)) {
      return true;
    }
    const def = candidate._zod.def as unknown as Record<string, unknown>;
    return visit(def.innerType) || visit(def.in) || visit(def.out);
  };
  return visit(schema);
}

const PORT_MESSAGE = 'expected a number between 1 and 65535';

/** A TCP port, from a decimal string. */
export function port() {
  return z
    .string()
    .trim()
    .refine((value) => /^\d{1,5}$/.test(value) && Number(value) >= 1 && Number(value) <= 65535, {
      error: PORT_MESSAGE,
    })
    .transform(Number);
}

/** A positive integer (≥ 1), optionally bounded above. */
export function positiveInt(options: { max?: number } = {}) {
  const max = options.max ?? Number.MAX_SAFE_INTEGER;
  const message =
    options.max === undefined ? 'expected a positive integer' : `expected an integer between 1 and ${max}`;
  return z
    .string()
    .trim()
    .refine((value) => /^\d+$/.test(value) && Number(value) >= 1 && Number(value) <= max, { error: message })
    .transform(Number);
}

/** A positive decimal factor such as `1`, `0.01` or `2.5` (time scales, ratios). */
export function positiveNumber() {
  return z
    .string()
    .trim()
    .refine((value) => /^\d+(\.\d+)?$/.test(value) && Number(value) > 0, {
      error: 'expected a positive number (e.g. 1 or 0.01)',
    })
    .transform(Number);
}

const DURATION_UNITS_MS = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000 } as const;
const DURATION_PATTERN = /^(\d+)(ms|s|m|h)?$/;

/** The longest delay Node's timers take (2^31 − 1 ms, about 24.8 days): a longer one fires after 1 ms. */
export const MAX_TIMER_MS = 2_147_483_647;

/**
 * A duration in milliseconds: a plain integer is milliseconds; `ms`, `s`, `m`, `h` suffixes are accepted. Between
 * `min` and `max`: by default at least 1 ms (0 makes a poll loop spin) and at most {@link MAX_TIMER_MS} (a longer
 * timer fires at once). Give `min: 0` where 0 means something (off, at once) and a larger `max` where the duration
 * never becomes a timer (how long rows are kept).
 */
export function durationMs(options: { readonly min?: number; readonly max?: number } = {}) {
  const min = options.min ?? 1;
  const max = options.max ?? MAX_TIMER_MS;
  return z
    .string()
    .trim()
    .refine((value) => DURATION_PATTERN.test(value), {
      error: 'expected a duration in milliseconds (e.g. 1500) or with a unit (e.g. 20s, 5m)',
      abort: true,
    })
    .transform((value) => {
      const [, amount = '0', unit = 'ms'] = DURATION_PATTERN.exec(value) ?? [];
      return Number(amount) * DURATION_UNITS_MS[unit as keyof typeof DURATION_UNITS_MS];
    })
    .refine((ms) => ms >= min, { error: `must be at least ${min} ms` })
    .refine((ms) => ms <= max, {
      error:
        max === MAX_TIMER_MS
          ? `must be at most ${max} ms (about 24.8 days: a longer timer fires at once)`
          : `must be at most ${max} ms`,
    });
}

/**
 * How long rows that grow with traffic are kept ({@link durationMs}, never a timer), at least `minimumHours`: longer
 * than anything that may still ask for them.
 */
export function retentionMs(minimumHours: number) {
  return durationMs({ max: Number.MAX_SAFE_INTEGER }).refine((ms) => ms >= minimumHours * 3_600_000, {
    error: `must be at least ${minimumHours}h`,
  });
}

/** `"true"` or `"false"`, nothing else, so a typo never silently means false. */
export function booleanFlag() {
  return z
    .string()
    .trim()
    .refine((value) => value === 'true' || value === 'false', { error: 'expected "true" or "false"' })
    .transform((value) => value === 'true');
}

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export function logLevel() {
  return z.enum(LOG_LEVELS, { error: `expected one of ${LOG_LEVELS.join(', ')}` });
}

/** An absolute URL whose scheme is one of `protocols` (e.g. `['https:']`); any scheme when omitted. */
export function url(options: { protocols?: readonly string[] } = {}) {
  const { protocols } = options;
  const message =
    protocols === undefined
      ? 'expected an absolute URL'
      : `expected a URL starting with ${protocols.map((protocol) => `${protocol}//`).join(' or ')}`;
  return z
    .string()
    .trim()
    .refine(
      (value) => {
        if (!URL.canParse(value)) {
          return false;
        }
        return protocols === undefined || protocols.includes(new URL(value).protocol);
      },
      { error: message },
    );
}

export function postgresUrl() {
  return url({ protocols: ['postgres:', 'postgresql:'] });
}

export function amqpUrl() {
  return url({ protocols: ['amqp:', 'amqps:'] });
}

/** A PostgreSQL identifier we are willing to interpolate (quoted) into DDL. */
export const SQL_IDENTIFIER_PATTERN = /^[a-z_][a-z0-9_]*$/;

export function sqlIdentifier() {
  return z
    .string()
    .trim()
    .refine((value) => SQL_IDENTIFIER_PATTERN.test(value) && value.length <= 63, {
      error: 'expected a lowercase identifier matching ^[a-z_][a-z0-9_]*$ (at most 63 characters)',
    });
}

export function nonEmptyString() {
  return z.string().trim().min(1, { error: 'must not be empty' });
}

/** `keyId:base64-32-bytes[,keyId:base64...]`; always sensitive. */
export function encryptionKeys() {
  return secret(
    z.string().superRefine((value, ctx) => {
      try {
        parseEncryptionKeys(value);
      } catch (error) {
        ctx.addIssue({ code: 'custom', message: (error as Error).message });
      }
    }),
  );
}

/**
 * One `keyId:base64-32-bytes` entry: the public key of a service other services seal secrets for
 * (`TransitSealer`). Not a secret.
 */
export function transitPublicKey() {
  return z.string().superRefine((value, ctx) => {
    try {
      if (parseEncryptionKeys(value).size !== 1) {
        ctx.addIssue({ code: 'custom', message: 'expected exactly one key, keyId:base64-32-bytes' });
      }
    } catch (error) {
      ctx.addIssue({ code: 'custom', message: (error as Error).message });
    }
  });
}
