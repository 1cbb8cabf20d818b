import { APP_CONFIG } from '@inbox-bridge/service-kit';
import {
  Inject,
  Injectable,
  Logger,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
} from '@nestjs/common';
import { ChannelAccountRepository, type InboundCheckClaim } from '../accounts/channel-account.repository.js';
import { CredentialsRejection } from '../accounts/credentials-rejection.js';
import { DeliveryStatusReconciler } from '../accounts/delivery-status-reconciler.js';
import type { ConnectorConfig } from '../config/connector.config.js';
import { ConnectorMetrics } from '../connector.metrics.js';
import { ProviderAdapters } from '../providers/provider-adapters.js';
import { CredentialsRejectedError, type ConnectedAccount } from '../providers/provider-port.js';
import { InboundService } from './inbound.service.js';
import { WebhookWatch } from './webhook-watch.js';

/** Accounts one round compares at most (one after the other). */
const ACCOUNTS_PER_ROUND = 20;
/** Days of one account one round compares at most, so a long-deauthorized account catches up over a few rounds. */
const DAYS_PER_ROUND = 3;
const DAY_MS = 86_400_000;
/** How often a replica looks for accounts whose comparison is due. */
const MAX_TICK_MS = 10_000;

/**
 * Visits, every `INBOUND_RECONCILE_INTERVAL_MS`, each active and authorized account whose provider can tell what the
 * connector missed:
 * - it is compared with what the provider holds, where the provider keeps its messages but never redelivers a
 *   failed webhook (Twilio: the connector was unreachable for 15 s, or refused the signature while the auth token
 *   was rotated, or the number pointed elsewhere). What its webhooks did not deliver is published through the
 *   webhooks' own intake (dedupe keys, outbox). A span is compared once it is `INBOUND_RECONCILE_SETTLE_MS` old, so a
 *   webhook still on its way is not overtaken; each account's mark moves only over what was compared;
 * - its webhook is checked where the provider keeps one per account, and set again where it points elsewhere
 *   (`WebhookWatch`: Telegram, Twilio);
 * - the status of its sent replies whose final status no callback brought is read (`DeliveryStatusReconciler`).
 *
 * Replicas claim accounts (`FOR UPDATE SKIP LOCKED`), so each is visited by one. A provider refusing the account's
 * credentials at any step deauthorizes it.
 */
@Injectable()
export class InboundReconciler implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(InboundReconciler.name);
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private stopped = false;

  constructor(
    @Inject(APP_CONFIG) private readonly config: ConnectorConfig,
    private readonly accounts: ChannelAccountRepository,
    private readonly adapters: ProviderAdapters,
    private readonly inbound: InboundService,
    private readonly metrics: ConnectorMetrics,
    private readonly deliveryStatuses: DeliveryStatusReconciler,
    private readonly credentialsRejection: CredentialsRejection,
    private readonly webhooks: WebhookWatch,
  ) {}

  onApplicationBootstrap(): void {
    const interval = this.config.INBOUND_RECONCILE_INTERVAL_MS;
    if (interval === 0 || this.adapters.reconciled().length === 0) {
      return;
    }
    this.timer = setInterval(() => void this.round(), Math.min(interval, MAX_TICK_MS));
    this.timer.unref();
  }

  async onApplicationShutdown(): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    await this.running;
  }

  /** Compares the accounts that are due; joins the round in progress if there is one. Public for tests. */
  round(): Promise<void> {
    if (this.stopped) {
      return Promise.resolve();
    }
    this.running ??= this.compareDue().finally(() => {
      this.running = undefined;
    });
    return this.running;
  }

  private async compareDue(): Promise<void> {
    let claims: InboundCheckClaim[];
    try {
      claims = await this.accounts.claimInboundChecks(
        this.adapters.reconciled().map((adapter) => adapter.provider),
        {
          intervalMs: this.config.INBOUND_RECONCILE_INTERVAL_MS,
          settleMs: this.config.INBOUND_RECONCILE_SETTLE_MS,
          lookBackMs: this.config.MESSAGE_LEDGER_RETENTION_MS,
        },
        ACCOUNTS_PER_ROUND,
      );
    } catch (error) {
      this.logger.warn(
        { err: String(error) },
        'could not claim inbound comparisons; the next round tries again',
      );
      return;
    }
    for (const claim of claims) {
      if (this.stopped) {
        return;
      }
      await this.compare(claim);
    }
  }

  /** Never rejects: a failure is counted and logged, and the account's mark stays where the comparison got to. */
  private async compare(claim: InboundCheckClaim): Promise<void> {
    let from = claim.from;
    let account: ConnectedAccount | undefined;
    // Each step counts its own failures; only the comparison's are counted here.
    let comparing = false;
    try {
      account = await this.accounts.find(claim.channelAccountId);
      if (account === undefined || !account.active || !account.authorized) {
        return;
      }
      const adapter = this.adapters.get(account.provider);
      comparing = adapter.listInbound !== undefined;
      for (let day = 0; comparing && day < DAYS_PER_ROUND && from < claim.until && !this.stopped; day += 1) {
        // The provider lists by day: one UTC day at a time.
        const dayEnd = new Date(Math.floor(from.getTime() / DAY_MS) * DAY_MS + DAY_MS);
        const until = dayEnd < claim.until ? dayEnd : claim.until;
        const events = (await adapter.listInbound?.(account, from, until)) ?? [];
        const found = await this.inbound.recover(account, events);
        for (const [result, count] of Object.entries(found) as [keyof typeof found, number][]) {
          this.metrics.countReconciled(account.provider, result, count);
        }
        if (found.recovered > 0) {
          this.logger.warn(
            { channelAccountId: account.channelAccountId, recovered: found.recovered, from, until },
            'published inbound messages the provider holds and its webhooks had not delivered',
          );
        }
        await this.accounts.markInboundChecked(account.channelAccountId, until);
        from = until;
      }
      comparing = false;
      // After the comparison: what went elsewhere meanwhile was just found, what comes after this comes here.
      await this.webhooks.check(account, adapter, claim.webhookErrorSeenAt);
      await this.deliveryStatuses.reconcile(account, adapter, () => this.stopped);
    } catch (error) {
      if (account !== undefined && comparing) {
        this.metrics.countReconciled(account.provider, 'check_failed');
      }
      if (account !== undefined && error instanceof CredentialsRejectedError) {
        // The provider's own verdict: a rotated token is noticed now, not when a rep's reply fails with it.
        await this.deauthorize(account, error);
        return;
      }
      this.logger.warn(
        { channelAccountId: claim.channelAccountId, from, err: String(error) },
        'comparing inbound messages with the provider failed; the next round starts from here',
      );
    }
  }

  private async deauthorize(account: ConnectedAccount, refusal: CredentialsRejectedError): Promise<void> {
    try {
      await this.credentialsRejection.recordAlone(account, refusal);
    } catch (error) {
      this.logger.warn(
        { channelAccountId: account.channelAccountId, err: String(error) },
        'could not deauthorize the account whose credentials the provider refused; the next round tries again',
      );
    }
  }
}
