import { Messaging } from '@inbox-bridge/messaging';
import { DATA_SOURCE, METRICS_REGISTRY } from '@inbox-bridge/service-kit';
import {
  ProviderCapabilityTable,
  RoutingKeys,
  sameDeliveryIdentifier,
  type DeliveryIdentifier,
  type Provider,
  type ProviderCredentials,
} from '@inbox-bridge/shared';
import { Inject, Injectable, Logger } from '@nestjs/common';
import { Counter, type Registry } from 'prom-client';
import type { DataSource, EntityManager } from 'typeorm';
import { HubSpotApiError } from '../hubspot/hubspot-api.js';
import { storeAccountChange } from './account-events.processor.js';
import { AccountsHubSpot } from './accounts-hubspot.js';
import type { InboxType } from './channel-account-directory.js';
import { ChannelAccountRepository, type StoredChannelAccount } from './channel-account.repository.js';
import { CredentialCheckRepository } from './credential-check.repository.js';
import { CredentialCheckService } from './credential-check.service.js';

export type ConnectionFailure =
  | { readonly kind: 'invalid-credentials'; readonly message: string; readonly code: string }
  | { readonly kind: 'check-timeout'; readonly message: string }
  | { readonly kind: 'token-used'; readonly message: string }
  | { readonly kind: 'token-unknown'; readonly message: string }
  | { readonly kind: 'app-not-installed'; readonly message: string }
  | { readonly kind: 'account-unknown'; readonly message: string }
  | {
      readonly kind: 'address-in-use';
      readonly message: string;
      /** The account that has the address, when it is in the same portal (else it is not named). */
      readonly channelAccountId?: string;
    }
  | { readonly kind: 'hubspot-refused'; readonly message: string }
  | { readonly kind: 'hubspot-unavailable'; readonly message: string }
  /** HubSpot's answer was lost and it may have made the account: its CHANNEL_ACCOUNT_CREATED would bind it. */
  | { readonly kind: 'hubspot-unconfirmed'; readonly message: string };

export type ConnectionResult<T> =
  { readonly ok: true; readonly value: T } | ({ readonly ok: false } & ConnectionFailure);

/**
 * A finished popup connection: HubSpot creates the account next (and tells through a webhook), or, for a bot or
 * number this portal had connected already, that account took the new credentials (`reconnected`).
 */
export interface PopupConnection {
  readonly requestId: string;
  readonly accountName: string;
  readonly reconnected: boolean;
}

/**
 * How long a connection HubSpot was told to create holds its address against another one: HubSpot's
 * CHANNEL_ACCOUNT_CREATED normally follows within seconds; a popup it never finished frees the address then.
 */
const FINISHING_CONNECTION_HOLD_MS = 15 * 60_000;

const TIMEOUT_MESSAGE =
  'Checking the credentials with the provider took too long. Nothing was connected; please try again in a moment.';

function hubspotFailure(error: unknown, context: 'staging' | 'create' | 'update'): ConnectionFailure {
  if (error instanceof HubSpotApiError) {
    const status = error.details.status;
    // Before "already used": a staging token answering 409 after our own lost attempt may be used by that attempt.
    if (context !== 'update' && error.details.outcomeUnknown === true) {
      return {
        kind: 'hubspot-unconfirmed',
        message:
          'HubSpot did not confirm the connection in time, and it may have gone through. Look for the account in the inbox settings in a minute; if it is not there, try connecting again.',
      };
    }
    if (context === 'staging' && status === 409) {
      return {
        kind: 'token-used',
        message:
          'This connection link was already used. Close this window and start "Connect a channel" again.',
      };
    }
    if (context === 'staging' && status === 404) {
      return {
        kind: 'token-unknown',
        message:
          'This connection link has expired or is unknown. Close this window and start "Connect a channel" again.',
      };
    }
    if (!error.details.retryable) {
      return {
        kind: 'hubspot-refused',
        message: `HubSpot refused the connection${error.details.hubspotMessage === undefined ? '' : `: ${error.details.hubspotMessage}`}`,
      };
    }
  }
  return {
    kind: 'hubspot-unavailable',
    message:
      context === 'update'
        ? 'HubSpot could not be reached to authorize the account again; the new credentials are kept, please try again.'
        : 'HubSpot could not be reached to finish the connection. Nothing was connected; please try again.',
  };
}

