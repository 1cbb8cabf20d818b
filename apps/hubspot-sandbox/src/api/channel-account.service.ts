import { Injectable } from '@nestjs/common';
import { HubSpotError } from '../common/hubspot-error.js';
import { detail, invalidInput, parseStrict } from '../common/validation.js';
import {
  ChannelAccountStore,
  type ChannelAccount,
  type StagingToken,
} from '../store/channel-account.store.js';
import type { Channel } from '../store/channel.store.js';
import { IdGenerator } from '../store/ids.js';
import { PortalStore } from '../store/portal.store.js';
import type { AccessToken } from '../store/token.store.js';
import { CustomChannelEvents } from '../webhooks/custom-channel-events.service.js';
import { assertDeliveryIdentifier, effectiveCapabilities } from './capabilities.js';
import { paginate } from './channel.service.js';
import {
  DELIVERY_IDENTIFIER_TYPES,
  channelAccountCreateSchema,
  channelAccountUpdateSchema,
  stagingTokenUpdateSchema,
} from './custom-channel.schemas.js';

/** Channel accounts (§1.5) and the staging-token connection flow (§1.6). */
@Injectable()
export class ChannelAccountService {
  constructor(
    private readonly accounts: ChannelAccountStore,
    private readonly portals: PortalStore,
    private readonly ids: IdGenerator,
    private readonly events: CustomChannelEvents,
  ) {}

  create(token: AccessToken, channel: Channel, body: unknown): ChannelAccount {
    const input = parseStrict(channelAccountCreateSchema, body);
    this.assertInbox(token.portalId, input.inboxId, 'inboxId');
    assertDeliveryIdentifier(
      input.deliveryIdentifier,
      effectiveCapabilities(channel.capabilities).deliveryIdentifierTypes,
      'deliveryIdentifier',
    );
    const account = this.newAccount(channel, token.portalId, {
      inboxId: input.inboxId,
      name: input.name,
      authorized: input.authorized,
      deliveryIdentifier: input.deliveryIdentifier,
    });
    this.events.channelAccount('CHANNEL_ACCOUNT_CREATED', account);
    return account;
  }

  list(token: AccessToken, channel: Channel, query: Record<string, unknown>) {
    const archived = query.archived === 'true';
    const types = asList(query.deliveryIdentifierType);
    const values = asList(query.deliveryIdentifierValue);
    const unknownType = types.find(
      (type) => !(DELIVERY_IDENTIFIER_TYPES as readonly string[]).includes(type),
    );
    if (unknownType !== undefined) {
      throw invalidInput([
        detail(
          `Invalid value for query parameter "deliveryIdentifierType": ${unknownType} is not one of ${DELIVERY_IDENTIFIER_TYPES.join(', ')}`,
          'INVALID_ENUM_VALUE',
          'query',
          'deliveryIdentifierType',
        ),
      ]);
    }
    const matching = this.accounts
      .list({ channelId: channel.id, portalId: token.portalId })
      .filter((account) => account.archived === archived)
      .filter((account) => types.length === 0 || types.includes(account.deliveryIdentifier?.type ?? ''))
      .filter((account) => values.length === 0 || values.includes(account.deliveryIdentifier?.value ?? ''));
    return paginate(matching, query);
  }

  get(token: AccessToken, channel: Channel, accountId: string, includeArchived = false): ChannelAccount {
    const account = this.accounts.get(accountId);
    if (
      account?.channelId !== channel.id ||
      account.portalId !== token.portalId ||
      (account.archived && !includeArchived)
    ) {
      throw HubSpotError.notFound(`Channel account ${accountId} not found`);
    }
    return account;
  }

  update(token: AccessToken, channel: Channel, accountId: string, body: unknown): ChannelAccount {
    const account = this.get(token, channel, accountId);
    const input = parseStrict(channelAccountUpdateSchema, body);
    const changed =
      (input.name !== undefined && input.name !== account.name) ||
      (input.authorized !== undefined && input.authorized !== account.authorized);
    Object.assign(account, input);
    if (changed) {
      this.events.channelAccount('CHANNEL_ACCOUNT_UPDATED', account);
    }
    return account;
  }

  /** What an admin does in the inbox settings: rename, turn off, move to the help desk. */
  /** An admin edits the account in the inbox settings; `inboxId` moves it to another inbox or help desk. */
  adminUpdate(
    accountId: string,
    change: { name?: string; active?: boolean; authorized?: boolean; inboxId?: string },
  ): ChannelAccount {
    const account = this.accounts.get(accountId);
    if (account === undefined || account.archived) {
      throw HubSpotError.notFound(`Channel account ${accountId} not found`);
    }
    if (
      change.inboxId !== undefined &&
      this.portals.get(account.portalId)?.inboxes.some((inbox) => inbox.id === change.inboxId) !== true
    ) {
      throw invalidInput([
        detail(
          `Invalid value for field "inboxId": inbox ${change.inboxId} does not exist in portal ${account.portalId}`,
          'INVALID_VALUE',
          'body',
          'inboxId',
        ),
      ]);
    }
    Object.assign(account, change);
    this.events.channelAccount('CHANNEL_ACCOUNT_UPDATED', account);
    return account;
  }

