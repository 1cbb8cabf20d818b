import { TransientError } from '@inbox-bridge/messaging';
import { APP_CONFIG, MediaLinkSigner } from '@inbox-bridge/service-kit';
import type { ReceivedMedia } from '@inbox-bridge/shared';
import { Inject, Injectable } from '@nestjs/common';
import { Readable } from 'node:stream';
import type { GatewayConfig } from '../../config/gateway.config.js';
import { effectiveMimeType } from './inbound-media-policy.js';

const LINK_TTL_MS = 5 * 60_000;
const DOWNLOAD_TIMEOUT_MS = 120_000;

export type MediaDownload =
  | {
      readonly ok: true;
      readonly content: Readable;
      readonly mimeType: string;
      readonly sizeBytes?: number;
    }
  | { readonly ok: false; readonly reason: string };

/**
 * Streams a customer's media from the connector's `/internal/media` with a link this gateway signs itself
 * (purpose `provider-media`, 5-minute expiry; cross-service agreement). A gone or oversized file is
 * reported as unavailable (the agent sees a placeholder); a refused link or an unreachable connector is a
 * transient error, so the message is retried and nothing is lost.
 */
@Injectable()
export class ProviderMediaSource {
  private readonly signer: MediaLinkSigner;

  constructor(@Inject(APP_CONFIG) private readonly config: GatewayConfig) {
    this.signer = new MediaLinkSigner(config.MEDIA_LINK_SECRET, 'provider-media');
  }

  async open(media: ReceivedMedia): Promise<MediaDownload> {
    const base = `${this.config.CONNECTOR_INTERNAL_URL.replace(/\/+$/, '')}/internal/media`;
    let response: Response;
    try {
      response = await fetch(this.signer.url(base, media.downloadRef, LINK_TTL_MS), {
        signal: AbortSignal.timeout(DOWNLOAD_TIMEOUT_MS),
      });
    } catch (error) {
      throw new TransientError(
        `connector media unreachable: ${(error as Error).message}`,
        'MEDIA_UNREACHABLE',
      );
    }
    if (response.status === 404 || response.status === 410) {
      await response.body?.cancel();
      return { ok: false, reason: 'the file is no longer available from the provider' };
    }
    if (response.status === 413) {
      await response.body?.cancel();
      return { ok: false, reason: 'the file is larger than the provider lets the bridge download' };
    }
    if (!response.ok || response.body === null) {
      await response.body?.cancel();
      throw new TransientError(
        `connector media answered ${response.status}${response.status === 403 ? ' (MEDIA_LINK_SECRET differs between gateway and connector?)' : ''}`,
        'MEDIA_UNAVAILABLE',
      );
    }
    const length = Number(response.headers.get('content-length') ?? Number.NaN);
    return {
      ok: true,
      content: Readable.fromWeb(response.body as import('node:stream/web').ReadableStream<Uint8Array>),
      mimeType: effectiveMimeType(response.headers.get('content-type'), media.mimeType),
      ...(Number.isSafeInteger(length) && length >= 0 ? { sizeBytes: length } : {}),
    };
  }
}
