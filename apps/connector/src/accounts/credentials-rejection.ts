import { Messaging } from '@inbox-bridge/messaging';
import { DATA_SOURCE } from '@inbox-bridge/service-kit';
import { RoutingKeys, type ConnectorCredentialsRejectedV1 } from '@inbox-bridge/shared';
import { Inject, Injectable, Logger } from '@nestjs/common';
import type { DataSource, EntityManager } from 'typeorm';
import type { ConnectedAccount } from '../providers/provider-port.js';
import { ChannelAccountRepository } from './channel-account.repository.js';

/** The transaction a refusal is recorded in, and how it publishes there (a consumer's context, or the outbox). */
export interface RejectionScope {
  readonly manager: EntityManager;
  publish(
    type: typeof RoutingKeys.ConnectorCredentialsRejectedV1,
    payload: ConnectorCredentialsRejectedV1,
  ): Promise<unknown>;
}

/**
 * The provider refused an account's credentials (a reply, a comparison, a status read): the account is
 * deauthorized at once and the gateway is asked, once, to mark it `authorized: false` in HubSpot.
 */
@Injectable()
export class CredentialsRejection {
  private readonly logger = new Logger(CredentialsRejection.name);

  constructor(
    private readonly accounts: ChannelAccountRepository,
    private readonly messaging: Messaging,
    @Inject(DATA_SOURCE) private readonly dataSource: DataSource,
  ) {}

  /** Outside a consumer (a comparison's read): in a transaction of its own, published through the outbox. */
  recordAlone(
    account: ConnectedAccount,
    refusal: { readonly reason: string; readonly providerErrorCode?: string | undefined },
  ): Promise<boolean> {
    return this.dataSource.transaction((manager) =>
      this.record(
        {
          manager,
          publish: (type, payload) =>
            this.messaging.outbox.publish(manager, type, payload, { portalId: account.portalId }),
        },
        account,
        refusal,
      ),
    );
  }

  /** `true` for the call that deauthorized the account (concurrent refusals report it once). */
  async record(
    scope: RejectionScope,
    account: ConnectedAccount,
    refusal: { readonly reason: string; readonly providerErrorCode?: string | undefined },
  ): Promise<boolean> {
    if (!(await this.accounts.deauthorize(scope.manager, account.channelAccountId))) {
      return false;
    }
    this.logger.warn(
      { channelAccountId: account.channelAccountId, provider: account.provider, reason: refusal.reason },
      'the provider refused the account credentials; the account is deauthorized',
    );
    await scope.publish(RoutingKeys.ConnectorCredentialsRejectedV1, {
      channelAccountId: account.channelAccountId,
      provider: account.provider,
      reason: refusal.reason.slice(0, 1024),
      ...(refusal.providerErrorCode === undefined
        ? {}
        : { providerErrorCode: refusal.providerErrorCode.slice(0, 64) }),
      occurredAt: new Date().toISOString(),
    });
    return true;
  }
}
