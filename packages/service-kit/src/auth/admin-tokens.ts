import { createHash, timingSafeEqual } from 'node:crypto';
import { z } from 'zod';
import { secret } from '../config/fields.js';

/** One `portalId:token` pair of `ADMIN_TOKENS`; only the token's digest is kept. */
export interface AdminTokenEntry {
  readonly portalId: number;
  readonly digest: Buffer;
}

const MIN_TOKEN_LENGTH = 16;

const digestOf = (token: string): Buffer => createHash('sha256').update(token, 'utf8').digest();

/** Parses `ADMIN_TOKENS` (`portalId:token,portalId:token`); throws a message naming the bad entry. */
export function parseAdminTokens(value: string): AdminTokenEntry[] {
  const entries = value
    .split(',')
    .map((entry) => entry.trim())
    .filter((entry) => entry !== '');
  return entries.map((entry, index) => {
    const separator = entry.indexOf(':');
    const portal = entry.slice(0, separator);
    const token = entry.slice(separator + 1);
    if (separator < 1 || !/^[1-9]\d{0,15}$/.test(portal) || !Number.isSafeInteger(Number(portal))) {
      throw new Error(`entry ${index + 1} must start with a portal id and a colon (portalId:token)`);
    }
    if (token.length < MIN_TOKEN_LENGTH) {
      throw new Error(`entry ${index + 1} has a token shorter than ${MIN_TOKEN_LENGTH} characters`);
    }
    return { portalId: Number(portal), digest: digestOf(token) };
  });
}

/**
 * The portal a token belongs to, or undefined. Compares digests in constant time against every entry (no early
 * exit), so timing reveals neither the token nor which entry matched.
 */
export function portalOfToken(entries: readonly AdminTokenEntry[], token: string): number | undefined {
  const candidate = digestOf(token);
  let found: number | undefined;
  for (const entry of entries) {
    if (timingSafeEqual(entry.digest, candidate) && found === undefined) {
      found = entry.portalId;
    }
  }
  return found;
}

/** The portal of an `Authorization: Bearer <token>` header value, or undefined (no header, other scheme, unknown). */
export function portalOfBearer(
  entries: readonly AdminTokenEntry[],
  authorization: string | undefined,
): number | undefined {
  if (authorization === undefined || !authorization.startsWith('Bearer ')) {
    return undefined;
  }
  const token = authorization.slice('Bearer '.length).trim();
  return token === '' ? undefined : portalOfToken(entries, token);
}

/**
 * The `ADMIN_TOKENS` config field: `portalId:token,…`, each token opening the admin endpoints of its one portal.
 * Secret; empty by default (the admin endpoints then answer 401 to everyone).
 */
export function adminTokens() {
  return secret(
    z
      .string()
      .default('')
      .superRefine((value, ctx) => {
        try {
          parseAdminTokens(value);
        } catch (error) {
          ctx.addIssue({ code: 'custom', message: error instanceof Error ? error.message : 'invalid' });
        }
      }),
  );
}
