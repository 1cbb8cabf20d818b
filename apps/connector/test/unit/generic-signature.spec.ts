import { describe, expect, it } from '@jest/globals';
import {
  genericSignatureHeader,
  genericSignatureV1,
  verifyGenericSignature,
} from '../../src/providers/generic/generic-signature.js';

const SECRET = 'whsec_0123456789abcdef0123456789abcdef';
const BODY = Buffer.from('{"specVersion":"1","type":"message"}');
const NOW = 1_735_732_800_000;

describe('generic webhook X-Signature', () => {
  it('is hex HMAC-SHA256 over "<t>.<body>"', () => {
    expect(genericSignatureV1(SECRET, 1_735_732_800, BODY)).toBe(
      '527b9ba669b3c82fb747c9bdd7ad350d4649c20f1a2958af510b60494266300d',
    );
    expect(genericSignatureHeader(SECRET, BODY, NOW)).toMatch(/^t=1735732800,v1=[0-9a-f]{64}$/);
  });

  it('accepts a fresh signature, one of several v1 values, and refuses stale, forged or missing ones', () => {
    const header = genericSignatureHeader(SECRET, BODY, NOW);
    expect(verifyGenericSignature(SECRET, header, BODY, NOW + 299_000)).toBe('valid');
    expect(
      verifyGenericSignature(
        SECRET,
        `${header.split(',')[0]},v1=${'a'.repeat(64)},${header.split(',')[1]}`,
        BODY,
        NOW,
      ),
    ).toBe('valid');
    expect(verifyGenericSignature(SECRET, header, BODY, NOW + 301_000)).toBe('stale');
    expect(verifyGenericSignature(SECRET, header, Buffer.from('{}'), NOW)).toBe('mismatch');
    expect(verifyGenericSignature('another-secret', header, BODY, NOW)).toBe('mismatch');
    expect(verifyGenericSignature(SECRET, undefined, BODY, NOW)).toBe('missing');
    expect(verifyGenericSignature(SECRET, 'v1=abc', BODY, NOW)).toBe('missing');
  });
});
