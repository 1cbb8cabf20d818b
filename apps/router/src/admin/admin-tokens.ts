import { createHash, timingSafeEqual } from 'node:crypto';

export interface AdminTokenEntry {
  readonly portalId: number;
  readonly digest: Buffer;
}

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
    if (separator < 1 || !/^\d{1,18}$/.test(portal) || Number(portal) < 1) {
      throw new Error(`entry ${index + 1} must start with a portal id and a colon (portalId:token)`);
    }
    if (token.length < 16) {
      throw new Error(`entry ${index + 1} has a token shorter than 16 characters`);
    }
    return { portalId: Number(portal), digest: digestOf(token) };
  });
}

/**
 * The portal a bearer token belongs to, or undefined. Compares digests in constant time against every entry
 * (no early exit), so timing reveals neither the token nor which entry matched.
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
