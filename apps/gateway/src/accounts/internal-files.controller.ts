import { APP_CONFIG, DomainError, MediaLinkSigner } from '@inbox-bridge/service-kit';
import { Controller, Get, Inject, Logger, Query, Res } from '@nestjs/common';
import type { Response } from 'express';
import { pipeline } from 'node:stream/promises';
import type { GatewayConfig } from '../config/gateway.config.js';
import { HubSpotApiError } from '../hubspot/hubspot-api.js';
import { AccountsHubSpot } from './accounts-hubspot.js';
import { fileHostPolicyOf, type FileHostPolicy } from './file-host-guard.js';
import { FileHostRefused, fetchHubSpotFile } from './hubspot-file-fetcher.js';
import { mimeTypeOf, parseHubSpotFileRef, type HubSpotFileRef } from './outbound-attachments.js';

export const INTERNAL_FILES_PATH = '/internal/files';

class FileLinkRefused extends DomainError<'FILE_LINK_INVALID'> {
  constructor(reason: string) {
    super('FILE_LINK_INVALID', `The file link is missing, expired or not signed by the bridge (${reason}).`, {
      httpStatus: 403,
    });
  }
}

class FileNotFound extends DomainError<'FILE_NOT_FOUND'> {
  constructor() {
    super('FILE_NOT_FOUND', 'No such HubSpot file.', { httpStatus: 404 });
  }
}

class FileUnavailable extends DomainError<'FILE_UNAVAILABLE'> {
  constructor() {
    super('FILE_UNAVAILABLE', 'HubSpot did not serve the file right now; try again later.', {
      httpStatus: 503,
    });
  }
}

/**
 * `GET /internal/files?ref=&exp=&sig=`: streams a rep's HubSpot file to the connector. The link is minted by
 * the connector with the shared `MEDIA_LINK_SECRET` (purpose `hubspot-file`); the bytes come from HubSpot's
 * signed URL, fetched only from HubSpot's hosts.
 */
@Controller()
export class InternalFilesController {
  private readonly logger = new Logger('InternalFiles');
  private readonly signer: MediaLinkSigner;
  private readonly policy: FileHostPolicy;

  constructor(
    @Inject(APP_CONFIG) config: GatewayConfig,
    private readonly hubspot: AccountsHubSpot,
  ) {
    this.signer = new MediaLinkSigner(config.MEDIA_LINK_SECRET, 'hubspot-file');
    this.policy = fileHostPolicyOf(config);
  }

  @Get(INTERNAL_FILES_PATH)
  async download(@Query() query: Record<string, unknown>, @Res() response: Response): Promise<void> {
    const link = this.signer.verify(query);
    if (!link.ok) {
      throw new FileLinkRefused(link.reason);
    }
    const ref = parseHubSpotFileRef(link.ref);
    if (ref === undefined) {
      throw new FileNotFound();
    }
    const signed = 'url' in ref ? { url: ref.url } : await this.signedUrlOf(ref.portalId, ref.fileId);
    let upstream;
    try {
      upstream = await fetchHubSpotFile(signed.url, this.policy);
    } catch (error) {
      if (error instanceof FileHostRefused) {
        this.logger.warn({ ...loggable(ref), reason: error.reason }, 'file URL refused');
        // A URL the webhook gave that the allowed hosts no longer include will not be fetched later either.
        if ('url' in ref) {
          throw new FileNotFound();
        }
      }
      throw new FileUnavailable();
    }
    const status = upstream.statusCode ?? 0;
    if (status !== 200) {
      upstream.resume();
      throw status === 404 ? new FileNotFound() : new FileUnavailable();
    }
    const contentType =
      upstream.headers['content-type'] ?? mimeTypeOf('mimeHint' in signed ? signed.mimeHint : undefined);
    const contentLength = upstream.headers['content-length'];
    response.status(200).type(contentType).setHeader('Cache-Control', 'no-store');
    if (contentLength !== undefined && /^\d+$/.test(contentLength)) {
      response.setHeader('Content-Length', contentLength);
    }
    try {
      await pipeline(upstream, response);
    } catch (error) {
      // The headers are sent: a broken stream can only be logged; the connector sees a short body and retries.
      this.logger.warn(
        { ...loggable(ref), err: error instanceof Error ? error.message : String(error) },
        'HubSpot file stream interrupted',
      );
    }
  }

  private async signedUrlOf(portalId: string, fileId: string): Promise<{ url: string; mimeHint?: string }> {
    try {
      return await this.hubspot.signedFileUrl(portalId, fileId);
    } catch (error) {
      if (error instanceof HubSpotApiError && !error.details.retryable) {
        throw new FileNotFound();
      }
      throw new FileUnavailable();
    }
  }
}

/** A URL HubSpot gave may carry a signature: only its host is logged. */
function loggable(ref: HubSpotFileRef): Record<string, string> {
  return 'url' in ref ? { portalId: ref.portalId, host: new URL(ref.url).host } : ref;
}
