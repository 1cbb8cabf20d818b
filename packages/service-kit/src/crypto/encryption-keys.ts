/** Key ids end up inside ciphertext tokens, where `.` is the separator. */
const KEY_ID_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;
const BASE64_PATTERN = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
export const ENCRYPTION_KEY_BYTES = 32;

export type EncryptionKeyRing = ReadonlyMap<string, Buffer>;

/**
 * Parses `keyId:base64[,keyId:base64...]` (the `ENCRYPTION_KEYS` format). Error messages name key ids and
 * byte counts only, never key material.
 */
export function parseEncryptionKeys(raw: string): EncryptionKeyRing {
  const keys = new Map<string, Buffer>();
  const entries = raw
    .split(',')
    .map((entry) => entry.trim())
    .filter((entry) => entry.length > 0);
  if (entries.length === 0) {
    throw new Error('expected at least one key in the form keyId:base64-32-bytes');
  }
  entries.forEach((entry, index) => {
    const separator = entry.indexOf(':');
    if (separator <= 0) {
      throw new Error(`entry #${index + 1} is not in the form keyId:base64-32-bytes`);
    }
    const id = entry.slice(0, separator);
    const encoded = entry.slice(separator + 1);
    if (!KEY_ID_PATTERN.test(id)) {
      throw new Error(`entry #${index + 1}: key id must be 1-64 characters of [A-Za-z0-9_-]`);
    }
    if (keys.has(id)) {
      throw new Error(`key id "${id}" appears more than once`);
    }
    if (!BASE64_PATTERN.test(encoded)) {
      throw new Error(`key "${id}" is not valid base64`);
    }
    const key = Buffer.from(encoded, 'base64');
    if (key.length !== ENCRYPTION_KEY_BYTES) {
      throw new Error(`key "${id}" must decode to ${ENCRYPTION_KEY_BYTES} bytes, got ${key.length}`);
    }
    keys.set(id, key);
  });
  return keys;
}

const B64URL_PATTERN = /^[A-Za-z0-9_-]*$/;

/**
 * A ciphertext token `<version>.<keyId>.<part>…` (base64url parts) split into its key id and decoded parts;
 * undefined when it is not of that version or has another number of parts.
 */
export function decodeKeyedToken(
  token: string,
  version: string,
  partCount: number,
): { readonly keyId: string; readonly parts: readonly Buffer[] } | undefined {
  const [tokenVersion, keyId, ...encoded] = token.split('.');
  if (
    tokenVersion !== version ||
    keyId === undefined ||
    keyId === '' ||
    encoded.length !== partCount ||
    !encoded.every((part) => B64URL_PATTERN.test(part))
  ) {
    return undefined;
  }
  return { keyId, parts: encoded.map((part) => Buffer.from(part, 'base64url')) };
}
