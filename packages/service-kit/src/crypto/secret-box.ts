import { inspect } from 'node:util';
import { ConfigValidationError } from '../config/config-validation.error.js';
import { DomainError } from '../errors/domain-error.js';
import { GCM_IV_BYTES, GCM_TAG_BYTES, gcmDecrypt, gcmEncrypt } from './aes-gcm.js';
import {
  ENCRYPTION_KEY_BYTES,
  decodeKeyedToken,
  parseEncryptionKeys,
  type EncryptionKeyRing,
} from './encryption-keys.js';

export type SecretBoxErrorCode = 'DECRYPTION_FAILED' | 'UNKNOWN_KEY_ID';

export class SecretBoxError extends DomainError<SecretBoxErrorCode> {
  constructor(code: SecretBoxErrorCode, message: string) {
    super(code, message, { httpStatus: 500 });
  }
}

const VERSION = 'v1';

interface ParsedToken {
  readonly keyId: string;
  readonly iv: Buffer;
  readonly tag: Buffer;
  readonly ciphertext: Buffer;
}

/**
 * AES-256-GCM with a key ring, for secrets at rest (OAuth tokens, provider credentials).
 *
 * Tokens are `v1.<keyId>.<iv>.<tag>.<ciphertext>` (base64url parts). New tokens use the active key; any key
 * of the ring decrypts, so a new key can be rolled out first for reading and then made active. The AAD
 * (e.g. `portalId|column`) binds a ciphertext to its row and column: decrypting with another AAD fails.
 */
export class SecretBox {
  readonly #keys: EncryptionKeyRing;
  readonly activeKeyId: string;

  constructor(keys: EncryptionKeyRing, activeKeyId: string) {
    for (const [id, key] of keys) {
      if (key.length !== ENCRYPTION_KEY_BYTES) {
        throw new ConfigValidationError([
          { variable: 'ENCRYPTION_KEYS', reason: `key "${id}" must be ${ENCRYPTION_KEY_BYTES} bytes` },
        ]);
      }
    }
    if (!keys.has(activeKeyId)) {
      throw new ConfigValidationError([
        {
          variable: 'ENCRYPTION_ACTIVE_KEY_ID',
          reason: `must be one of the key ids in ENCRYPTION_KEYS (${[...keys.keys()].join(', ')})`,
        },
      ]);
    }
    this.#keys = new Map([...keys].map(([id, key]) => [id, Buffer.from(key)]));
    this.activeKeyId = activeKeyId;
  }

  /** From the `ENCRYPTION_KEYS` / `ENCRYPTION_ACTIVE_KEY_ID` config values; throws `ConfigValidationError`. */
  static fromConfig(config: { ENCRYPTION_KEYS: string; ENCRYPTION_ACTIVE_KEY_ID: string }): SecretBox {
    let keys: EncryptionKeyRing;
    try {
      keys = parseEncryptionKeys(config.ENCRYPTION_KEYS);
    } catch (error) {
      throw new ConfigValidationError([{ variable: 'ENCRYPTION_KEYS', reason: (error as Error).message }]);
    }
    return new SecretBox(keys, config.ENCRYPTION_ACTIVE_KEY_ID);
  }

  get keyIds(): readonly string[] {
    return [...this.#keys.keys()];
  }

  encrypt(plaintext: string | Buffer, aad: string): string {
    const key = this.#keys.get(this.activeKeyId);
    if (key === undefined) {
      throw new SecretBoxError('UNKNOWN_KEY_ID', `active key "${this.activeKeyId}" is missing`);
    }
    const { iv, tag, ciphertext } = gcmEncrypt(
      key,
      typeof plaintext === 'string' ? Buffer.from(plaintext, 'utf8') : plaintext,
      aad,
    );
    return [VERSION, this.activeKeyId, b64url(iv), b64url(tag), b64url(ciphertext)].join('.');
  }

  decrypt(token: string, aad: string): string {
    return this.decryptToBuffer(token, aad).toString('utf8');
  }

  decryptToBuffer(token: string, aad: string): Buffer {
    const parsed = parseToken(token);
    const key = this.#keys.get(parsed.keyId);
    if (key === undefined) {
      throw new SecretBoxError('UNKNOWN_KEY_ID', `no key with id "${parsed.keyId}" in the key ring`);
    }
    try {
      return gcmDecrypt(key, parsed, aad);
    } catch {
      throw new SecretBoxError(
        'DECRYPTION_FAILED',
        'ciphertext failed authentication (tampered, or wrong AAD for this row)',
      );
    }
  }

  /** True when `token` was written with a key other than the active one. */
  needsReEncryption(token: string): boolean {
    return parseToken(token).keyId !== this.activeKeyId;
  }

  /** Decrypts with whichever key wrote `token` and encrypts again with the active key. */
  reEncrypt(token: string, aad: string): string {
    return this.encrypt(this.decryptToBuffer(token, aad), aad);
  }

  toJSON(): Record<string, unknown> {
    return { activeKeyId: this.activeKeyId, keyIds: this.keyIds };
  }

  [inspect.custom](): string {
    return `SecretBox { activeKeyId: ${JSON.stringify(this.activeKeyId)}, keyIds: ${JSON.stringify(this.keyIds)} }`;
  }
}

function b64url(buffer: Buffer): string {
  return buffer.toString('base64url');
}

function parseToken(token: string): ParsedToken {
  const decoded = decodeKeyedToken(token, VERSION, 3);
  const [iv, tag, ciphertext] = decoded?.parts ?? [];
  if (
    decoded === undefined ||
    iv?.length !== GCM_IV_BYTES ||
    tag?.length !== GCM_TAG_BYTES ||
    ciphertext === undefined
  ) {
    throw new SecretBoxError('DECRYPTION_FAILED', 'not a v1 SecretBox token');
  }
  return { keyId: decoded.keyId, iv, tag, ciphertext };
}