  /**
   * "Move to help desk": the account moves to the portal's help desk (new threads create tickets); a portal
   * without a help-desk inbox turns the account's inbox into one.
   */
  adminMoveToHelpDesk(accountId: string): ChannelAccount {
    const account = this.accounts.get(accountId);
    const inboxes = this.portals.get(account?.portalId ?? 0)?.inboxes ?? [];
    const inbox = inboxes.find((candidate) => candidate.id === account?.inboxId);
    if (account === undefined || account.archived || inbox === undefined) {
      throw HubSpotError.notFound(`Channel account ${accountId} not found`);
    }
    const helpDesk = inboxes.find((candidate) => candidate.type === 'HELP_DESK');
    if (helpDesk === undefined) {
      inbox.type = 'HELP_DESK';
    } else {
      account.inboxId = helpDesk.id;
    }
    this.events.channelAccount('CHANNEL_ACCOUNT_UPDATED', account);
    return account;
  }

  /** An admin deleted the account: archived, then purged (the webhook says PURGED). */
  adminPurge(accountId: string): ChannelAccount {
    const account = this.accounts.get(accountId);
    if (account === undefined || account.archived) {
      throw HubSpotError.notFound(`Channel account ${accountId} not found`);
    }
    account.archived = true;
    account.active = false;
    account.archivedAt = new Date().toISOString();
    this.events.channelAccount('CHANNEL_ACCOUNT_PURGED', account);
    return account;
  }

  /** What "Connect a channel" does before opening the pop-up. */
  createStagingToken(request: {
    portalId: number;
    channel: Channel;
    inboxId: string;
    userId: number;
  }): StagingToken {
    this.assertInbox(request.portalId, request.inboxId, 'inboxId');
    return this.accounts.saveStagingToken({
      accountToken: this.ids.token('sbx-staging-'),
      channelId: request.channel.id,
      portalId: request.portalId,
      inboxId: request.inboxId,
      userId: request.userId,
      createdAt: new Date().toISOString(),
    });
  }

  finishStagingToken(
    token: AccessToken,
    channel: Channel,
    accountToken: string,
    body: unknown,
  ): Record<string, unknown> {
    const staging = this.accounts.stagingToken(accountToken);
    if (staging?.channelId !== channel.id || staging.portalId !== token.portalId) {
      throw HubSpotError.notFound(`Staging token ${accountToken} not found`);
    }
    if (staging.channelAccountId !== undefined) {
      throw HubSpotError.conflict(`Staging token ${accountToken} was already used`);
    }
    const input = parseStrict(stagingTokenUpdateSchema, body ?? {});
    assertDeliveryIdentifier(
      input.deliveryIdentifier,
      effectiveCapabilities(channel.capabilities).deliveryIdentifierTypes,
      'deliveryIdentifier',
    );
    const account = this.newAccount(channel, token.portalId, {
      inboxId: staging.inboxId,
      // Without a name HubSpot's is not documented: the account is named after its channel (assumption).
      name: input.accountName ?? channel.name,
      authorized: true,
      deliveryIdentifier: input.deliveryIdentifier,
    });
    staging.accountName = input.accountName;
    staging.deliveryIdentifier = input.deliveryIdentifier;
    staging.channelAccountId = account.id;
    this.events.channelAccount('CHANNEL_ACCOUNT_CREATED', account);
    return {
      accountToken: staging.accountToken,
      createdAt: staging.createdAt,
      genericChannelId: Number(staging.channelId),
      inboxId: Number(staging.inboxId),
      userId: staging.userId,
      ...(input.accountName === undefined ? {} : { accountName: input.accountName }),
      ...(input.deliveryIdentifier === undefined ? {} : { deliveryIdentifier: input.deliveryIdentifier }),
    };
  }

  private newAccount(
    channel: Channel,
    portalId: number,
    fields: Pick<ChannelAccount, 'inboxId' | 'name' | 'authorized' | 'deliveryIdentifier'>,
  ): ChannelAccount {
    return this.accounts.save({
      id: String(this.ids.nextUnique()),
      channelId: channel.id,
      portalId,
      active: true,
      archived: false,
      createdAt: new Date().toISOString(),
      ...fields,
    });
  }

  private assertInbox(portalId: number, inboxId: string, field: string): void {
    const inbox = this.portals.get(portalId)?.inboxes.find((candidate) => candidate.id === inboxId);
    if (inbox === undefined) {
      throw invalidInput([
        detail(
          `Invalid value for field "${field}": inbox ${inboxId} does not exist in portal ${portalId}`,
          'INVALID_VALUE',
          'body',
          field,
        ),
      ]);
    }
  }
}

function asList(value: unknown): string[] {
  if (value === undefined) {
    return [];
  }
  return (Array.isArray(value) ? value : [value]).flatMap((item) =>
    typeof item === 'string' ? item.split(',') : [],
  );
}

/** The app's pop-up URL with the five query parameters of §1.6, or undefined without a redirect URL. */
export function connectionPopupUrl(
  channel: Channel,
  token: StagingToken,
  redirectUrl: string,
): string | undefined {
  if (channel.channelAccountConnectionRedirectUrl === undefined) {
    return undefined;
  }
  const popupUrl = new URL(channel.channelAccountConnectionRedirectUrl);
  popupUrl.searchParams.set('accountToken', token.accountToken);
  popupUrl.searchParams.set('channelId', channel.id);
  popupUrl.searchParams.set('inboxId', token.inboxId);
  popupUrl.searchParams.set('portalId', String(token.portalId));
  popupUrl.searchParams.set('redirectUrl', redirectUrl);
  return popupUrl.toString();
}

export function toPublicAccount(account: ChannelAccount): Record<string, unknown> {
  const { portalId: _portalId, ...wire } = account;
  return {
    ...wire,
    archivedAt: account.archivedAt ?? null,
    deliveryIdentifier: account.deliveryIdentifier ?? null,
  };
}
