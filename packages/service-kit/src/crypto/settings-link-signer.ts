import { SignedLinkSigner } from './signed-link-signer.js';

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
  readonly #links: SignedLinkSigner;

  constructor(secret: string, now: () => number = Date.now) {
    this.#links = new SignedLinkSigner(secret, PURPOSE, now);
  }

  sign(portalId: number, channelAccountId: string, ttlMs: number): SettingsLinkParams {
    const { ref, exp, sig } = this.#links.sign(`${portalId}:${channelAccountId}`, ttlMs);
    return { ref, exp: String(exp), sig };
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

  /** Checks the shape of `ref` and `exp`, then the signature in constant time, then the expiry. */
  verify(params: { ref?: unknown; exp?: unknown; sig?: unknown }): SettingsLinkCheck {
    const { ref, exp } = params;
    const match = typeof ref === 'string' ? /^(\d{1,18}):(\S{1,200})$/.exec(ref) : null;
    if (
      match?.[1] === undefined ||
      match[2] === undefined ||
      typeof exp !== 'string' ||
      !/^\d{1,16}$/.test(exp)
    ) {
      return { ok: false, reason: 'MISSING' };
    }
    const checked = this.#links.verify(params);
    if (!checked.ok) {
      return checked;
    }
    return { ok: true, portalId: Number(match[1]), channelAccountId: match[2] };
  }
}