/**
 * Connects a provider account to a HubSpot inbox: the connector checks the credentials, then HubSpot is told
 * to create the account (the popup's staging token, or a direct create for admins). The account itself is
 * stored and announced when HubSpot's CHANNEL_ACCOUNT_CREATED is processed (or at once for a direct create).
 */
@Injectable()
export class AccountConnectionService {
  private readonly logger = new Logger('AccountConnection');
  private readonly attempts: Counter<'origin' | 'outcome'>;

  constructor(
    @Inject(DATA_SOURCE) private readonly dataSource: DataSource,
    @Inject(METRICS_REGISTRY) registry: Registry,
    private readonly credentialChecks: CredentialCheckService,
    private readonly checks: CredentialCheckRepository,
    private readonly accounts: ChannelAccountRepository,
    private readonly hubspot: AccountsHubSpot,
    private readonly messaging: Messaging,
  ) {
    const existing = registry.getSingleMetric('channel_account_connections_total');
    this.attempts =
      existing instanceof Counter
        ? existing
        : new Counter({
            name: 'channel_account_connections_total',
            help: 'Channel account connection attempts (popup, admin or reconnect), by outcome',
            labelNames: ['origin', 'outcome'],
            registers: [registry],
          });
  }

  /** Counts the attempt's outcome (`connected`, `reconnected` or the failure kind) and passes the result on. */
  private counted<T>(
    origin: 'popup' | 'admin' | 'reconnect',
    result: ConnectionResult<T>,
    success: 'connected' | 'reconnected' = 'connected',
  ): ConnectionResult<T> {
    this.attempts.inc({ origin, outcome: result.ok ? success : result.kind });
    return result;
  }

  /** The registered channel; the popup's own `channelId` when the registry cannot tell (not registered here). */
  async channelId(fallback?: string): Promise<string> {
    try {
      return await this.hubspot.channelId();
    } catch (error) {
      if (fallback === undefined) {
        throw error;
      }
      return fallback;
    }
  }

  async connectThroughPopup(
    request: Parameters<AccountConnectionService['popupConnection']>[0],
  ): Promise<ConnectionResult<PopupConnection>> {
    const result = await this.popupConnection(request);
    return this.counted('popup', result, result.ok && result.value.reconnected ? 'reconnected' : 'connected');
  }

  /**
   * The account a popup connection created, once HubSpot's `CHANNEL_ACCOUNT_CREATED` has bound it (the
   * staging token's answer carries no account id): polls the check every 150 ms for at most `waitMs`.
   * `undefined` for an unknown check; `channelAccountId` absent while it is not bound yet.
   */
  async popupAccount(
    requestId: string,
    waitMs: number,
  ): Promise<
    | {
        readonly portalId: string;
        readonly accountName: string;
        readonly channelAccountId?: string;
        readonly turnedOff: boolean;
      }
    | undefined
  > {
    const deadline = Date.now() + waitMs;
    for (;;) {
      const check = await this.checks.find(this.dataSource.manager, requestId);
      if (check?.origin !== 'popup' || check.accountName === undefined) {
        return undefined;
      }
      if (check.state !== 'FINALISED' || Date.now() >= deadline) {
        const account =
          check.channelAccountId === undefined
            ? undefined
            : await this.accounts.find(this.dataSource.manager, check.channelAccountId);
        return {
          portalId: check.portalId,
          accountName: check.accountName,
          ...(check.channelAccountId === undefined ? {} : { channelAccountId: check.channelAccountId }),
          turnedOff: account?.active === false,
        };
      }
      await new Promise((resolve) => setTimeout(resolve, 150));
    }
  }

  async connectDirectly(
    request: Parameters<AccountConnectionService['directConnection']>[0],
  ): Promise<ConnectionResult<StoredChannelAccount>> {
    return this.counted('admin', await this.directConnection(request));
  }

  /**
   * New credentials for a connected account (a revoked bot token, a rotated auth token): the connector checks
   * they belong to the same bot or number and rebinds the account to them; then the account is authorized
   * again in HubSpot and here, and `updated.v1` (authorized) lets the connector use it again. Like a new
   * connection, it needs the app installed in the portal.
   */
  async reconnect(request: {
    readonly portalId: string;
    readonly channelAccountId: string;
    readonly credentials: ProviderCredentials;
  }): Promise<ConnectionResult<StoredChannelAccount>> {
    const notInstalled = await this.notInstalled(request.portalId);
    if (notInstalled !== undefined) {
      return this.counted('reconnect', { ok: false, ...notInstalled });
    }
    const result = await this.reconnection({ ...request, origin: 'admin' });
    return this.counted('reconnect', result.ok ? { ok: true, value: result.value.account } : result);
  }

