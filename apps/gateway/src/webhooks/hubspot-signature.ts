import { createHmac, timingSafeEqual } from 'node:crypto';

/** HubSpot rejects requests whose timestamp is more than 5 minutes away from now (we check both directions). */
export const SIGNATURE_MAX_SKEW_MS = 300_000;

const HUBSPOT_URI_DECODES: Readonly<Record<string, string>> = {
  '%3A': ':',
  '%2F': '/',
  '%3F': '?',
  '%40': '@',
  '%21': '!',
  '%24': '$',
  '%27': "'",
  '%28': '(',
  '%29': ')',
  '%2A': '*',
  '%2C': ',',
  '%3B': ';',
};

/** Decodes only the percent-escapes HubSpot lists (case-insensitively); every other escape (e.g. `%20`) stays. */
export function decodeHubSpotUri(uri: string): string {
  return uri.replace(
    /%(3A|2F|3F|40|21|24|27|28|29|2A|2C|3B)/gi,
    (escape) => HUBSPOT_URI_DECODES[escape.toUpperCase()] ?? escape,
  );
}

/** base64(HMAC-SHA256(secret, method + decodedUri + rawBody + timestamp)). */
export function signV3(
  secret: string,
  method: string,
  publicUrl: string,
  rawBody: Buffer | string,
  timestamp: string,
): string {
  return createHmac('sha256', secret)
    .update(`${method}${decodeHubSpotUri(publicUrl)}`, 'utf8')
    .update(rawBody)
    .update(timestamp, 'utf8')
    .digest('base64');
}

export interface SignedRequest {
  readonly method: string;
  /** The full public URL HubSpot called. */
  readonly url: string;
  readonly rawBody: Buffer | string;
  readonly timestamp: string | undefined;
  readonly signature: string | undefined;
}

export type SignatureVerdict = 'valid' | 'missing' | 'stale' | 'mismatch';

/** Verifies `X-HubSpot-Signature-v3` in constant time within ±5 minutes of `now`. */
export function verifyV3(secret: string, request: SignedRequest, now = Date.now()): SignatureVerdict {
  const { timestamp, signature } = request;
  if (timestamp === undefined || signature === undefined || timestamp === '' || signature === '') {
    return 'missing';
  }
  const ts = /^\d{1,16}$/.test(timestamp) ? Number(timestamp) : Number.NaN;
  if (!Number.isFinite(ts) || Math.abs(now - ts) > SIGNATURE_MAX_SKEW_MS) {
    return 'stale';
  }
  const expected = Buffer.from(
    signV3(secret, request.method, request.url, request.rawBody, timestamp),
    'base64',
  );
  const given = Buffer.from(signature, 'base64');
  return given.length === expected.length && timingSafeEqual(given, expected) ? 'valid' : 'mismatch';
}
