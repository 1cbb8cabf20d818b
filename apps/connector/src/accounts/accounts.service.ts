import { PermanentError, TransientError, type MessageContext } from '@inbox-bridge/messaging';
import {
  RoutingKeys,
  sameDeliveryIdentifier,
  type GatewayChannelAccountConnectedV1,
  type GatewayChannelAccountPurgedV1,
  type GatewayChannelAccountUpdatedV1,
  type MessageEnvelope,
  type Provider,
} from '@inbox-bridge/shared';
import { Injectable, Logger } from '@nestjs/common';
import { randomBytes } from 'node:crypto';
import { HttpTransportError } from '../http/outbound-http.js';
import { ProviderAdapters } from '../providers/provider-adapters.js';
import type { CredentialCheck } from '../providers/provider-port.js';
import { TelegramApiError } from '../providers/telegram/telegram-bot-api.js';
import { ChannelAccountRepository } from './channel-account.repository.js';
import { ForeignAccountError, ForeignPendingCredentialsError } from './foreign-account.error.js';
import { SealedCredentials, type CredentialsCheckRequest } from './sealed-credentials.js';

/** A provider call that failed for a reason worth retrying (the provider is down, slow or rate-limiting). */
function isTransientProviderError(error: unknown): boolean {
  return (
    error instanceof HttpTransportError ||
    (error instanceof TelegramApiError && error.isTransient) ||
    error instanceof TransientError
  );
}

/**
 * The channel-account lifecycle on the connector's side: credentials checked for the popup and parked as
 * pending, bound to the account HubSpot created, webhooks set up, the account switched off and on, purged.
 */
@Injectable()
export class AccountsService {
  private readonly logger = new Logger(AccountsService.name);

  constructor(
    private readonly accounts: ChannelAccountRepository,
    private readonly adapters: ProviderAdapters,
    private readonly sealedCredentials: SealedCredentials,
  ) {}

  /** `connector.credentials.validate.v2`: the sealed credentials opened, then checked as {@link validate} does. */
  validateSealed(
    envelope: MessageEnvelope<'connector.credentials.validate.v2'>,
    context: MessageContext,
  ): Promise<void> {
    return this.validate(this.sealedCredentials.open(envelope), context);
  }

  /** Provider check → pending credentials → `validated.v1` (for v1 requests, and v2's once opened). */
  async validate(request: CredentialsCheckRequest, context: MessageContext): Promise<void> {
    if (request.channelAccountId !== undefined) {
      await this.requireOwnAccount(context, request.channelAccountId);
    }
    await this.requireOwnPending(context, request.requestId);
    let check: CredentialCheck;
    try {
      check = await this.adapters
        .get(request.provider)
        .validateCredentials(request.credentials, request.channelAccountId);
    } catch (error) {
      this.logger.warn(
        { requestId: request.requestId, provider: request.provider, err: describe(error) },
        'credentials check failed',
      );
      check = {
        ok: false,
        code: 'provider-unavailable',
        message: 'The provider could not be reached to check the credentials. Try again in a moment.',
      };
    }
    if (check.ok && request.channelAccountId !== undefined) {
      check = await this.sameAccount(context, request.channelAccountId, request.provider, check);
    }
    if (check.ok) {
      const saved = await this.accounts.savePending(context.manager, {
        requestId: request.requestId,
        portalId: context.envelope.portalId,
        credentials: request.credentials,
        deliveryIdentifier: check.deliveryIdentifier,
      });
      if (!saved) {
        // Another portal's check of the same request id committed while this one asked the provider.
        throw new ForeignPendingCredentialsError(request.requestId, context.envelope.portalId);
      }
      if (request.channelAccountId !== undefined) {
        await this.rebind(context, request.channelAccountId, request);
      }
      await context.publish(RoutingKeys.ConnectorCredentialsValidatedV1, {
        requestId: request.requestId,
        ok: true,
        accountName: check.accountName,
        deliveryIdentifier: check.deliveryIdentifier,
      });
    } else {
      await context.publish(RoutingKeys.ConnectorCredentialsValidatedV1, {
        requestId: request.requestId,
        ok: false,
        error: { code: check.code, message: check.message },
      });
    }
    this.logger.log(
      { requestId: request.requestId, provider: request.provider, ok: check.ok },
      'credentials checked',
    );
  }

  /**
   * New credentials for a connected account must belong to that account (the same bot, the same number):
   * anything else would quietly turn it into another one.
   */
  private async sameAccount(
    context: MessageContext,
    channelAccountId: string,
    provider: Provider,
    check: Extract<CredentialCheck, { ok: true }>,
  ): Promise<CredentialCheck> {
    const existing = await this.accounts.find(channelAccountId, context.manager);
    if (existing?.provider !== provider) {
      return {
        ok: false,
        code: 'account-not-connected',
        message: `No ${provider} account ${channelAccountId} is connected to the bridge; connect it as a new account instead.`,
      };
    }
    const before = await this.accounts.deliveryIdentifierOf(context.manager, channelAccountId);
    const after = check.deliveryIdentifier;
    if (before !== undefined && !sameDeliveryIdentifier(before, after)) {
      return {
        ok: false,
        code: 'different-account',
        message: `These credentials belong to ${after.value}, not to the connected account's ${before.value}.`,
      };
    }
    return check;
  }

