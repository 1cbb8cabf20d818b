import { Messaging } from '@inbox-bridge/messaging';
import { RoutingKeys } from '@inbox-bridge/shared';
import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import type { ProviderStatusReport } from '../providers/provider-port.js';
import { MessageLedger } from './message-ledger.js';

interface AccountRef {
  readonly channelAccountId: string;
  readonly portalId: number;
}

/**
 * Provider status reports → `connector.delivery.status-changed.v1`, only when the HubSpot-visible status moves
 * forward. A report about a message id whose send has not committed yet is parked and applied by the send.
 */
@Injectable()
export class DeliveryStatusService {
  constructor(
    private readonly ledger: MessageLedger,
    private readonly messaging: Messaging,
  ) {}

  /** Returns whether a status change was published. */
  async apply(manager: EntityManager, account: AccountRef, report: ProviderStatusReport): Promise<boolean> {
    await this.ledger.lockProviderMessage(manager, account.channelAccountId, report.providerMessageId);
    return this.applyLocked(manager, account, report, true);
  }

  /** After a send recorded `providerMessageId` (under `lockProviderMessage`): applies what was parked for it. */
  async applyParked(manager: EntityManager, account: AccountRef, providerMessageId: string): Promise<void> {
    for (const report of await this.ledger.takeParked(manager, account.channelAccountId, providerMessageId)) {
      await this.applyLocked(manager, account, report, false);
    }
  }

  private async applyLocked(
    manager: EntityManager,
    account: AccountRef,
    report: ProviderStatusReport,
    parkUnknown: boolean,
  ): Promise<boolean> {
    const result = await this.ledger.advance(
      manager,
      account.channelAccountId,
      report.providerMessageId,
      report,
    );
    if (result.outcome === 'unknown' && parkUnknown) {
      await this.ledger.park(manager, account.channelAccountId, report);
    }
    if (result.outcome !== 'advanced') {
      return false;
    }
    await this.messaging.outbox.publish(
      manager,
      RoutingKeys.ConnectorDeliveryStatusChangedV1,
      {
        channelAccountId: account.channelAccountId,
        hubspotMessageId: result.hubspotMessageId,
        providerMessageId: report.providerMessageId,
        status: report.status,
        ...(report.failureReason === undefined ? {} : { failureReason: report.failureReason }),
        ...(report.providerErrorCode === undefined ? {} : { providerErrorCode: report.providerErrorCode }),
        occurredAt: report.occurredAt,
      },
      { portalId: account.portalId },
    );
    return true;
  }
}
