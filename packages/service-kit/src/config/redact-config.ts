import type { z } from 'zod';
import { isSensitiveField } from './fields.js';

export const REDACTED = '[redacted]';
const MAX_DISPLAY_LENGTH = 120;

/**
 * A copy of `config` that is safe to log: fields marked `secret()` become "[redacted]", and passwords inside
 * URLs (DATABASE_URL, AMQP_URL…) are masked even when the field is not marked.
 */
export function redactConfig<T extends object>(config: T, schema: z.ZodObject): Record<keyof T, unknown> {
  const shape = schema.shape as Record<string, z.ZodType | undefined>;
  const redacted: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(config)) {
    const field = shape[key];
    if (value !== undefined && field !== undefined && isSensitiveField(field)) {
      redacted[key] = REDACTED;
    } else if (typeof value === 'string') {
      redacted[key] = maskUrlCredentials(value);
    } else {
      redacted[key] = value;
    }
  }
  return redacted as Record<keyof T, unknown>;
}

/** `postgres://user:secret@host/db` → `postgres://user:***@host/db`; anything else unchanged. */
export function maskUrlCredentials(value: string): string {
  if (!URL.canParse(value)) {
    return value;
  }
  const parsed = new URL(value);
  if (parsed.password === '') {
    return value;
  }
  parsed.password = '***';
  return parsed.toString();
}

/** How a non-secret raw value is shown in a validation error: credentials masked, long values cut. */
export function displayValue(raw: string): string {
  const masked = maskUrlCredentials(raw);
  return masked.length > MAX_DISPLAY_LENGTH ? `${masked.slice(0, MAX_DISPLAY_LENGTH)}…` : masked;
}
