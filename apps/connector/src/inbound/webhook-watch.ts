import { DATA_SOURCE } from '@inbox-bridge/service-kit';
import { Inject, Injectable, Logger } from '@nestjs/common';
import type { DataSource } from 'typeorm';
import { ChannelAccountRepository } from '../accounts/channel-account.repository.js';
import { ConnectorMetrics } from '../connector.metrics.js';
import { webhookOrigin } from '../providers/media-response.js';
import {
  CredentialsRejectedError,
  type ConnectedAccount,
  type ProviderAdapter,
} from '../providers/provider-port.js';

/**
 * Checks with the provider that an account's webhook still points at the connector and delivers, and sets it again
 * when it does not. A bot's webhook (or a number's `sms_url`) is one URL, and one secret, that any holder of the
 * credentials can change: a second app, a developer's script, a `deleteWebhook` to try polling, the same URL set
 * again without our secret. From then on the customers' messages go elsewhere, or are refused here, and nothing in
 * the bridge fails; Telegram keeps them for a day and then drops them (Twilio keeps them, and the comparison finds
 * them). Setting the webhook again keeps what the provider holds, so it arrives.
 */
@Injectable()
export class WebhookWatch {
  private readonly logger = new Logger(WebhookWatch.name);

  constructor(
    @Inject(DATA_SOURCE) private readonly dataSource: DataSource,
    private readonly accounts: ChannelAccountRepository,
    private readonly metrics: ConnectorMetrics,
  ) {}

  /**
   * `errorSeenAt`: the provider's last delivery failure this check acted on before; a later one is new. A check the
   * provider does not answer is counted and logged (the next round checks again); its refusing the credentials
   * throws `CredentialsRejectedError`.
   */
  async check(
    account: ConnectedAccount,
    adapter: ProviderAdapter,
    errorSeenAt: Date | undefined,
  ): Promise<void> {
    if (adapter.readWebhook === undefined) {
      return;
    }
    const context = { channelAccountId: account.channelAccountId, provider: account.provider };
    try {
      const state = await adapter.readWebhook(account);
      const newError =
        state.lastError !== undefined && (errorSeenAt === undefined || state.lastError.at > errorSeenAt)
          ? state.lastError
          : undefined;
      if (state.pointsHere && newError === undefined) {
        this.metrics.countWebhookCheck(account.provider, 'healthy');
        return;
      }
      if (!state.pointsHere && state.owner !== undefined) {
        // Setting the account's webhook again would change nothing: a TwiML App or Messaging Service decides, and it
        // may serve other numbers, so it is the customer's to change.
        this.metrics.countWebhookCheck(account.provider, 'overridden');
        this.logger.warn(
          {
            ...context,
            ownerKind: state.owner.kind,
            ownerSid: state.owner.sid,
            ownerUrl: webhookOrigin(state.url),
            reason: state.owner.reason,
          },
          "the account's messages go elsewhere: its own webhook is overridden by another owner, which the connector does not change",
        );
        return;
      }
      const stillConnected = await this.dataSource.transaction(async (manager) => {
        if (!(await this.accounts.lockForWebhook(manager, account.channelAccountId))) {
          return false;
        }
        await adapter.connect(account);
        return true;
      });
      if (!stillConnected) {
        // Purged, switched off or deauthorized since the round read it: its webhook is not ours to set.
        return;
      }
      // Only failures after this set-up are new to the next check: the old URL may have failed again meanwhile, and
      // a provider that clears the error with a new URL (Telegram) leaves none to remember.
      const after = await adapter.readWebhook(account).catch(() => undefined);
      const seen = after === undefined ? newError : after.lastError;
      if (seen !== undefined) {
        await this.accounts.recordWebhookErrorSeen(account.channelAccountId, seen.at);
      }
      if (!state.pointsHere) {
        this.metrics.countWebhookCheck(account.provider, 'restored');
        this.logger.warn(
          { ...context, replacedUrl: webhookOrigin(state.url), pendingUpdates: state.pendingUpdates },
          "the account's webhook pointed elsewhere (another app, or it was removed); set it back to the connector",
        );
        return;
      }
      this.metrics.countWebhookCheck(account.provider, 'delivery_failing');
      this.logger.warn(
        {
          ...context,
          lastErrorAt: newError?.at,
          lastError: newError?.message,
          pendingUpdates: state.pendingUpdates,
        },
        'the provider failed to deliver to the webhook since the last check; set it again with its secret',
      );
    } catch (error) {
      this.metrics.countWebhookCheck(account.provider, 'check_failed');
      if (error instanceof CredentialsRejectedError) {
        throw error;
      }
      this.logger.warn(
        { ...context, err: String(error) },
        "checking the account's webhook failed; the next round tries again",
      );
    }
  }
}
