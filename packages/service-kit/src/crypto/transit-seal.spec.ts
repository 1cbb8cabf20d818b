import { describe, expect, it } from '@jest/globals';
import { inspect } from 'node:util';
import { ConfigValidationError } from '../config/config-validation.error.js';
import { TransitSealError, TransitSealer, TransitUnsealer, generateTransitKeyPair } from './transit-seal.js';

const AAD = '["connector.credentials.validate.v2",111,"request-1"]';
const SECRET = '123456789:AAHsecret-bot-token-0123456789abcdef';

function expectCode(fn: () => unknown, code: string): TransitSealError {
  let caught: unknown;
  try {
    fn();
  } catch (error) {
    caught = error;
  }
  expect(caught).toBeInstanceOf(TransitSealError);
  expect((caught as TransitSealError).code).toBe(code);
  expect((caught as TransitSealError).message).not.toContain(SECRET);
  return caught as TransitSealError;
}

function flipChar(part: string, index: number): string {
  const chars = part.split('');
  chars[index] = chars[index] === 'A' ? 'B' : 'A';
  return chars.join('');
}

describe(TransitSealer.name, () => {
  const pair = generateTransitKeyPair('k1');
  const sut = TransitSealer.fromConfig('PUBLIC', pair.publicKey);
  const unsealer = TransitUnsealer.fromConfig('PRIVATE', pair.privateKey);

  it('seals for the private key holder only, with a fresh ephemeral key each time', () => {
    const sealed = sut.seal(SECRET, AAD);
    expect(sealed).toMatch(
      /^v1\.k1\.[A-Za-z0-9_-]{43}\.[A-Za-z0-9_-]{16}\.[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]+$/,
    );
    expect(sealed).not.toContain(SECRET);
    expect(unsealer.unseal(sealed, AAD)).toBe(SECRET);
    expect(sut.seal(SECRET, AAD).split('.')[2]).not.toBe(sealed.split('.')[2]);
    const stranger = TransitUnsealer.fromConfig('PRIVATE', generateTransitKeyPair('k1').privateKey);
    expectCode(() => stranger.unseal(sealed, AAD), 'UNSEAL_FAILED');
  });

  it('refuses a sealed value opened under another context (request, portal)', () => {
    const sealed = sut.seal(SECRET, AAD);
    expectCode(() => unsealer.unseal(sealed, AAD.replace('111', '222')), 'UNSEAL_FAILED');
  });

  it('refuses a tampered ephemeral key, IV, tag, ciphertext or format', () => {
    const parts = sut.seal(SECRET, AAD).split('.');
    for (const index of [2, 3, 4, 5]) {
      const tampered = [...parts];
      tampered[index] = flipChar(tampered[index] ?? '', 1);
      expectCode(() => unsealer.unseal(tampered.join('.'), AAD), 'UNSEAL_FAILED');
    }
    expectCode(() => unsealer.unseal(`v2.${parts.slice(1).join('.')}`, AAD), 'UNSEAL_FAILED');
    expectCode(() => unsealer.unseal('garbage', AAD), 'UNSEAL_FAILED');
    const zeroKey = [...parts];
    zeroKey[2] = Buffer.alloc(32).toString('base64url');
    expectCode(() => unsealer.unseal(zeroKey.join('.'), AAD), 'UNSEAL_FAILED');
  });

  it('rotates: every private key of the ring opens, an unknown key id is named', () => {
    const next = generateTransitKeyPair('k2');
    const ring = TransitUnsealer.fromConfig('PRIVATE', `${pair.privateKey},${next.privateKey}`);
    expect(ring.unseal(sut.seal(SECRET, AAD), AAD)).toBe(SECRET);
    expect(ring.unseal(TransitSealer.fromConfig('PUBLIC', next.publicKey).seal(SECRET, AAD), AAD)).toBe(
      SECRET,
    );
    expect(ring.publicKeyOf('k2')).toBe(next.publicKey);
    expectCode(
      () => unsealer.unseal(TransitSealer.fromConfig('PUBLIC', next.publicKey).seal(SECRET, AAD), AAD),
      'UNKNOWN_KEY_ID',
    );
  });

  it('validates keys as configuration errors naming the variable', () => {
    expect(() => TransitSealer.fromConfig('PUBLIC', 'k1:short')).toThrow(ConfigValidationError);
    expect(() =>
      TransitSealer.fromConfig('PUBLIC', `${pair.publicKey},${pair.publicKey.replace('k1', 'k2')}`),
    ).toThrow(/PUBLIC: expected exactly one key/);
    expect(() => TransitUnsealer.fromConfig('PRIVATE', 'k1:c2hvcnQ=')).toThrow(
      /PRIVATE: key "k1" must decode to 32 bytes/,
    );
  });

  it('never exposes private key material when logged or serialized', () => {
    const rendered = `${inspect(unsealer)} ${JSON.stringify(unsealer)} ${inspect(sut)} ${JSON.stringify(sut)}`;
    expect(rendered).toContain('k1');
    expect(rendered).not.toContain(pair.privateKey.slice(3));
  });
});