  private async reconnection(request: {
    readonly origin: 'popup' | 'admin';
    readonly portalId: string;
    readonly channelAccountId: string;
    readonly credentials: ProviderCredentials;
  }): Promise<ConnectionResult<{ readonly account: StoredChannelAccount; readonly requestId: string }>> {
    const account = await this.accounts.find(this.dataSource.manager, request.channelAccountId);
    if (account === undefined || account.archived || account.portalId !== request.portalId) {
      return {
        ok: false,
        kind: 'account-unknown',
        message: `Channel account ${request.channelAccountId} is not connected to the bridge in portal ${request.portalId}.`,
      };
    }
    if (account.provider !== request.credentials.provider) {
      return {
        ok: false,
        kind: 'invalid-credentials',
        code: 'provider-mismatch',
        message: `Channel account ${account.channelAccountId} is a ${account.provider} account, not ${request.credentials.provider}.`,
      };
    }
    const outcome = await this.credentialChecks.check({
      origin: request.origin,
      portalId: account.portalId,
      channelId: account.channelId,
      inboxId: account.inboxId,
      channelAccountId: account.channelAccountId,
      credentials: request.credentials,
    });
    if (outcome.status === 'timeout') {
      return { ok: false, kind: 'check-timeout', message: TIMEOUT_MESSAGE };
    }
    if (outcome.status === 'invalid') {
      return { ok: false, kind: 'invalid-credentials', code: outcome.code, message: outcome.message };
    }
    // The connector refuses another bot's or number's credentials before rebinding; checked again here because
    // this is where HubSpot is told the account works again, and HubSpot's record is the one we hold.
    const before = account.deliveryIdentifier;
    const after = outcome.deliveryIdentifier;
    if (before !== undefined && !sameDeliveryIdentifier(before, after)) {
      await this.dataSource.transaction((manager) => this.checks.abandon(manager, outcome.requestId));
      return {
        ok: false,
        kind: 'invalid-credentials',
        code: 'different-account',
        message: `These credentials belong to ${after.value}, not to the connected account's ${before.value}.`,
      };
    }
    if (!account.authorized) {
      try {
        await this.hubspot.authorizeAccount(
          account.portalId,
          account.channelId,
          account.channelAccountId,
          true,
        );
      } catch (error) {
        await this.dataSource.transaction((manager) => this.checks.abandon(manager, outcome.requestId));
        return { ok: false, ...hubspotFailure(error, 'update') };
      }
    }
    const reconnected = await this.dataSource.transaction(async (manager) => {
      await this.checks.finalise(manager, outcome.requestId, {
        accountName: outcome.accountName,
        deliveryIdentifier: after,
      });
      await this.checks.bind(manager, outcome.requestId, account.channelAccountId);
      const current = (await this.accounts.findForUpdate(manager, account.channelAccountId)) ?? account;
      if (current.authorized) {
        return current;
      }
      const authorized = { ...current, authorized: true };
      const update = await storeAccountChange(this.accounts, manager, current, authorized);
      if (update !== undefined) {
        await this.messaging.outbox.publish(manager, RoutingKeys.GatewayChannelAccountUpdatedV1, update, {
          portalId: Number(account.portalId),
        });
      }
      return authorized;
    });
    return { ok: true, value: { account: reconnected, requestId: outcome.requestId } };
  }

  private async popupConnection(request: {
    readonly portalId: string;
    readonly channelId: string;
    readonly inboxId: string;
    readonly accountToken: string;
    readonly credentials: ProviderCredentials;
  }): Promise<ConnectionResult<PopupConnection>> {
    const notInstalled = await this.notInstalled(request.portalId);
    if (notInstalled !== undefined) {
      return { ok: false, ...notInstalled };
    }
    const checked = await this.checkCredentials({ origin: 'popup', ...request });
    if (!checked.ok && checked.kind === 'address-in-use' && checked.channelAccountId !== undefined) {
      // HubSpot's popup has no "reconnect": an admin whose bot token was revoked connects the bot again. Its
      // account takes the new credentials and keeps its conversations; the staging token is left unused.
      return this.popupReconnection({ ...request, channelAccountId: checked.channelAccountId });
    }
    if (!checked.ok) {
      return checked;
    }
    const { requestId, accountName, deliveryIdentifier } = checked.value;
    try {
      await this.hubspot.finishStagingToken(request.portalId, request.channelId, request.accountToken, {
        inboxId: request.inboxId,
        accountName,
        deliveryIdentifier,
      });
    } catch (error) {
      const failure = hubspotFailure(error, 'staging');
      await this.abandonUnlessUnconfirmed(requestId, failure);
      this.logger.warn(
        { requestId, portalId: request.portalId, failure: failure.kind },
        'staging token not finished',
      );
      return { ok: false, ...failure };
    }
    return { ok: true, value: { requestId, accountName, reconnected: false } };
  }

