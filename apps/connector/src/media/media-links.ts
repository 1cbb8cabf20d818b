import { MediaLinkSigner } from '@inbox-bridge/service-kit';
import { createHmac } from 'node:crypto';

/** Nest injection tokens of the three signers. */
export const PROVIDER_MEDIA_SIGNER = Symbol('PROVIDER_MEDIA_SIGNER');
export const HUBSPOT_FILE_SIGNER = Symbol('HUBSPOT_FILE_SIGNER');
export const PUBLIC_MEDIA_SIGNER = Symbol('PUBLIC_MEDIA_SIGNER');

/** Checks the gateway's links to `/internal/media` (customer media → HubSpot). */
export const providerMediaSigner = (secret: string) => new MediaLinkSigner(secret, 'provider-media');

/** Mints links to the gateway's `/internal/files` (a rep's HubSpot file → provider). */
export const hubspotFileSigner = (secret: string) => new MediaLinkSigner(secret, 'hubspot-file');

/**
 * Signs the connector's public `/public/media` links handed to Twilio for MMS. Its key is derived from
 * MEDIA_LINK_SECRET, so a public link (seen by Twilio and carriers) can never be replayed against the
 * gateway's internal endpoint, and no extra secret needs deploying.
 */
export const publicMediaSigner = (secret: string) =>
  new MediaLinkSigner(
    createHmac('sha256', secret).update('connector-public-media').digest('base64url'),
    'hubspot-file',
  );

const MEDIA_REF = /^media:([^:\s]+):(\S+)$/;

/** `media:<channelAccountId>:<provider-specific key>` → its parts; undefined when malformed. */
export function parseMediaRef(ref: string): { channelAccountId: string; mediaKey: string } | undefined {
  const match = MEDIA_REF.exec(ref);
  if (match?.[1] === undefined || match[2] === undefined) {
    return undefined;
  }
  return { channelAccountId: match[1], mediaKey: match[2] };
}
