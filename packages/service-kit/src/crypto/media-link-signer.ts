import { createHmac, timingSafeEqual } from 'node:crypto';

/** Query parameters of a signed media link: `ref`, `exp` (epoch ms) and `sig` (HMAC-SHA256, base64url). */
export interface SignedMediaLink {
  readonly ref: string;
  readonly exp: number;
  readonly sig: string;
}

export type MediaLinkRejection = 'MISSING' | 'EXPIRED' | 'BAD_SIGNATURE';

/**
 * Signs and checks the expiring links one bridge service gives another to stream a media file over HTTP
 * (media never travels through the broker). The gateway and the connector share `MEDIA_LINK_SECRET`;
 * the purpose string keeps a link minted for one direction from being replayed in the other.
 */
export class MediaLinkSigner {
  readonly #secret: Buffer;

  constructor(
    secret: string,
    private readonly purpose: 'provider-media' | 'hubspot-file',
    private readonly now: () => number = Date.now,
  ) {
    if (secret.length < 32) {
      throw new Error('MEDIA_LINK_SECRET must be at least 32 characters');
    }
    this.#secret = Buffer.from(secret, 'utf8');
  }

  sign(ref: string, ttlMs: number): SignedMediaLink {
    const exp = this.now() + ttlMs;
    return { ref, exp, sig: this.#mac(ref, exp) };
  }

  /** `base` is the serving service's origin, e.g. `http://connector:3001/internal/media`. */
  url(base: string, ref: string, ttlMs: number): string {
    const link = this.sign(ref, ttlMs);
    const url = new URL(base);
    url.searchParams.set('ref', link.ref);
    url.searchParams.set('exp', String(link.exp));
    url.searchParams.set('sig', link.sig);
    return url.toString();
  }

  /** Checks a link's query parameters in constant time; returns the reason when it must be refused. */
  verify(query: {
    ref?: unknown;
    exp?: unknown;
    sig?: unknown;
  }): { ok: true; ref: string } | { ok: false; reason: MediaLinkRejection } {
    const { ref, exp, sig } = query;
    if (typeof ref !== 'string' || typeof exp !== 'string' || typeof sig !== 'string' || ref === '') {
      return { ok: false, reason: 'MISSING' };
    }
    const expiresAt = Number(exp);
    if (!Number.isSafeInteger(expiresAt)) {
      return { ok: false, reason: 'MISSING' };
    }
    const expected = Buffer.from(this.#mac(ref, expiresAt), 'utf8');
    const given = Buffer.from(sig, 'utf8');
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
      return { ok: false, reason: 'BAD_SIGNATURE' };
    }
    if (expiresAt < this.now()) {
      return { ok: false, reason: 'EXPIRED' };
    }
    return { ok: true, ref };
  }

  #mac(ref: string, exp: number): string {
    return createHmac('sha256', this.#secret).update(`${this.purpose}\n${exp}\n${ref}`).digest('base64url');
  }
}