  private async popupReconnection(request: {
    readonly portalId: string;
    readonly channelAccountId: string;
    readonly credentials: ProviderCredentials;
  }): Promise<ConnectionResult<PopupConnection>> {
    const reconnected = await this.reconnection({ ...request, origin: 'popup' });
    if (!reconnected.ok) {
      return reconnected;
    }
    const { account, requestId } = reconnected.value;
    this.logger.log(
      { portalId: request.portalId, channelAccountId: request.channelAccountId },
      'popup connected an account the portal had already: reconnected it',
    );
    return {
      ok: true,
      value: { requestId, accountName: account.name, reconnected: true },
    };
  }

  private async directConnection(request: {
    readonly portalId: string;
    readonly channelId: string;
    readonly inboxId: string;
    readonly name?: string;
    readonly credentials: ProviderCredentials;
  }): Promise<ConnectionResult<StoredChannelAccount>> {
    const notInstalled = await this.notInstalled(request.portalId);
    if (notInstalled !== undefined) {
      return { ok: false, ...notInstalled };
    }
    const checked = await this.checkCredentials({ origin: 'admin', ...request });
    if (!checked.ok) {
      return checked;
    }
    const { requestId, deliveryIdentifier } = checked.value;
    const accountName = request.name ?? checked.value.accountName;
    let inboxType: InboxType;
    let created;
    try {
      created = await this.hubspot.createAccount(request.portalId, request.channelId, {
        inboxId: request.inboxId,
        name: accountName,
        deliveryIdentifier,
      });
      inboxType = await this.hubspot
        .inboxType(request.portalId, request.inboxId)
        .catch(() => 'UNKNOWN' as const);
    } catch (error) {
      const failure = hubspotFailure(error, 'create');
      await this.abandonUnlessUnconfirmed(requestId, failure);
      return { ok: false, ...failure };
    }
    const account: StoredChannelAccount = {
      channelAccountId: created.id,
      portalId: request.portalId,
      channelId: request.channelId,
      inboxId: created.inboxId === '' ? request.inboxId : created.inboxId,
      inboxType,
      provider: request.credentials.provider,
      name: created.name === '' ? accountName : created.name,
      deliveryIdentifier: created.deliveryIdentifier ?? deliveryIdentifier,
      authorized: created.authorized,
      active: created.active,
      archived: false,
    };
    await this.dataSource.transaction(async (manager) => {
      // HubSpot's CHANNEL_ACCOUNT_CREATED may have been processed first: whoever binds the check announces it.
      if (!(await this.checks.bind(manager, requestId, account.channelAccountId))) {
        return;
      }
      await this.accounts.insertIfNew(manager, account);
      await this.messaging.outbox.publish(
        manager,
        RoutingKeys.GatewayChannelAccountConnectedV1,
        {
          channelAccountId: account.channelAccountId,
          hubspotChannelId: account.channelId,
          inboxId: account.inboxId,
          provider: account.provider,
          name: account.name,
          ...(account.deliveryIdentifier === undefined
            ? {}
            : { deliveryIdentifier: account.deliveryIdentifier }),
          credentialsRequestId: requestId,
        },
        { portalId: Number(request.portalId) },
      );
    });
    return { ok: true, value: account };
  }

  /**
   * The app must be installed in the portal, with tokens HubSpot still accepts, before a provider is asked about
   * credentials: HubSpot would refuse the connection whatever the provider says, and the admin would read that
   * HubSpot could not be reached.
   */
  private async notInstalled(portalId: string): Promise<ConnectionFailure | undefined> {
    const installation = await this.hubspot.installation(portalId);
    if (installation === 'connected') {
      return undefined;
    }
    return {
      kind: 'app-not-installed',
      message:
        installation === 'not-installed'
          ? `The app is not installed in HubSpot account ${portalId}. Install it there first (the bridge's /oauth/install page), then connect the channel. Nothing was connected.`
          : `HubSpot account ${portalId} no longer authorizes the app (its access was revoked). Install it again (the bridge's /oauth/install page), then connect the channel. Nothing was connected.`,
    };
  }

