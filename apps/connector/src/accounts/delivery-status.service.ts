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
 * forward. A report about a message id whose send has not committed yet is parked and applied by the send. A report
 * about a later message of a reply (`reply_message_parts`) is the reply's: the later message failing fails the
 * reply, its being read marks the reply read; its being delivered says nothing new, and its being final does not
 * settle the first message's status.
 */
@Injectable()
export class DeliveryStatusService {
  constructor(
    private readonly ledger: MessageLedger,
    private readonly messaging: Messaging,
  ) {}

  /** Returns whether a status change was published. */
  async apply(manager: EntityManager, account: AccountRef, report: ProviderStatusReport): Promise<boolean> {
    // Locks in the send's order (later parts, then the first message), so the two never wait for each other.
    await this.ledger.lockProviderMessage(manager, account.channelAccountId, report.providerMessageId);
    const reply = await this.ledger.replyOfPart(manager, account.channelAccountId, report.providerMessageId);
    if (reply === undefined) {
      return this.applyLocked(manager, account, report, true);
    }
    await this.ledger.lockProviderMessage(manager, account.channelAccountId, reply);
    return this.applyLocked(manager, account, asReplyReport(report, reply), false);
  }

  /**
   * After a send recorded `reply` and its later parts (each under `lockProviderMessage`): applies what was parked for
   * any of them.
   */
  async applyParked(
    manager: EntityManager,
    account: AccountRef,
    reply: string,
    laterPartIds: readonly string[] = [],
  ): Promise<void> {
    for (const report of await this.ledger.takeParked(manager, account.channelAccountId, reply)) {
      await this.applyLocked(manager, account, report, false);
    }
    for (const part of laterPartIds) {
      for (const report of await this.ledger.takeParked(manager, account.channelAccountId, part)) {
        await this.applyLocked(manager, account, asReplyReport(report, reply), false);
      }
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

/** A later part's report, as the reply's. */
function asReplyReport(report: ProviderStatusReport, reply: string): ProviderStatusReport {
  return { ...report, providerMessageId: reply, final: false };
}
