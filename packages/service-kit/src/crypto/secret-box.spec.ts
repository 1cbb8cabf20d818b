import { describe, expect, it } from '@jest/globals';
import { randomBytes } from 'node:crypto';
import { inspect } from 'node:util';
import { ConfigValidationError } from '../config/config-validation.error.js';
import { SecretBox, SecretBoxError } from './secret-box.js';

const oldKey = randomBytes(32).toString('base64');
const newKey = randomBytes(32).toString('base64');
const AAD = '12345|refresh_token';

function expectCode(fn: () => unknown, code: string): void {
  let caught: unknown;
  try {
    fn();
  } catch (error) {
    caught = error;
  }
  expect(caught).toBeInstanceOf(SecretBoxError);
  expect((caught as SecretBoxError).code).toBe(code);
}

function flipChar(part: string, index: number): string {
  const chars = part.split('');
  chars[index] = chars[index] === 'A' ? 'B' : 'A';
  return chars.join('');
}

describe('SecretBox', () => {
  const box = SecretBox.fromConfig({ ENCRYPTION_KEYS: `old:${oldKey}`, ENCRYPTION_ACTIVE_KEY_ID: 'old' });

  it('round-trips strings and buffers with a fresh IV each time', () => {
    const token = box.encrypt('refresh-token-value', AAD);
    expect(token).toMatch(/^v1\.old\.[A-Za-z0-9_-]{16}\.[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]+$/);
    expect(box.decrypt(token, AAD)).toBe('refresh-token-value');
    expect(box.encrypt('refresh-token-value', AAD)).not.toBe(token);
    const binary = randomBytes(50);
    expect(box.decryptToBuffer(box.encrypt(binary, AAD), AAD).equals(binary)).toBe(true);
    expect(token).not.toContain('refresh-token-value');
  });

  it('rejects tampered ciphertext, tag, IV or key id', () => {
    const token = box.encrypt('secret', AAD);
    const [version, keyId, iv, tag, ciphertext] = token.split('.') as [
      string,
      string,
      string,
      string,
      string,
    ];
    expectCode(
      () => box.decrypt([version, keyId, iv, tag, flipChar(ciphertext, 0)].join('.'), AAD),
      'DECRYPTION_FAILED',
    );
    expectCode(
      () => box.decrypt([version, keyId, iv, flipChar(tag, 0), ciphertext].join('.'), AAD),
      'DECRYPTION_FAILED',
    );
    expectCode(
      () => box.decrypt([version, keyId, flipChar(iv, 0), tag, ciphertext].join('.'), AAD),
      'DECRYPTION_FAILED',
    );
    expectCode(() => box.decrypt(`v2.${keyId}.${iv}.${tag}.${ciphertext}`, AAD), 'DECRYPTION_FAILED');
    expectCode(() => box.decrypt('garbage', AAD), 'DECRYPTION_FAILED');
  });

  it('rejects the right ciphertext under the wrong AAD (another portal or column)', () => {
    const token = box.encrypt('secret', AAD);
    expectCode(() => box.decrypt(token, '99999|refresh_token'), 'DECRYPTION_FAILED');
    expectCode(() => box.decrypt(token, '12345|access_token'), 'DECRYPTION_FAILED');
  });

  it('rotates: old tokens still decrypt, new writes use the active key', () => {
    const oldToken = box.encrypt('secret', AAD);
    const rotated = SecretBox.fromConfig({
      ENCRYPTION_KEYS: `old:${oldKey},new:${newKey}`,
      ENCRYPTION_ACTIVE_KEY_ID: 'new',
    });
    expect(rotated.decrypt(oldToken, AAD)).toBe('secret');
    expect(rotated.needsReEncryption(oldToken)).toBe(true);
    const fresh = rotated.encrypt('secret', AAD);
    expect(fresh.split('.')[1]).toBe('new');
    expect(rotated.needsReEncryption(fresh)).toBe(false);
    const reEncrypted = rotated.reEncrypt(oldToken, AAD);
    expect(reEncrypted.split('.')[1]).toBe('new');
    expect(rotated.decrypt(reEncrypted, AAD)).toBe('secret');
    expectCode(() => box.decrypt(reEncrypted, AAD), 'UNKNOWN_KEY_ID');
  });

  it('does not accept a token written with another key under the same id', () => {
    const impostor = SecretBox.fromConfig({
      ENCRYPTION_KEYS: `old:${newKey}`,
      ENCRYPTION_ACTIVE_KEY_ID: 'old',
    });
    expectCode(() => box.decrypt(impostor.encrypt('secret', AAD), AAD), 'DECRYPTION_FAILED');
  });

  it('validates keys as configuration errors without printing them', () => {
    const short = randomBytes(31).toString('base64');
    expect(() =>
      SecretBox.fromConfig({ ENCRYPTION_KEYS: `a:${short}`, ENCRYPTION_ACTIVE_KEY_ID: 'a' }),
    ).toThrow(ConfigValidationError);
    expect(() =>
      SecretBox.fromConfig({ ENCRYPTION_KEYS: `a:${short}`, ENCRYPTION_ACTIVE_KEY_ID: 'a' }),
    ).not.toThrow(short);
    expect(() =>
      SecretBox.fromConfig({ ENCRYPTION_KEYS: `a:${oldKey}`, ENCRYPTION_ACTIVE_KEY_ID: 'b' }),
    ).toThrow(/ENCRYPTION_ACTIVE_KEY_ID: must be one of the key ids in ENCRYPTION_KEYS \(a\)/);
    expect(() =>
      SecretBox.fromConfig({ ENCRYPTION_KEYS: `a.b:${oldKey}`, ENCRYPTION_ACTIVE_KEY_ID: 'a.b' }),
    ).toThrow(/key id must be/);
    expect(() =>
      SecretBox.fromConfig({ ENCRYPTION_KEYS: `a:${oldKey},a:${newKey}`, ENCRYPTION_ACTIVE_KEY_ID: 'a' }),
    ).toThrow(/appears more than once/);
  });

  it('never exposes key material when logged or serialized', () => {
    const rendered = `${inspect(box)} ${JSON.stringify(box)} ${JSON.stringify({ box })}`;
    expect(rendered).toContain('old');
    expect(rendered).not.toContain(oldKey);
    expect(rendered).not.toContain(Buffer.from(oldKey, 'base64').toString('hex'));
  });
});
