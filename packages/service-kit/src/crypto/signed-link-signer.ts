import { createHmac, timingSafeEqual } from 'node:crypto';

/** Query parameters of a signed link: `ref`, `exp` (epoch ms) and `sig` (HMAC-SHA256, base64url). */
export interface SignedLink {
  readonly ref: string;
  readonly exp: number;
  readonly sig: string;
}

export type SignedLinkRejection = 'MISSING' | 'EXPIRED' | 'BAD_SIGNATURE';

/**
 * Expiring links signed with a shared secret: `sig` = HMAC-SHA256(secret, "<purpose>\n<exp>\n<ref>") in base64url.
 * The purpose keeps a link minted for one use from being accepted for another under the same secret.
 */
export class SignedLinkSigner {
  readonly #secret: Buffer;

  constructor(
    secret: string,
    private readonly purpose: string,
    private readonly now: () => number = Date.now,
  ) {
    this.#secret = Buffer.from(secret, 'utf8');
  }

  sign(ref: string, ttlMs: number): SignedLink {
    const exp = this.now() + ttlMs;
    return { ref, exp, sig: this.#mac(ref, exp) };
  }

  /** Checks a link's parameters, the signature in constant time, then the expiry. */
  verify(query: {
    ref?: unknown;
    exp?: unknown;
    sig?: unknown;
  }): { ok: true; ref: string } | { ok: false; reason: SignedLinkRejection } {
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
