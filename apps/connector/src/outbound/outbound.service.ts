import { DeferredError, TransientError, type MessageContext } from '@inbox-bridge/messaging';
import { APP_CONFIG, MediaLinkSigner, PerTransaction } from '@inbox-bridge/service-kit';
import {
  RoutingKeys,
  type DeliveryStatus,
  type GatewayOutboundMessageRequestedV1,
  type MessageEnvelope,
} from '@inbox-bridge/shared';
import { Inject, Injectable, Logger } from '@nestjs/common';
import { ChannelAccountRepository } from '../accounts/channel-account.repository.js';
import { CredentialsRejection } from '../accounts/credentials-rejection.js';
import { DeliveryStatusService } from '../accounts/delivery-status.service.js';
import { ForeignAccountError } from '../accounts/foreign-account.error.js';
import { MessageLedger } from '../accounts/message-ledger.js';
import type { ConnectorConfig } from '../config/connector.config.js';
import { ConnectorMetrics } from '../connector.metrics.js';
import { MovedConversationRepository } from '../conversations/moved-conversation.repository.js';
import { BodyTooLargeError } from '../http/outbound-http.js';
import { HUBSPOT_FILE_SIGNER, PUBLIC_MEDIA_SIGNER } from '../media/media-links.js';
import { ProviderAdapters } from '../providers/provider-adapters.js';
import { SendFailure, type ConnectedAccount, type OutboundFile } from '../providers/provider-port.js';
import { SendProgressStore } from './send-progress.js';
import { MAX_IN_PROCESS_WAIT_MS } from './send-throttle.js';

/** Retry tiers of the outbound consumer group; after the last one a still-transient failure is reported FAILED. */
export const OUTBOUND_RETRY_DELAYS_MS: readonly number[] = [2_000, 10_000, 30_000, 120_000, 600_000];

/**
 * A provider's "retry after" up to this long is waited out in the delay tiers without using up an attempt
 * (Telegram's `retry_after`, §1.11); a longer one is retried like any transient failure.
 */
export const MAX_PROVIDER_DEFERRAL_MS = 60 * 60_000;

/** Gateway file links only need to outlive one upload. */
const INTERNAL_FILE_LINK_TTL_MS = 5 * 60_000;

const EXTENSIONS: Readonly<Record<string, string>> = {
  'image/jpeg': 'jpg',
  'image/png': 'png',
  'image/gif': 'gif',
  'image/webp': 'webp',
  'audio/ogg': 'ogg',
  'audio/mpeg': 'mp3',
  'video/mp4': 'mp4',
  'application/pdf': 'pdf',
};

function defaultFileName(kind: string, mimeType: string): string {
  const base = mimeType.split(';')[0]?.trim().toLowerCase() ?? '';
  return `${kind}.${EXTENSIONS[base] ?? 'bin'}`;
}

/**
 * Sends a rep's reply through the account's provider and reports the result: SENT with the provider's id,
 * or FAILED with a reason the agent understands. Transient failures go back to the consumer group's retry
 * tiers (the provider is down, slow or rate-limiting) until the last attempt, which reports FAILED.
 */
@Injectable()
export class OutboundService {
  private readonly logger = new Logger(OutboundService.name);
  private readonly gatewayFilesUrl: string;
  private readonly publicMediaUrl: string;

  private readonly accountsByTransaction = new PerTransaction<ConnectedAccount | undefined>();

  constructor(
    private readonly accounts: ChannelAccountRepository,
    private readonly ledger: MessageLedger,
    private readonly adapters: ProviderAdapters,
    private readonly statuses: DeliveryStatusService,
    private readonly credentialsRejection: CredentialsRejection,
    private readonly progress: SendProgressStore,
    private readonly movedConversations: MovedConversationRepository,
    private readonly metrics: ConnectorMetrics,
    @Inject(HUBSPOT_FILE_SIGNER) private readonly hubspotFiles: MediaLinkSigner,
    @Inject(PUBLIC_MEDIA_SIGNER) private readonly publicMedia: MediaLinkSigner,
    @Inject(APP_CONFIG) private readonly config: ConnectorConfig,
  ) {
    this.gatewayFilesUrl = `${config.GATEWAY_INTERNAL_URL.replace(/\/+$/, '')}/internal/files`;
    this.publicMediaUrl = `${config.CONNECTOR_PUBLIC_BASE_URL.replace(/\/+$/, '')}/public/media`;
  }

