import { createHash, createHmac, timingSafeEqual } from 'node:crypto';

const HUBSPOT_URI_DECODES: Record<string, string> = {
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

/** Decodes only the escapes HubSpot lists (§2.4); everything else (e.g. `%20`) stays encoded. */
export function decodeHubSpotUri(uri: string): string {
  return uri.replace(
    /%(3A|2F|3F|40|21|24|27|28|29|2A|2C|3B)/gi,
    (match) => HUBSPOT_URI_DECODES[match.toUpperCase()] ?? match,
  );
}

/** `X-HubSpot-Signature-v3`: base64 HMAC-SHA256(clientSecret, method + uri + rawBody + timestamp). */
export function signV3(
  secret: string,
  method: string,
  url: string,
  rawBody: string,
  timestamp: string,
): string {
  return createHmac('sha256', secret)
    .update(`${method}${decodeHubSpotUri(url)}${rawBody}${timestamp}`, 'utf8')
    .digest('base64');
}

/** The receiver's check, with HubSpot's 5-minute window; the sandbox's tests use it as the reference. */
export function isValidV3(
  secret: string,
  request: { method: string; url: string; rawBody: string; timestamp: string; signature: string },
  now = Date.now(),
): boolean {
  const ts = Number(request.timestamp);
  if (!Number.isFinite(ts) || Math.abs(now - ts) > 300_000) {
    return false;
  }
  const expected = Buffer.from(
    signV3(secret, request.method, request.url, request.rawBody, request.timestamp),
    'base64',
  );
  const given = Buffer.from(request.signature, 'base64');
  return given.length === expected.length && timingSafeEqual(given, expected);
}

/** The headers HubSpot adds to a custom-channel webhook POST. */
export function signedWebhookHeaders(
  secret: string,
  url: string,
  rawBody: string,
  now = Date.now(),
): Record<string, string> {
  const timestamp = String(now);
  return {
    'Content-Type': 'application/json',
    'X-HubSpot-Request-Timestamp': timestamp,
    'X-HubSpot-Signature-v3': signV3(secret, 'POST', url, rawBody, timestamp),
  };
}

/** `X-HubSpot-Signature` v1 (Webhooks API, §2.4): hex SHA-256 of clientSecret + rawBody, a plain hash. */
export function signV1(secret: string, rawBody: string): string {
  return createHash('sha256').update(`${secret}${rawBody}`, 'utf8').digest('hex');
}

/** The headers of a Webhooks API POST (§2.6): the v1 signature plus the v3 headers. */
export function signedWebhooksApiHeaders(
  secret: string,
  url: string,
  rawBody: string,
  now = Date.now(),
): Record<string, string> {
  return {
    ...signedWebhookHeaders(secret, url, rawBody, now),
    'X-HubSpot-Signature': signV1(secret, rawBody),
    'X-HubSpot-Signature-Version': 'v1',
  };
}
