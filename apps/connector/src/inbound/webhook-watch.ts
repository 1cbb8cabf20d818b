import { Injectable, Logger } from '@nestjs/common';
import { ChannelAccountRepository } from '../accounts/channel-account.repository.js';
import { ConnectorMetrics } from '../connector.metrics.js';
import type { ConnectedAccount, ProviderAdapter } from '../providers/provider-port.js';

/**
 * Checks with the provider that an account's webhook still points at the connector and delivers, and sets it again
 * when it does not. A bot's webhook is one URL (and one secret) that any holder of the token can change: a second
 * app, a developer's script, a `deleteWebhook` to try polling, the same URL set again without our secret. From then
 * on the customers' messages go elsewhere, or are refused here, and nothing in the bridge fails; the provider keeps
 * them for a day (Telegram) and then drops them. Setting the webhook again keeps what it holds, so it arrives.
 */
@Injectable()
export class WebhookWatch {
  private readonly logger = new Logger(WebhookWatch.name);

  constructor(
    private readonly accounts: ChannelAccountRepository,
    private readonly metrics: ConnectorMetrics,
  ) {}

  /**
   * `errorSeenAt`: the provider's last delivery failure this check acted on before; a later one is new. Throws when
   * the provider cannot answer (`CredentialsRejectedError` when it refuses the credentials).
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
      await adapter.connect(account);
      if (newError !== undefined) {
        await this.accounts.recordWebhookErrorSeen(account.channelAccountId, newError.at);
      }
      if (!state.pointsHere) {
        this.metrics.countWebhookCheck(account.provider, 'restored');
        this.logger.warn(
          { ...context, replacedUrl: originOf(state.url), pendingUpdates: state.pendingUpdates },
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
      throw error;
    }
  }
}

/** Another app's webhook URL may carry its own secrets in the path or query: only its origin is logged. */
function originOf(url: string): string {
  if (url === '') {
    return '(none)';
  }
  try {
    return new URL(url).origin;
  } catch {
    return '(not a URL)';
  }
}
