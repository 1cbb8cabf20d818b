import { createHmac, timingSafeEqual } from 'node:crypto';

/** Query (GET) or hidden form fields (POST) of a settings link: `ref` = `<portalId>:<channelAccountId>`. */
export interface SettingsLinkParams {
  readonly ref: string;
  readonly exp: string;
  readonly sig: string;
}

export type SettingsLinkCheck =
  | { readonly ok: true; readonly portalId: number; readonly channelAccountId: string }
  | { readonly ok: false; readonly reason: 'MISSING' | 'BAD_SIGNATURE' | 'EXPIRED' };

const PURPOSE = 'router-settings';

/**
 * Expiring signed links to one channel account's settings page, so no long-lived token ever sits in a URL
 * (URLs end up in logs and browser history). `sig` is HMAC-SHA256(SETTINGS_LINK_SECRET,
 * "router-settings\n<exp>\n<portalId>:<channelAccountId>") in base64url, `exp` in epoch milliseconds. The
 * router verifies them (and mints them for its admin API); the gateway mints them for the connection popup's
 * last step with the same secret.
 */
export class SettingsLinkSigner {
  readonly #secret: Buffer;

  constructor(
    secret: string,
    private readonly now: () => number = Date.now,
  ) {
    this.#secret = Buffer.from(secret, 'utf8');
  }

  sign(portalId: number, channelAccountId: string, ttlMs: number): SettingsLinkParams {
    const exp = this.now() + ttlMs;
    const ref = `${portalId}:${channelAccountId}`;
    return { ref, exp: String(exp), sig: this.#mac(ref, exp) };
  }

  url(baseUrl: string, portalId: number, channelAccountId: string, ttlMs: number): string {
    const params = this.sign(portalId, channelAccountId, ttlMs);
    const url = new URL(
      `settings/${encodeURIComponent(channelAccountId)}`,
      baseUrl.endsWith('/') ? baseUrl : `${baseUrl}/`,
    );
    url.searchParams.set('ref', params.ref);
    url.searchParams.set('exp', params.exp);
    url.searchParams.set('sig', params.sig);
    return url.toString();
  }

  /** Checks the signature in constant time, then the expiry. */
  verify(params: { ref?: unknown; exp?: unknown; sig?: unknown }): SettingsLinkCheck {
    const { ref, exp, sig } = params;
    if (typeof ref !== 'string' || typeof exp !== 'string' || typeof sig !== 'string') {
      return { ok: false, reason: 'MISSING' };
    }
    const match = /^(\d{1,18}):(\S{1,200})$/.exec(ref);
    const expiresAt = Number(exp);
    if (match?.[1] === undefined || match[2] === undefined || !/^\d{1,16}$/.test(exp)) {
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
    return { ok: true, portalId: Number(match[1]), channelAccountId: match[2] };
  }

  #mac(ref: string, exp: number): string {
    return createHmac('sha256', this.#secret).update(`${PURPOSE}\n${exp}\n${ref}`).digest('base64url');
  }
}