  /**
   * A connection HubSpot refused frees its credentials. One HubSpot may have made after all stays finalised: its
   * CHANNEL_ACCOUNT_CREATED then binds the credentials, and meanwhile the address is held against a second one.
   */
  private async abandonUnlessUnconfirmed(requestId: string, failure: ConnectionFailure): Promise<void> {
    if (failure.kind === 'hubspot-unconfirmed') {
      return;
    }
    await this.dataSource.transaction((manager) => this.checks.abandon(manager, requestId));
  }

  /**
   * Whether the checked bot or number is connected already (or HubSpot is finishing a connection of it), in
   * which case a new account would take its messages from the one that has them. Holds the address's lock
   * until the caller's transaction ends, so two connections of one address are decided one after the other.
   */
  private async addressTaken(
    manager: EntityManager,
    check: {
      readonly requestId: string;
      readonly portalId: string;
      readonly provider: Provider;
      readonly accountName: string;
      readonly address: DeliveryIdentifier;
    },
  ): Promise<Extract<ConnectionFailure, { kind: 'address-in-use' }> | undefined> {
    await this.accounts.lockAddress(manager, check.provider, check.address);
    const what = check.provider === 'twilio' ? 'number' : 'bot';
    const holder = await this.accounts.findByAddress(manager, check.provider, check.address);
    if (holder?.portalId === check.portalId) {
      return {
        kind: 'address-in-use',
        channelAccountId: holder.channelAccountId,
        message: `${check.accountName} is already connected to this HubSpot account as "${holder.name}" (channel account ${holder.channelAccountId}). Give it new credentials with PUT …/channel-accounts/${holder.channelAccountId}/credentials instead of connecting it again.`,
      };
    }
    if (holder !== undefined) {
      return {
        kind: 'address-in-use',
        message: `${check.accountName} is already connected to another HubSpot account through this bridge. A ${what} sends its messages to one place only: remove it from that account first.`,
      };
    }
    const finishing = await this.checks.finishingElsewhere(
      manager,
      { requestId: check.requestId, provider: check.provider, address: check.address },
      FINISHING_CONNECTION_HOLD_MS,
    );
    if (finishing !== undefined) {
      return {
        kind: 'address-in-use',
        message: `${check.accountName} is being connected${finishing.portalId === check.portalId ? '' : ' to another HubSpot account'} right now, and HubSpot is finishing it. Look for it in the inbox settings in a minute before connecting it again.`,
      };
    }
    return undefined;
  }

  private async checkCredentials(request: {
    readonly origin: 'popup' | 'admin';
    readonly portalId: string;
    readonly channelId: string;
    readonly inboxId: string;
    readonly accountToken?: string;
    readonly credentials: ProviderCredentials;
  }): Promise<
    ConnectionResult<{ requestId: string; accountName: string; deliveryIdentifier: DeliveryIdentifier }>
  > {
    const outcome = await this.credentialChecks.check(request);
    if (outcome.status === 'timeout') {
      return { ok: false, kind: 'check-timeout', message: TIMEOUT_MESSAGE };
    }
    if (outcome.status === 'invalid') {
      return { ok: false, kind: 'invalid-credentials', code: outcome.code, message: outcome.message };
    }
    const { provider } = request.credentials;
    const finalised = await this.dataSource.transaction(async (manager) => {
      if (ProviderCapabilityTable[provider].oneAccountPerAddress) {
        const taken = await this.addressTaken(manager, {
          requestId: outcome.requestId,
          portalId: request.portalId,
          provider,
          accountName: outcome.accountName,
          address: outcome.deliveryIdentifier,
        });
        if (taken !== undefined) {
          await this.checks.abandon(manager, outcome.requestId);
          return taken;
        }
      }
      return (await this.checks.finalise(manager, outcome.requestId, {
        accountName: outcome.accountName,
        deliveryIdentifier: outcome.deliveryIdentifier,
      }))
        ? undefined
        : ({ kind: 'check-timeout', message: TIMEOUT_MESSAGE } as const);
    });
    if (finalised !== undefined) {
      return { ok: false, ...finalised };
    }
    return {
      ok: true,
      value: {
        requestId: outcome.requestId,
        accountName: outcome.accountName,
        deliveryIdentifier: outcome.deliveryIdentifier,
      },
    };
  }
}
