import {
  createPrivateKey,
  createPublicKey,
  diffieHellman,
  generateKeyPairSync,
  hkdfSync,
  type KeyObject,
} from 'node:crypto';
import { inspect } from 'node:util';
import { ConfigValidationError } from '../config/config-validation.error.js';
import { DomainError } from '../errors/domain-error.js';
import { GCM_IV_BYTES, GCM_TAG_BYTES, gcmDecrypt, gcmEncrypt } from './aes-gcm.js';
import { decodeKeyedToken, parseEncryptionKeys, type EncryptionKeyRing } from './encryption-keys.js';

export type TransitSealErrorCode = 'UNSEAL_FAILED' | 'UNKNOWN_KEY_ID';

/** Never carries the sealed value nor what it holds: its message may end up in a dead-letter reason. */
export class TransitSealError extends DomainError<TransitSealErrorCode> {
  constructor(code: TransitSealErrorCode, message: string) {
    super(code, message, { httpStatus: 500 });
  }
}

const VERSION = 'v1';
const KEY_BYTES = 32;
/** DER headers of raw X25519 keys (RFC 8410): the configured values are the raw 32 bytes, as openssl prints them. */
const SPKI_X25519_PREFIX = Buffer.from('302a300506032b656e032100', 'hex');
const PKCS8_X25519_PREFIX = Buffer.from('302e020100300506032b656e04220420', 'hex');
const KDF_INFO = Buffer.from('inbox-bridge transit seal v1: x25519, hkdf-sha256, aes-256-gcm', 'utf8');

function publicKeyFromRaw(raw: Buffer): KeyObject {
  return createPublicKey({ key: Buffer.concat([SPKI_X25519_PREFIX, raw]), format: 'der', type: 'spki' });
}

function rawPublicKey(key: KeyObject): Buffer {
  return key.export({ format: 'der', type: 'spki' }).subarray(SPKI_X25519_PREFIX.length);
}

/** The AES key of one sealed value: both public keys are in the derivation, so neither can be swapped. */
function contentKey(sharedSecret: Buffer, ephemeralPublic: Buffer, recipientPublic: Buffer): Buffer {
  return Buffer.from(
    hkdfSync('sha256', sharedSecret, Buffer.concat([ephemeralPublic, recipientPublic]), KDF_INFO, KEY_BYTES),
  );
}

function parseKeyRing(variable: string, raw: string): EncryptionKeyRing {
  try {
    return parseEncryptionKeys(raw);
  } catch (error) {
    throw new ConfigValidationError([{ variable, reason: (error as Error).message }]);
  }
}

/**
 * Seals secrets for one recipient service with its X25519 public key (ECIES: a fresh ephemeral key pair per value,
 * X25519 agreement, HKDF-SHA256, AES-256-GCM), so that only the holder of the private key can open them: not the
 * sender, not the broker, not a backup of the sender's outbox. `aad` binds the sealed value to its context (e.g.
 * the request and portal it was made for); opening it under another context fails.
 *
 * Sealed values are `v1.<keyId>.<ephemeral public key>.<iv>.<tag>.<ciphertext>` (base64url parts).
 */
export class TransitSealer {
  readonly keyId: string;
  readonly #recipient: KeyObject;
  readonly #recipientRaw: Buffer;

  constructor(keyId: string, recipientPublicKey: Buffer) {
    this.keyId = keyId;
    this.#recipientRaw = Buffer.from(recipientPublicKey);
    this.#recipient = publicKeyFromRaw(this.#recipientRaw);
  }

  /** From `keyId:base64-32-bytes` (one key: the recipient's active one); throws `ConfigValidationError`. */
  static fromConfig(variable: string, raw: string): TransitSealer {
    const keys = parseKeyRing(variable, raw);
    const [entry, ...others] = [...keys];
    if (entry === undefined || others.length > 0) {
      throw new ConfigValidationError([
        { variable, reason: 'expected exactly one key, keyId:base64-32-bytes' },
      ]);
    }
    return new TransitSealer(entry[0], entry[1]);
  }

