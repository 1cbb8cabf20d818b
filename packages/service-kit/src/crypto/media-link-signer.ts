import { SignedLinkSigner, type SignedLink, type SignedLinkRejection } from './signed-link-signer.js';

/** Query parameters of a signed media link: `ref`, `exp` (epoch ms) and `sig` (HMAC-SHA256, base64url). */
export type SignedMediaLink = SignedLink;

export type MediaLinkRejection = SignedLinkRejection;

/**
 * Signs and checks the expiring links one bridge service gives another to stream a media file over HTTP
 * (media never travels through the broker). The gateway and the connector share `MEDIA_LINK_SECRET`;
 * the purpose string keeps a link minted for one direction from being replayed in the other.
 */
export class MediaLinkSigner extends SignedLinkSigner {
  constructor(secret: string, purpose: 'provider-media' | 'hubspot-file', now: () => number = Date.now) {
    if (secret.length < 32) {
      throw new Error('MEDIA_LINK_SECRET must be at least 32 characters');
    }
    super(secret, purpose, now);
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
}