  async send(
    envelope: MessageEnvelope<'gateway.outbound-message.requested.v1'>,
    context: MessageContext,
  ): Promise<void> {
    const request = envelope.payload;
    // The replies of one batch (one transaction) share the account's read.
    const account = await this.accountsByTransaction.get(context.manager, request.channelAccountId, () =>
      this.accounts.find(request.channelAccountId, context.manager),
    );
    if (account === undefined) {
      this.metrics.countOutbound('unknown', 'failed');
      await this.report(context, request, 'FAILED', {
        failureReason: 'This channel account is not connected to the bridge; reconnect it in HubSpot.',
        providerErrorCode: 'ACCOUNT_UNKNOWN',
      });
      return;
    }
    if (account.portalId !== envelope.portalId) {
      throw new ForeignAccountError(account.channelAccountId, envelope.portalId);
    }
    const provider = account.provider;
    if (!account.active) {
      this.metrics.countOutbound(provider, 'account_disabled');
      await this.report(context, request, 'FAILED', {
        failureReason: 'The channel account is turned off, so the reply was not sent.',
        providerErrorCode: 'ACCOUNT_TURNED_OFF',
      });
      return;
    }
    if (!account.authorized) {
      this.metrics.countOutbound(provider, 'account_disabled');
      await this.report(context, request, 'FAILED', {
        failureReason: `The channel account is not authorized (${provider} refused its credentials, or it was deauthorized in HubSpot), so the reply was not sent; reconnect the account.`,
        providerErrorCode: 'ACCOUNT_DEAUTHORIZED',
      });
      return;
    }
    if (
      (await this.ledger.outboundStatus(
        context.manager,
        account.channelAccountId,
        request.hubspotMessageId,
      )) !== undefined
    ) {
      this.metrics.countOutbound(provider, 'duplicate');
      return;
    }
    // Back from a deferral (a provider's retry-after) before its time: wait the rest, or defer again.
    const promised = context.deferredUntil ?? 0;
    if (promised - Date.now() > MAX_IN_PROCESS_WAIT_MS) {
      throw new DeferredError('back before the provider’s retry time', promised, 'PROVIDER_RATE_LIMITED');
    }
    if (promised > Date.now()) {
      await new Promise<void>((resolve) => setTimeout(resolve, promised - Date.now()));
    }
    const adapter = this.adapters.get(provider);
    const progress = await this.progress.load(account.channelAccountId, request.hubspotMessageId);
    const address = {
      current:
        adapter.mayHaveMoved?.(request.conversationKey) === true
          ? await this.movedConversations.addressOf(
              context.manager,
              account.channelAccountId,
              request.conversationKey,
            )
          : request.conversationKey,
      // In the reply's transaction: when that rolls back, the provider's next refusal tells it again.
      moved: (to: string) =>
        this.movedConversations.record(
          context.manager,
          account.channelAccountId,
          request.conversationKey,
          to,
        ),
    };
    try {
      if (request.attachments.length > adapter.capabilities.maxOutboundAttachments) {
        throw new SendFailure(
          'permanent',
          `The reply has ${request.attachments.length} files; at most ${adapter.capabilities.maxOutboundAttachments} can be sent.`,
          'TOO_MANY_FILES',
        );
      }
      const { providerMessageId, laterPartIds = [] } = await adapter.send(account, {
        request,
        address,
        files: this.filesOf(request),
        progress,
      });
      this.metrics.countOutbound(provider, 'sent');
      // In the order a status report about one of them takes its locks (DeliveryStatusService.apply).
      for (const id of [...laterPartIds, providerMessageId]) {
        await this.ledger.lockProviderMessage(context.manager, account.channelAccountId, id);
      }
      await this.ledger.recordParts(
        context.manager,
        account.channelAccountId,
        providerMessageId,
        laterPartIds,
      );
      await this.report(
        context,
        request,
        'SENT',
        { providerMessageId },
        adapter.fetchStatus === undefined ? undefined : this.config.DELIVERY_STATUS_CHECK_AFTER_MS,
      );
      await this.statuses.applyParked(context.manager, account, providerMessageId, laterPartIds);
    } catch (caught) {
      // A file whose size was not announced can still turn out too large while it streams.
      const error =
        caught instanceof BodyTooLargeError
          ? new SendFailure('permanent', `A file is larger than ${provider} accepts.`, 'FILE_TOO_LARGE')
          : caught;
      if (!(error instanceof SendFailure)) {
        throw error;
      }
      // The reply's deferrals are counted next to its sent parts (same lifetime, never a part name).
      const deferrals = Number(progress.sent('deferrals') ?? '0');
      if (
        error.kind === 'transient' &&
        error.retryAfterMs !== undefined &&
        error.retryAfterMs <= MAX_PROVIDER_DEFERRAL_MS &&
        deferrals < this.config.PROVIDER_MAX_DEFERRALS
      ) {
        progress.record('deferrals', String(deferrals + 1));
        this.metrics.countOutbound(provider, 'deferred');
        this.logger.warn(
          {
            channelAccountId: account.channelAccountId,
            hubspotMessageId: request.hubspotMessageId,
            retryAfterMs: error.retryAfterMs,
          },
          'the provider asked us to wait; deferring the reply',
        );
        throw new DeferredError(error.reason, Date.now() + error.retryAfterMs, 'PROVIDER_RATE_LIMITED');
      }
      const lastAttempt = context.attempt > OUTBOUND_RETRY_DELAYS_MS.length;
      if (error.kind === 'transient' && !lastAttempt) {
        this.metrics.countOutbound(provider, 'retried');
        this.logger.warn(
          {
            channelAccountId: account.channelAccountId,
            hubspotMessageId: request.hubspotMessageId,
            attempt: context.attempt,
            reason: error.reason,
          },
          'send failed for now; retrying later',
        );
        throw new TransientError(error.reason, 'PROVIDER_TRANSIENT');
      }
      this.metrics.countOutbound(provider, 'failed');
      if (error.credentialsRejected) {
        await this.credentialsRejection.record(context, account, error);
      }
      const reason =
        error.kind === 'transient'
          ? `The reply could not be sent after several attempts. ${error.reason}`
          : error.reason;
      await this.report(context, request, 'FAILED', {
        failureReason: reason.slice(0, 1024),
        ...(error.providerErrorCode === undefined
          ? {}
          : { providerErrorCode: error.providerErrorCode.slice(0, 64) }),
      });
    }
  }