  seal(plaintext: string, aad: string): string {
    const ephemeral = generateKeyPairSync('x25519');
    const ephemeralPublic = rawPublicKey(ephemeral.publicKey);
    const key = contentKey(
      diffieHellman({ privateKey: ephemeral.privateKey, publicKey: this.#recipient }),
      ephemeralPublic,
      this.#recipientRaw,
    );
    const { iv, tag, ciphertext } = gcmEncrypt(key, Buffer.from(plaintext, 'utf8'), aad);
    return [VERSION, this.keyId, ephemeralPublic, iv, tag, ciphertext]
      .map((part) => (typeof part === 'string' ? part : part.toString('base64url')))
      .join('.');
  }

  toJSON(): Record<string, unknown> {
    return { keyId: this.keyId };
  }

  [inspect.custom](): string {
    return `TransitSealer { keyId: ${JSON.stringify(this.keyId)} }`;
  }
}

interface SealedParts {
  readonly keyId: string;
  readonly ephemeralPublic: Buffer;
  readonly iv: Buffer;
  readonly tag: Buffer;
  readonly ciphertext: Buffer;
}

function parseSealed(sealed: string): SealedParts {
  const decoded = decodeKeyedToken(sealed, VERSION, 4);
  const [ephemeralPublic, iv, tag, ciphertext] = decoded?.parts ?? [];
  if (
    decoded === undefined ||
    ephemeralPublic?.length !== KEY_BYTES ||
    iv?.length !== GCM_IV_BYTES ||
    tag?.length !== GCM_TAG_BYTES ||
    ciphertext === undefined
  ) {
    throw new TransitSealError('UNSEAL_FAILED', 'not a v1 sealed value');
  }
  return { keyId: decoded.keyId, ephemeralPublic, iv, tag, ciphertext };
}

/**
 * Opens what a {@link TransitSealer} sealed with one of this ring's public keys. Every private key of the ring
 * opens, so a new key pair rotates in without downtime: add its private key here first, then give the senders its
 * public key, and drop the old private key once nothing sealed with it can still arrive.
 */
export class TransitUnsealer {
  readonly #keys: ReadonlyMap<string, { readonly privateKey: KeyObject; readonly publicRaw: Buffer }>;

  constructor(privateKeys: EncryptionKeyRing) {
    this.#keys = new Map(
      [...privateKeys].map(([id, raw]) => {
        const privateKey = createPrivateKey({
          key: Buffer.concat([PKCS8_X25519_PREFIX, raw]),
          format: 'der',
          type: 'pkcs8',
        });
        return [id, { privateKey, publicRaw: rawPublicKey(createPublicKey(privateKey)) }];
      }),
    );
  }

  /** From `keyId:base64-32-bytes[,…]` (raw X25519 private keys); throws `ConfigValidationError`. */
  static fromConfig(variable: string, raw: string): TransitUnsealer {
    return new TransitUnsealer(parseKeyRing(variable, raw));
  }

  get keyIds(): readonly string[] {
    return [...this.#keys.keys()];
  }

  /** `keyId:base64` of the public key that pairs with a private key of the ring: what the senders configure. */
  publicKeyOf(keyId: string): string {
    const key = this.#keys.get(keyId);
    if (key === undefined) {
      throw new TransitSealError('UNKNOWN_KEY_ID', `no key with id "${keyId}" in the key ring`);
    }
    return `${keyId}:${key.publicRaw.toString('base64')}`;
  }

  unseal(sealed: string, aad: string): string {
    const parsed = parseSealed(sealed);
    const key = this.#keys.get(parsed.keyId);
    if (key === undefined) {
      throw new TransitSealError('UNKNOWN_KEY_ID', `no key with id "${parsed.keyId}" in the key ring`);
    }
    try {
      const sharedSecret = diffieHellman({
        privateKey: key.privateKey,
        publicKey: publicKeyFromRaw(parsed.ephemeralPublic),
      });
      return gcmDecrypt(
        contentKey(sharedSecret, parsed.ephemeralPublic, key.publicRaw),
        parsed,
        aad,
      ).toString('utf8');
    } catch {
      throw new TransitSealError(
        'UNSEAL_FAILED',
        'sealed value failed authentication (tampered, sealed for another context, or for another key pair)',
      );
    }
  }

  toJSON(): Record<string, unknown> {
    return { keyIds: this.keyIds };
  }

  [inspect.custom](): string {
    return `TransitUnsealer { keyIds: ${JSON.stringify(this.keyIds)} }`;
  }
}

/** A new X25519 key pair in the configuration format: the private key for the recipient, the public one for senders. */
export function generateTransitKeyPair(keyId: string): {
  readonly privateKey: string;
  readonly publicKey: string;
} {
  const pair = generateKeyPairSync('x25519');
  const privateRaw = pair.privateKey
    .export({ format: 'der', type: 'pkcs8' })
    .subarray(PKCS8_X25519_PREFIX.length);
  return {
    privateKey: `${keyId}:${privateRaw.toString('base64')}`,
    publicKey: `${keyId}:${rawPublicKey(pair.publicKey).toString('base64')}`,
  };
}
