import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';

export const GCM_IV_BYTES = 12;
export const GCM_TAG_BYTES = 16;

export interface GcmSealed {
  readonly iv: Buffer;
  readonly tag: Buffer;
  readonly ciphertext: Buffer;
}

/** AES-256-GCM under a fresh random IV; the same `aad` must be given to open it. */
export function gcmEncrypt(key: Buffer, plaintext: Buffer, aad: string): GcmSealed {
  const iv = randomBytes(GCM_IV_BYTES);
  const cipher = createCipheriv('aes-256-gcm', key, iv, { authTagLength: GCM_TAG_BYTES });
  cipher.setAAD(Buffer.from(aad, 'utf8'));
  const ciphertext = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  return { iv, tag: cipher.getAuthTag(), ciphertext };
}

/** Throws when the tag does not authenticate: tampered, another key, or another `aad`. */
export function gcmDecrypt(key: Buffer, sealed: GcmSealed, aad: string): Buffer {
  const decipher = createDecipheriv('aes-256-gcm', key, sealed.iv, { authTagLength: GCM_TAG_BYTES });
  decipher.setAAD(Buffer.from(aad, 'utf8'));
  decipher.setAuthTag(sealed.tag);
  return Buffer.concat([decipher.update(sealed.ciphertext), decipher.final()]);
}
