import { describe, expect, it } from '@jest/globals';
import { MediaLinkSigner } from './media-link-signer.js';

const secret = 'x'.repeat(40);

describe('MediaLinkSigner', () => {
  it('accepts its own link until it expires', () => {
    let now = 1_000;
    const signer = new MediaLinkSigner(secret, 'provider-media', () => now);
    const link = signer.sign('media:telegram:abc', 500);
    const query = { ref: link.ref, exp: String(link.exp), sig: link.sig };
    expect(signer.verify(query)).toEqual({ ok: true, ref: 'media:telegram:abc' });
    now = 1_501;
    expect(signer.verify(query)).toEqual({ ok: false, reason: 'EXPIRED' });
  });

  it('refuses a tampered reference, expiry or another purpose', () => {
    const signer = new MediaLinkSigner(secret, 'provider-media');
    const link = signer.sign('media:telegram:abc', 60_000);
    expect(signer.verify({ ref: 'media:telegram:abd', exp: String(link.exp), sig: link.sig })).toEqual({
      ok: false,
      reason: 'BAD_SIGNATURE',
    });
    expect(signer.verify({ ref: link.ref, exp: String(link.exp + 1), sig: link.sig })).toEqual({
      ok: false,
      reason: 'BAD_SIGNATURE',
    });
    const other = new MediaLinkSigner(secret, 'hubspot-file');
    expect(other.verify({ ref: link.ref, exp: String(link.exp), sig: link.sig })).toEqual({
      ok: false,
      reason: 'BAD_SIGNATURE',
    });
    expect(signer.verify({ ref: link.ref })).toEqual({ ok: false, reason: 'MISSING' });
  });

  it('builds a URL whose query verifies', () => {
    const signer = new MediaLinkSigner(secret, 'hubspot-file');
    const url = new URL(signer.url('http://gateway:3000/internal/files', 'file:1:2', 60_000));
    expect(url.pathname).toBe('/internal/files');
    expect(signer.verify(Object.fromEntries(url.searchParams))).toEqual({ ok: true, ref: 'file:1:2' });
  });

  it('refuses a short secret', () => {
    expect(() => new MediaLinkSigner('short', 'hubspot-file')).toThrow(/at least 32/);
  });
});
