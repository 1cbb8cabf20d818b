import { describe, expect, it } from '@jest/globals';
import { decodeHubSpotUri, signV3, verifyV3 } from '../src/webhooks/hubspot-signature.js';

// hubspot-api.md §2.4 known-answer vectors (HubSpot's Ruby and Python SDK tests).
const SECRET = 'yyyyyyyy-yyyy-yyyy-yyyy-yyyyyyyyyyyy';
const URI = 'https://www.example.com/webhook_uri';
const BODY = "{'example_field':'example_value'}";

describe('HubSpot signature v3', () => {
  it.each([
    ['1700000300000', 'RnbPH7+UMKVkbV32P8bz450N4M56aPmcru1+D3kSDtw='],
    ['1693657560000', 'K36dawei4A+QBNolUOqo7s91KQDWQ5MXZ/QufNYuk/Y='],
  ])('reproduces the reference vector for timestamp %s', (timestamp, expected) => {
    expect(signV3(SECRET, 'POST', URI, BODY, timestamp)).toBe(expected);
    expect(signV3(SECRET, 'POST', URI, Buffer.from(BODY), timestamp)).toBe(expected);
    const request = { method: 'POST', url: URI, rawBody: BODY, timestamp, signature: expected };
    expect(verifyV3(SECRET, request, Number(timestamp))).toBe('valid');
  });

  it('decodes only the escapes HubSpot lists, in either case', () => {
    expect(decodeHubSpotUri('https://h/p%3Aa%2fb%3F%40%21%24%27%28%29%2A%2C%3b?q=a%20b%25')).toBe(
      "https://h/p:a/b?@!$'()*,;?q=a%20b%25",
    );
  });

  it('signs the decoded URI, so an encoded and a decoded URL verify alike', () => {
    const ts = '1700000300000';
    const signature = signV3(SECRET, 'POST', 'https://h/w?x=a:b', BODY, ts);
    const request = { method: 'POST', url: 'https://h/w?x=a%3Ab', rawBody: BODY, timestamp: ts, signature };
    expect(verifyV3(SECRET, request, Number(ts))).toBe('valid');
  });

  it('rejects missing headers, stale or future timestamps, tampering and a wrong secret', () => {
    const ts = '1700000300000';
    const now = Number(ts);
    const signature = signV3(SECRET, 'POST', URI, BODY, ts);
    const ok = { method: 'POST', url: URI, rawBody: BODY, timestamp: ts, signature };
    expect(verifyV3(SECRET, { ...ok, signature: undefined }, now)).toBe('missing');
    expect(verifyV3(SECRET, { ...ok, timestamp: undefined }, now)).toBe('missing');
    expect(verifyV3(SECRET, ok, now + 300_001)).toBe('stale');
    expect(verifyV3(SECRET, ok, now - 300_001)).toBe('stale');
    expect(verifyV3(SECRET, ok, now + 300_000)).toBe('valid');
    expect(verifyV3(SECRET, { ...ok, timestamp: '17e11' }, now)).toBe('stale');
    expect(verifyV3(SECRET, { ...ok, rawBody: `${BODY} ` }, now)).toBe('mismatch');
    expect(verifyV3(SECRET, { ...ok, method: 'PUT' }, now)).toBe('mismatch');
    expect(verifyV3(SECRET, { ...ok, signature: 'AAAA' }, now)).toBe('mismatch');
    expect(verifyV3('another-secret', ok, now)).toBe('mismatch');
  });
});
