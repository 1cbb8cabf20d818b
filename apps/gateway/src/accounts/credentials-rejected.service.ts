import type { MessageContext } from '@inbox-bridge/messaging';
import { RoutingKeys, type ConnectorCredentialsRejectedV1 } from '@inbox-bridge/shared';
import { Injectable, Logger } from '@nestjs/common';
import { HubSpotApiError } from '../hubspot/hubspot-api.js';
import { asMessagingError } from '../hubspot/hubspot-messaging-errors.js';
import { storeAccountChange } from './account-events.processor.js';
import { AccountsHubSpot } from './accounts-hubspot.js';
import { ChannelAccountRepository } from './channel-account.repository.js';

export type CredentialsRejectedOutcome = 'deauthorized' | 'already-deauthorized' | 'unknown-account';

/**
 * `connector.channel-account.credentials-rejected.v1`: the provider refused the account's credentials, so the
 * account is set `authorized: false` in HubSpot (admins see it needs reconnecting) and here, and
 * `gateway.channel-account.updated.v1` tells the others, once: by this handler, or by HubSpot's echo of the PATCH
 * when that is processed first. The HubSpot call comes first, with no row lock held: a retry after a failed commit
 * sends the same PATCH again, which HubSpot applies idempotently.
 */
@Injectable()
export class CredentialsRejectedService {
  private readonly logger = new Logger('CredentialsRejected');

  constructor(
    private readonly hubspot: AccountsHubSpot,
    private readonly accounts: ChannelAccountRepository,
  ) {}

  async rejected(
    event: ConnectorCredentialsRejectedV1,
    context: MessageContext,
  ): Promise<CredentialsRejectedOutcome> {
    // Read without a lock: the HubSpot call below must not hold the account's row while HubSpot answers.
    const account = await this.accounts.find(context.manager, event.channelAccountId);
    if (account === undefined || account.archived) {
      this.logger.warn(
        { channelAccountId: event.channelAccountId },
        'credentials rejected for an account the gateway does not know (purged, or never bound)',
      );
      return 'unknown-account';
    }
    if (!account.authorized) {
      return 'already-deauthorized';
    }
    try {
      await this.hubspot.authorizeAccount(
        account.portalId,
        account.channelId,
        account.channelAccountId,
        false,
      );
    } catch (error) {
      if (error instanceof HubSpotApiError && error.details.status === 404) {
        // Deleted in HubSpot meanwhile: its purge webhook removes it here.
        return 'unknown-account';
      }
      throw asMessagingError(error);
    }
    const current = await this.accounts.findForUpdate(context.manager, account.channelAccountId);
    if (current === undefined || !current.authorized) {
      // Purged, or deauthorized by HubSpot's echo of this PATCH, meanwhile: announced there.
      return current === undefined ? 'unknown-account' : 'already-deauthorized';
    }
    const update = await storeAccountChange(this.accounts, context.manager, current, {
      ...current,
      authorized: false,
    });
    if (update !== undefined) {
      await context.publish(RoutingKeys.GatewayChannelAccountUpdatedV1, update, {
        portalId: Number(account.portalId),
      });
    }
    this.logger.warn(
      {
        channelAccountId: account.channelAccountId,
        portalId: account.portalId,
        provider: event.provider,
        reason: event.reason,
        providerErrorCode: event.providerErrorCode,
      },
      'the provider refused the account credentials; deauthorized in HubSpot',
    );
    return 'deauthorized';
  }
}
