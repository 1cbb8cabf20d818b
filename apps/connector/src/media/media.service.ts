import { DomainError } from '@inbox-bridge/service-kit';
import type { Provider } from '@inbox-bridge/shared';
import { Injectable, Logger } from '@nestjs/common';
import { ChannelAccountRepository } from '../accounts/channel-account.repository.js';
import { ConnectorMetrics } from '../connector.metrics.js';
import { SsrfBlockedError } from '../http/ssrf-guard.js';
import { ProviderAdapters } from '../providers/provider-adapters.js';
import { MediaNotFoundError, MediaTooLargeError, type MediaStream } from '../providers/provider-port.js';
import { parseMediaRef } from './media-links.js';

export class MediaUnknownError extends DomainError<'MEDIA_NOT_FOUND'> {
  constructor() {
    super('MEDIA_NOT_FOUND', 'No media file is known under this reference.', { httpStatus: 404 });
  }
}

export class MediaOverLimitError extends DomainError<'MEDIA_TOO_LARGE'> {
  constructor(limitBytes: number) {
    super('MEDIA_TOO_LARGE', `The file is larger than the provider lets us download (${limitBytes} bytes).`, {
      httpStatus: 413,
    });
  }
}

export class MediaUpstreamError extends DomainError<'MEDIA_UPSTREAM_FAILED'> {
  constructor() {
    super('MEDIA_UPSTREAM_FAILED', 'The provider did not serve the file; try again later.', {
      httpStatus: 502,
    });
  }
}

/** 404 like any unavailable file: the gateway then shows a placeholder instead of retrying. */
export class MediaRefusedError extends DomainError<'MEDIA_URL_REFUSED'> {
  constructor() {
    super('MEDIA_URL_REFUSED', 'The media URL points at an address the bridge does not call.', {
      httpStatus: 404,
    });
  }
}

/** Resolves a `downloadRef` to the provider's bytes, through the account's adapter. */
@Injectable()
export class MediaService {
  private readonly logger = new Logger(MediaService.name);

  constructor(
    private readonly accounts: ChannelAccountRepository,
    private readonly adapters: ProviderAdapters,
    private readonly metrics: ConnectorMetrics,
  ) {}

  async open(ref: string): Promise<MediaStream> {
    const parsed = parseMediaRef(ref);
    const account = parsed === undefined ? undefined : await this.accounts.find(parsed.channelAccountId);
    if (parsed === undefined || account === undefined) {
      this.metrics.countMedia('unknown', 'not_found');
      throw new MediaUnknownError();
    }
    const provider: Provider = account.provider;
    try {
      const stream = await this.adapters.get(provider).resolveMedia(account, parsed.mediaKey);
      this.metrics.countMedia(provider, 'served');
      return stream;
    } catch (error) {
      if (error instanceof MediaTooLargeError) {
        this.metrics.countMedia(provider, 'too_large');
        throw new MediaOverLimitError(error.limitBytes);
      }
      if (error instanceof MediaNotFoundError) {
        this.metrics.countMedia(provider, 'not_found');
        throw new MediaUnknownError();
      }
      if (error instanceof SsrfBlockedError) {
        this.metrics.countMedia(provider, 'forbidden');
        this.logger.warn(
          { channelAccountId: account.channelAccountId, err: error.message },
          'media URL refused by the SSRF guard',
        );
        throw new MediaRefusedError();
      }
      this.metrics.countMedia(provider, 'upstream_error');
      this.logger.warn(
        {
          channelAccountId: account.channelAccountId,
          err: error instanceof Error ? error.message : String(error),
        },
        'provider media not served',
      );
      throw new MediaUpstreamError();
    }
  }
}
