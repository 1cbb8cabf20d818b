import { APP_CONFIG, DATA_SOURCE } from '@inbox-bridge/service-kit';
import { Inject, Injectable, Logger } from '@nestjs/common';
import type { DataSource } from 'typeorm';
import type { ConnectorConfig } from '../config/connector.config.js';
import { ConnectorMetrics, type StatusCheckResult } from '../connector.metrics.js';
import type { ConnectedAccount, FetchedStatus, ProviderAdapter } from '../providers/provider-port.js';
import { DeliveryStatusService } from './delivery-status.service.js';
import { MessageLedger } from './message-ledger.js';

/** Replies of one account whose status one round reads at most. */
const CHECKS_PER_ROUND = 100;
/** Reads of one reply's status at most: after DELIVERY_STATUS_CHECK_AFTER_MS, then ×6 and ×36 that later. */
const MAX_CHECKS = 3;
const BACKOFF_FACTOR = 6;

/**
 * Reads from the provider the status of sent replies whose final status has not arrived by callback (Twilio does
 * not redeliver a callback the connector refused or did not answer), and applies it as a callback would: a reply
 * that was never delivered becomes FAILED with the provider's reason instead of staying "sent".
 */
@Injectable()
export class DeliveryStatusReconciler {
  private readonly logger = new Logger(DeliveryStatusReconciler.name);

  constructor(
    @Inject(APP_CONFIG) private readonly config: ConnectorConfig,
    @Inject(DATA_SOURCE) private readonly dataSource: DataSource,
    private readonly ledger: MessageLedger,
    private readonly statuses: DeliveryStatusService,
    private readonly metrics: ConnectorMetrics,
  ) {}

  /**
   * Reads the account's due replies, one after the other (the caller holds the account's claim). Throws on the
   * first read the provider does not answer; the replies not read yet stay due.
   */
  async reconcile(
    account: ConnectedAccount,
    adapter: ProviderAdapter,
    stopped: () => boolean,
  ): Promise<void> {
    if (adapter.fetchStatus === undefined) {
      return;
    }
    const due = await this.ledger.dueStatusChecks(
      this.dataSource.manager,
      account.channelAccountId,
      CHECKS_PER_ROUND,
    );
    for (const { providerMessageId, checksDone } of due) {
      if (stopped()) {
        return;
      }
      // A reply sent as several messages is read whole: a later one may be the one that was not delivered.
      const ids = [
        providerMessageId,
        ...(await this.ledger.partsOf(this.dataSource.manager, account.channelAccountId, providerMessageId)),
      ];
      const fetched: FetchedStatus[] = [];
      try {
        for (const id of ids) {
          fetched.push(await adapter.fetchStatus(account, id));
        }
      } catch (error) {
        this.metrics.countStatusCheck(account.provider, 'check_failed');
        throw error;
      }
      const reported = fetched.flatMap(({ report }) => (report === undefined ? [] : [report]));
      // The reply is settled when each of its messages is, or when one failed (nothing moves it back).
      const final =
        fetched.every((status) => status.final) || reported.some((report) => report.status === 'FAILED');
      const last = checksDone + 1 >= MAX_CHECKS;
      const changed = await this.dataSource.transaction(async (manager) => {
        let published = false;
        for (const report of reported) {
          published = (await this.statuses.apply(manager, account, { ...report, final })) || published;
        }
        if (!final || fetched[0]?.report === undefined) {
          await this.ledger.recordStatusCheck(
            manager,
            account.channelAccountId,
            providerMessageId,
            final || last
              ? undefined
              : this.config.DELIVERY_STATUS_CHECK_AFTER_MS * BACKOFF_FACTOR ** (checksDone + 1),
          );
        }
        return published;
      });
      const result: StatusCheckResult = changed
        ? 'changed'
        : final
          ? 'confirmed'
          : last
            ? 'gave_up'
            : 'pending';
      this.metrics.countStatusCheck(account.provider, result);
      if (changed) {
        this.logger.warn(
          {
            channelAccountId: account.channelAccountId,
            providerMessageId,
            statuses: reported.map((r) => r.status),
          },
          'applied a reply status the provider holds and its callbacks had not delivered',
        );
      }
    }
  }
}
