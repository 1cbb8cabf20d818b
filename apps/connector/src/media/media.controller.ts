import { APP_CONFIG, DomainError, MediaLinkSigner } from '@inbox-bridge/service-kit';
import { Controller, Get, Inject, Query, Res } from '@nestjs/common';
import type { Response } from 'express';
import { pipeline } from 'node:stream/promises';
import type { ConnectorConfig } from '../config/connector.config.js';
import { HttpTransportError, type OutboundHttp } from '../http/outbound-http.js';
import type { MediaStream } from '../providers/provider-port.js';
import { INTERNAL_HTTP } from '../providers/providers.tokens.js';
import { HUBSPOT_FILE_SIGNER, PROVIDER_MEDIA_SIGNER, PUBLIC_MEDIA_SIGNER } from './media-links.js';
import { MediaService, MediaUpstreamError } from './media.service.js';

export class MediaLinkRejectedError extends DomainError<'MEDIA_LINK_REJECTED'> {
  constructor(reason: string) {
    super('MEDIA_LINK_REJECTED', `The media link is not valid (${reason.toLowerCase()}).`, {
      httpStatus: 403,
    });
  }
}

interface LinkQuery {
  ref?: unknown;
  exp?: unknown;
  sig?: unknown;
}

async function stream(response: Response, media: MediaStream): Promise<void> {
  response.status(200);
  response.setHeader('content-type', media.contentType);
  response.setHeader('cache-control', 'private, no-store');
  if (media.contentLength !== undefined) {
    response.setHeader('content-length', String(media.contentLength));
  }
  try {
    await pipeline(media.body, response);
  } catch {
    // Headers are gone: cutting the connection is the only way to tell the reader the body is incomplete.
    response.destroy();
  }
}

/**
 * Media over HTTP (never through the broker): `/internal/media` streams a customer's file from the provider
 * to the gateway; `/public/media` streams a rep's HubSpot file (through the gateway) to providers that fetch
 * media by URL (Twilio MMS). Both only with an unexpired signed link.
 */
@Controller()
export class MediaController {
  constructor(
    private readonly media: MediaService,
    @Inject(PROVIDER_MEDIA_SIGNER) private readonly providerMedia: MediaLinkSigner,
    @Inject(HUBSPOT_FILE_SIGNER) private readonly hubspotFiles: MediaLinkSigner,
    @Inject(PUBLIC_MEDIA_SIGNER) private readonly publicMedia: MediaLinkSigner,
    @Inject(INTERNAL_HTTP) private readonly internalHttp: OutboundHttp,
    @Inject(APP_CONFIG) private readonly config: ConnectorConfig,
  ) {}

  @Get('internal/media')
  async internalMedia(@Query() query: LinkQuery, @Res() response: Response): Promise<void> {
    const verdict = this.providerMedia.verify(query);
    if (!verdict.ok) {
      throw new MediaLinkRejectedError(verdict.reason);
    }
    await stream(response, await this.media.open(verdict.ref));
  }

  @Get('public/media')
  async publicMediaFile(@Query() query: LinkQuery, @Res() response: Response): Promise<void> {
    const verdict = this.publicMedia.verify(query);
    if (!verdict.ok) {
      throw new MediaLinkRejectedError(verdict.reason);
    }
    const url = this.hubspotFiles.url(
      `${this.config.GATEWAY_INTERNAL_URL.replace(/\/+$/, '')}/internal/files`,
      verdict.ref,
      60_000,
    );
    let upstream;
    try {
      upstream = await this.internalHttp.request({ method: 'GET', url });
    } catch (error) {
      if (error instanceof HttpTransportError) {
        throw new MediaUpstreamError();
      }
      throw error;
    }
    if (upstream.status !== 200) {
      upstream.discard();
      throw upstream.status === 404 ? new MediaLinkRejectedError('file gone') : new MediaUpstreamError();
    }
    const length = Number(upstream.headers['content-length']);
    await stream(response, {
      body: upstream.body,
      contentType: upstream.headers['content-type'] ?? 'application/octet-stream',
      ...(Number.isFinite(length) && length >= 0 ? { contentLength: length } : {}),
    });
  }
}
