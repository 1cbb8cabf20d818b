import { ContractViolationError, Messaging } from '@inbox-bridge/messaging';
import { DATA_SOURCE, DomainError, RequestValidationError } from '@inbox-bridge/service-kit';
import { RoutingKeys, type Provider } from '@inbox-bridge/shared';
import { Inject, Injectable, Logger } from '@nestjs/common';
import type { DataSource } from 'typeorm';
import { ChannelAccountRepository } from '../accounts/channel-account.repository.js';
import { DeliveryStatusService } from '../accounts/delivery-status.service.js';
import { MessageLedger } from '../accounts/message-ledger.js';
import { ConnectorMetrics } from '../connector.metrics.js';
import { ProviderAdapters } from '../providers/provider-adapters.js';
import { InboundUnauthorizedError, type InboundRequest } from '../providers/provider-port.js';

export class UnknownChannelAccountError extends DomainError<'CHANNEL_ACCOUNT_UNKNOWN'> {
  constructor() {
    super('CHANNEL_ACCOUNT_UNKNOWN', 'No connected channel account of this provider has this id.', {
      httpStatus: 404,
    });
  }
}

export class InvalidWebhookSignatureError extends DomainError<'WEBHOOK_SIGNATURE_INVALID'> {
  constructor() {
    super(
      'WEBHOOK_SIGNATURE_INVALID',
      'The webhook signature or secret token is missing, stale or invalid.',
      {
        httpStatus: 401,
      },
    );
  }
}

export interface InboundSummary {
  readonly accepted: number;
  readonly duplicates: number;
  readonly ignored: number;
  /** True when the account is switched off: the request was answered and dropped. */
  readonly dropped: boolean;
}

/**
 * Every provider webhook: find the account, verify the request through its adapter, drop it when the account
 * is switched off, then store the dedupe key and publish through the outbox in one transaction, so the
 * provider gets its 2xx only after COMMIT and a redelivery publishes nothing again.
 */
@Injectable()
export class InboundService {
  private readonly logger = new Logger(InboundService.name);

  constructor(
    @Inject(DATA_SOURCE) private readonly dataSource: DataSource,
    private readonly messaging: Messaging,
    private readonly accounts: ChannelAccountRepository,
    private readonly ledger: MessageLedger,
    private readonly adapters: ProviderAdapters,
    private readonly statuses: DeliveryStatusService,
    private readonly metrics: ConnectorMetrics,
  ) {}

  async receive(
    provider: Provider,
    channelAccountId: string,
    request: InboundRequest,
    path: 'message' | 'status' = 'message',
  ): Promise<InboundSummary> {
    const account = await this.accounts.find(channelAccountId);
    if (account?.provider !== provider) {
      this.metrics.countInbound(provider, 'unknown_account');
      throw new UnknownChannelAccountError();
    }
    let events;
    try {
      events = this.adapters.get(provider).parseInbound(account, request, path);
    } catch (error) {
      if (error instanceof InboundUnauthorizedError) {
        this.metrics.countInbound(provider, 'unauthorized');
        throw new InvalidWebhookSignatureError();
      }
      if (error instanceof RequestValidationError) {
        this.metrics.countInbound(provider, 'invalid');
      }
      throw error;
    }
    if (!account.active || !account.authorized) {
      // Decision (docs/providers/*.md): answered 2xx so the provider does not retry for a day, then dropped.
      this.metrics.countInbound(provider, 'account_disabled');
      this.logger.warn(
        { channelAccountId, provider, events: events.length },
        'inbound dropped: account is switched off',
      );
      return { accepted: 0, duplicates: 0, ignored: 0, dropped: true };
    }
    let accepted = 0;
    let duplicates = 0;
    let ignored = 0;
    await this.dataSource.transaction(async (manager) => {
      for (const event of events) {
        if (event.kind === 'ignored') {
          ignored += 1;
          this.metrics.countInbound(provider, 'ignored');
          this.logger.log({ channelAccountId, provider, reason: event.reason }, 'inbound update ignored');
          continue;
        }
        if (event.kind === 'status') {
          await this.statuses.apply(manager, account, event.report);
          this.metrics.countInbound(provider, 'status');
          continue;
        }
        const { dedupeKey, message } = event.normalised;
        if (!(await this.ledger.recordInbound(manager, channelAccountId, dedupeKey))) {
          duplicates += 1;
          this.metrics.countInbound(provider, 'duplicate');
          continue;
        }
        try {
          await this.messaging.outbox.publish(manager, RoutingKeys.ProviderMessageReceivedV1, message, {
            portalId: account.portalId,
          });
        } catch (error) {
          if (!(error instanceof ContractViolationError)) {
            throw error;
          }
          this.metrics.countInbound(provider, 'invalid');
          // Telegram would redeliver a refused update for a day: it is answered 200 and logged instead.
          if (provider === 'telegram') {
            this.logger.warn(
              { channelAccountId, issues: error.issues },
              'Telegram update does not fit the contract',
            );
            continue;
          }
          throw new RequestValidationError(
            error.issues.map((issue) => ({ field: issue.split(':')[0] ?? '(body)', message: issue })),
          );
        }
        accepted += 1;
        this.metrics.countInbound(provider, 'accepted');
      }
    });
    return { accepted, duplicates, ignored, dropped: false };
  }
}