  private filesOf(request: GatewayOutboundMessageRequestedV1): OutboundFile[] {
    return request.attachments.map((attachment) => ({
      kind: attachment.kind,
      mimeType: attachment.mimeType,
      fileName: attachment.fileName ?? defaultFileName(attachment.kind, attachment.mimeType),
      sizeBytes: attachment.sizeBytes,
      internalUrl: this.hubspotFiles.url(
        this.gatewayFilesUrl,
        attachment.downloadRef,
        INTERNAL_FILE_LINK_TTL_MS,
      ),
      publicUrl: this.publicMedia.url(
        this.publicMediaUrl,
        attachment.downloadRef,
        this.config.PUBLIC_MEDIA_LINK_TTL_MS,
      ),
    }));
  }

  private async report(
    context: MessageContext,
    request: GatewayOutboundMessageRequestedV1,
    status: DeliveryStatus,
    details: { providerMessageId?: string; failureReason?: string; providerErrorCode?: string },
    statusCheckAfterMs?: number,
  ): Promise<void> {
    await this.ledger.recordOutbound(context.manager, {
      channelAccountId: request.channelAccountId,
      hubspotMessageId: request.hubspotMessageId,
      providerMessageId: details.providerMessageId,
      status,
      ...(statusCheckAfterMs === undefined ? {} : { statusCheckAfterMs }),
    });
    this.progress.completed(context, request.channelAccountId, request.hubspotMessageId);
    await context.publish(RoutingKeys.ConnectorDeliveryStatusChangedV1, {
      channelAccountId: request.channelAccountId,
      hubspotMessageId: request.hubspotMessageId,
      status,
      ...details,
      occurredAt: new Date().toISOString(),
    });
  }
}
