import { createHmac, timingSafeEqual } from 'node:crypto';

export const GENERIC_SIGNATURE_HEADER = 'x-signature';

/** Signatures older or newer than this are refused (replay window). */
export const GENERIC_SIGNATURE_TOLERANCE_SECONDS = 300;

/** Hex HMAC-SHA256(secret, "<t>.<raw body>"). */
export function genericSignatureV1(secret: string, timestamp: number, rawBody: Buffer | string): string {
  return createHmac('sha256', secret).update(`${timestamp}.`, 'utf8').update(rawBody).digest('hex');
}

/** The `X-Signature` header value for a body sent now: `t=<unix seconds>,v1=<hex>`. */
export function genericSignatureHeader(secret: string, rawBody: Buffer | string, nowMs = Date.now()): string {
  const timestamp = Math.floor(nowMs / 1000);
  return `t=${timestamp},v1=${genericSignatureV1(secret, timestamp, rawBody)}`;
}

export type GenericSignatureVerdict = 'valid' | 'missing' | 'stale' | 'mismatch';

/**
 * Checks `t=<unix>,v1=<hex>[,v1=<hex>…]` (several v1 values let a sender sign with an old and a new secret
 * while rotating) in constant time, within ±5 minutes of `nowMs`.
 */
export function verifyGenericSignature(
  secret: string,
  header: string | undefined,
  rawBody: Buffer,
  nowMs = Date.now(),
): GenericSignatureVerdict {
  if (header === undefined || header === '') {
    return 'missing';
  }
  let timestamp: number | undefined;
  const signatures: string[] = [];
  for (const part of header.split(',')) {
    const [key, value] = part.trim().split('=', 2);
    if (key === 't' && value !== undefined && /^\d{1,12}$/.test(value)) {
      timestamp = Number(value);
    } else if (key === 'v1' && value !== undefined && /^[0-9a-f]{64}$/i.test(value)) {
      signatures.push(value.toLowerCase());
    }
  }
  if (timestamp === undefined || signatures.length === 0) {
    return 'missing';
  }
  if (Math.abs(nowMs / 1000 - timestamp) > GENERIC_SIGNATURE_TOLERANCE_SECONDS) {
    return 'stale';
  }
  const expected = Buffer.from(genericSignatureV1(secret, timestamp, rawBody), 'hex');
  const matches = signatures.some((signature) => {
    const given = Buffer.from(signature, 'hex');
    return given.length === expected.length && timingSafeEqual(given, expected);
  });
  return matches ? 'valid' : 'mismatch';
}