  /**
   * Re-validation of an existing account (new token, rotated auth token): the account uses the new credentials
   * at once and the provider webhook is set up again with them. The pending copy stays for a later connected.v1.
   */
  private async rebind(
    context: MessageContext,
    channelAccountId: string,
    request: CredentialsCheckRequest,
  ): Promise<void> {
    const existing = await this.accounts.find(channelAccountId, context.manager);
    if (existing?.provider !== request.provider) {
      return;
    }
    await this.accounts.replaceCredentials(context.manager, channelAccountId, request.credentials);
    try {
      await this.adapters.get(request.provider).connect({ ...existing, credentials: request.credentials });
    } catch (error) {
      this.logger.warn(
        { channelAccountId, err: describe(error) },
        'webhook not set up again with the new credentials',
      );
    }
  }

  /** `gateway.channel-account.connected.v1`: binds the pending credentials and points the provider at us. */
  async connected(
    envelope: MessageEnvelope<'gateway.channel-account.connected.v1'>,
    context: MessageContext,
  ): Promise<void> {
    const event: GatewayChannelAccountConnectedV1 = envelope.payload;
    await this.requireOwnAccount(context, event.channelAccountId);
    if (event.credentialsRequestId === undefined) {
      const existing = await this.accounts.find(event.channelAccountId, context.manager);
      if (existing === undefined) {
        this.logger.warn(
          { channelAccountId: event.channelAccountId },
          'account connected without credentials; nothing to bind',
        );
      }
      return;
    }
    await this.requireOwnPending(context, event.credentialsRequestId);
    const pending = await this.accounts.takePending(
      context.manager,
      event.credentialsRequestId,
      envelope.portalId,
    );
    if (pending === undefined) {
      const existing = await this.accounts.find(event.channelAccountId, context.manager);
      if (existing !== undefined) {
        return;
      }
      throw new PermanentError(
        `no pending credentials for request ${event.credentialsRequestId} (expired after 1 h or never validated)`,
        'CREDENTIALS_NOT_PENDING',
      );
    }
    if (pending.provider !== event.provider) {
      throw new PermanentError(
        `pending credentials are for ${pending.provider}, not ${event.provider}`,
        'PROVIDER_MISMATCH',
      );
    }
    const webhookSecret = randomBytes(32).toString('base64url');
    await this.accounts.upsertAccount(context.manager, {
      channelAccountId: event.channelAccountId,
      portalId: envelope.portalId,
      provider: event.provider,
      credentials: pending.credentials,
      webhookSecret,
      deliveryIdentifier: event.deliveryIdentifier ?? pending.deliveryIdentifier,
    });
    const account = await this.accounts.find(event.channelAccountId, context.manager);
    if (account === undefined) {
      throw new Error(`account ${event.channelAccountId} vanished while connecting`);
    }
    try {
      await this.adapters.get(event.provider).connect(account);
    } catch (error) {
      if (isTransientProviderError(error)) {
        throw new TransientError(`could not set up the ${event.provider} webhook yet: ${describe(error)}`);
      }
      throw new PermanentError(
        `the ${event.provider} webhook could not be set up: ${describe(error)}`,
        'CONNECT_FAILED',
      );
    }
    this.logger.log(
      { channelAccountId: event.channelAccountId, provider: event.provider },
      'channel account connected',
    );
  }

  /**
   * `gateway.channel-account.updated.v1`: `active=false` or `authorized=false` stops both directions (inbound
   * webhooks are answered and dropped, outbound replies fail with a reason); switching back on resumes.
   */
  async updated(
    envelope: MessageEnvelope<'gateway.channel-account.updated.v1'>,
    context: MessageContext,
  ): Promise<void> {
    const event: GatewayChannelAccountUpdatedV1 = envelope.payload;
    if (event.active === undefined && event.authorized === undefined) {
      return;
    }
    await this.requireOwnAccount(context, event.channelAccountId);
    const found = await this.accounts.setFlags(context.manager, event.channelAccountId, {
      active: event.active,
      authorized: event.authorized,
    });
    this.logger.log(
      { channelAccountId: event.channelAccountId, active: event.active, authorized: event.authorized, found },
      'channel account flags changed',
    );
  }

  /** `gateway.channel-account.purged.v1`: removes the provider webhook (best effort), credentials and data. */
  async purged(
    envelope: MessageEnvelope<'gateway.channel-account.purged.v1'>,
    context: MessageContext,
  ): Promise<void> {
    const event: GatewayChannelAccountPurgedV1 = envelope.payload;
    // A webhook check setting the webhook up again finishes before, or finds the account gone.
    await this.accounts.lockForWebhook(context.manager, event.channelAccountId);
    await this.requireOwnAccount(context, event.channelAccountId);
    const account = await this.accounts.find(event.channelAccountId, context.manager);
    if (account !== undefined) {
      try {
        await this.adapters.get(account.provider).disconnect(account);
      } catch (error) {
        this.logger.warn(
          { channelAccountId: event.channelAccountId, err: describe(error) },
          'provider webhook not removed',
        );
      }
    }
    await this.accounts.purge(context.manager, event.channelAccountId);
    this.logger.log({ channelAccountId: event.channelAccountId }, 'channel account purged');
  }

  /** Pending credentials checked for another portal than the message's are never bound or replaced by it. */
  private async requireOwnPending(context: MessageContext, requestId: string): Promise<void> {
    const owner = await this.accounts.pendingPortalOf(context.manager, requestId);
    if (owner !== undefined && owner !== context.envelope.portalId) {
      throw new ForeignPendingCredentialsError(requestId, context.envelope.portalId);
    }
  }

  /** An account the connector holds for another portal than the message's is never touched by it. */
  private async requireOwnAccount(context: MessageContext, channelAccountId: string): Promise<void> {
    const owner = await this.accounts.portalOf(context.manager, channelAccountId);
    if (owner !== undefined && owner !== context.envelope.portalId) {
      throw new ForeignAccountError(channelAccountId, context.envelope.portalId);
    }
  }
}

function describe(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}
