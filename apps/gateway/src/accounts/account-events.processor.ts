import { Messaging } from '@inbox-bridge/messaging';
import {
  RoutingKeys,
  type ChannelAccountChange,
  type GatewayChannelAccountUpdatedV1,
} from '@inbox-bridge/shared';
import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import { HubSpotApiError } from '../hubspot/hubspot-api.js';
import type { ClaimedWebhookEvent } from '../webhooks/hubspot-webhook-event.repository.js';
import type { ProcessingResult, WebhookEffect } from '../webhooks/hubspot-webhook.processing.js';
import type {
  ChannelAccountCreatedEvent,
  ChannelAccountPurgedEvent,
  ChannelAccountUpdatedEvent,
} from '../webhooks/hubspot-webhook.schemas.js';
import { AccountPortalCheck } from './account-portal-check.js';
import { AccountsHubSpot, type HubSpotChannelAccount } from './accounts-hubspot.js';
import type { InboxType } from './channel-account-directory.js';
import { ChannelAccountRepository, type StoredChannelAccount } from './channel-account.repository.js';
import { CredentialCheckRepository } from './credential-check.repository.js';
import { eventMessageId } from './event-message-id.js';

/**
 * What changed between the stored account and HubSpot's, in the contract's terms. `moved` also covers a new
 * kind for the same inbox (a type HubSpot did not say before), since assignment depends on it.
 */
export function accountChanges(
  before: StoredChannelAccount,
  after: Pick<StoredChannelAccount, 'name' | 'authorized' | 'active' | 'inboxId' | 'inboxType'>,
): Omit<GatewayChannelAccountUpdatedV1, 'channelAccountId'> | undefined {
  const changes: ChannelAccountChange[] = [];
  const update: {
    name?: string;
    authorized?: boolean;
    active?: boolean;
    inboxId?: string;
    inboxType?: InboxType;
  } = {};
  if (after.name !== before.name && after.name !== '') {
    changes.push('renamed');
    update.name = after.name;
  }
  if (after.authorized !== before.authorized) {
    changes.push(after.authorized ? 'authorized' : 'deauthorized');
    update.authorized = after.authorized;
  }
  if (after.active !== before.active) {
    changes.push(after.active ? 'activated' : 'deactivated');
    update.active = after.active;
  }
  if (after.inboxId !== before.inboxId || after.inboxType !== before.inboxType) {
    changes.push('moved');
    update.inboxId = after.inboxId;
    update.inboxType = after.inboxType;
  }
  return changes.length === 0 ? undefined : { ...update, changes };
}

/** Stores the account's new state; the `updated.v1` payload of what changed, or undefined when nothing did. */
export async function storeAccountChange(
  accounts: ChannelAccountRepository,
  manager: EntityManager,
  before: StoredChannelAccount,
  after: StoredChannelAccount,
): Promise<GatewayChannelAccountUpdatedV1 | undefined> {
  await accounts.update(manager, after);
  const changes = accountChanges(before, after);
  return changes === undefined ? undefined : { channelAccountId: before.channelAccountId, ...changes };
}

/**
 * CHANNEL_ACCOUNT_CREATED / UPDATED: read the account (and its inbox's type) back from HubSpot, store it,
 * and publish `connected.v1` for a new account or `updated.v1` with the precise changes. PURGED: forget the
 * account and its mappings (the purge itself was published by the intake).
 */
@Injectable()
export class AccountEventsProcessor {
  constructor(
    private readonly hubspot: AccountsHubSpot,
    private readonly accounts: ChannelAccountRepository,
    private readonly checks: CredentialCheckRepository,
    private readonly messaging: Messaging,
    private readonly portalCheck: AccountPortalCheck,
  ) {}

  async prepareSync(
    event: ChannelAccountCreatedEvent | ChannelAccountUpdatedEvent,
    stored: ClaimedWebhookEvent,
  ): Promise<WebhookEffect> {
    const portalId = String(event.portalId);
    let remote: HubSpotChannelAccount;
    try {
      remote = await this.hubspot.readAccount(portalId, event.channelId, event.channelAccountId);
    } catch (error) {
      if (error instanceof HubSpotApiError && error.details.status === 404) {
        return () =>
          Promise.resolve({ outcome: 'skipped', reason: 'the account no longer exists in HubSpot' });
      }
      throw error;
    }
    let inboxType: InboxType = 'UNKNOWN';
    try {
      inboxType = await this.hubspot.inboxType(portalId, remote.inboxId);
    } catch (error) {
      if (!(error instanceof HubSpotApiError) || error.details.retryable) {
        throw error;
      }
    }
    return (manager) => this.apply(manager, event, stored, { ...remote, inboxType });
  }

  preparePurge(event: ChannelAccountPurgedEvent): WebhookEffect {
    return async (manager) => {
      const account = await this.accounts.findForUpdate(manager, event.channelAccountId);
      const foreign = this.portalCheck.skipForeign(event, account);
      if (foreign !== undefined) {
        return foreign;
      }
      await this.accounts.purge(manager, event.channelAccountId);
      return { outcome: 'stored' };
    };
  }

  private async apply(
    manager: EntityManager,
    event: ChannelAccountCreatedEvent | ChannelAccountUpdatedEvent,
    stored: ClaimedWebhookEvent,
    remote: HubSpotChannelAccount & { inboxType: InboxType },
  ): Promise<ProcessingResult> {
    const portalId = String(event.portalId);
    const existing = await this.accounts.findForUpdate(manager, event.channelAccountId);
    const foreign = this.portalCheck.skipForeign(event, existing);
    if (foreign !== undefined) {
      return foreign;
    }
    const state = {
      inboxId: remote.inboxId,
      inboxType: remote.inboxType,
      name: remote.name === '' ? (existing?.name ?? event.channelAccountId) : remote.name,
      authorized: remote.authorized,
      active: remote.active,
      archived: remote.archived,
      ...(remote.deliveryIdentifier === undefined ? {} : { deliveryIdentifier: remote.deliveryIdentifier }),
    };
    if (existing === undefined) {
      const check = await this.checks.matchFinalised(manager, {
        portalId,
        inboxId: remote.inboxId,
        ...(remote.deliveryIdentifier === undefined ? {} : { deliveryIdentifier: remote.deliveryIdentifier }),
      });
      if (check === undefined) {
        return {
          outcome: 'skipped',
          reason: 'not connected through the bridge: no checked credentials match this account',
        };
      }
      const account: StoredChannelAccount = {
        channelAccountId: event.channelAccountId,
        portalId,
        channelId: event.channelId,
        provider: check.provider,
        ...state,
      };
      await this.accounts.insertIfNew(manager, account);
      await this.checks.bind(manager, check.requestId, account.channelAccountId);
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
          credentialsRequestId: check.requestId,
        },
        {
          portalId: event.portalId,
          messageId: eventMessageId(stored.id, RoutingKeys.GatewayChannelAccountConnectedV1),
        },
      );
      return { outcome: 'published' };
    }
    const update = await storeAccountChange(this.accounts, manager, existing, { ...existing, ...state });
    if (update === undefined) {
      return { outcome: 'stored' };
    }
    await this.messaging.outbox.publish(manager, RoutingKeys.GatewayChannelAccountUpdatedV1, update, {
      portalId: event.portalId,
      messageId: eventMessageId(stored.id, RoutingKeys.GatewayChannelAccountUpdatedV1),
    });
    return { outcome: 'published' };
  }
}
