import { TransientError } from '@inbox-bridge/messaging';
import { sameDeliveryIdentifier, type DeliveryIdentifier } from '@inbox-bridge/shared';
import { Injectable } from '@nestjs/common';
import { ModuleRef } from '@nestjs/core';
import { HUBSPOT_API, type HubSpotApi, type PortalHubSpotClient } from '../hubspot/hubspot-api.js';
import { PortalTokens, type PortalInstallation } from '../hubspot/portal-tokens.js';
import { CHANNEL_REGISTRY, type ChannelRegistry } from '../platform/channel-registry.js';
import type { InboxType } from './channel-account-directory.js';

/** `PublicChannelAccount` (hubspot-api.md §1.5), the fields the bridge reads. */
export interface HubSpotChannelAccount {
  readonly id: string;
  readonly channelId: string;
  readonly inboxId: string;
  readonly name: string;
  readonly active: boolean;
  readonly authorized: boolean;
  readonly archived: boolean;
  readonly deliveryIdentifier?: DeliveryIdentifier;
}

/** `File` of the Files API (§5.1), the fields an outbound attachment needs. */
export interface HubSpotFileInfo {
  readonly id: string;
  readonly name?: string;
  readonly extension?: string;
  readonly type?: string;
  readonly size?: number;
}

/** How far HubSpot's clock may run behind ours when an account it made is recognised by its `createdAt`. */
const CLOCK_SKEW_ALLOWANCE_MS = 5 * 60_000;

/** What identifies the account a connection makes: its bot or number in its inbox. */
export interface AccountAddress {
  readonly inboxId: string;
  readonly deliveryIdentifier: DeliveryIdentifier;
}

const channelPath = (channelId: string): string =>
  `/conversations/v3/custom-channels/${encodeURIComponent(channelId)}`;

function asRecord(value: unknown): Record<string, unknown> {
  return typeof value === 'object' && value !== null ? (value as Record<string, unknown>) : {};
}

function optionalString(value: unknown): string | undefined {
  return typeof value === 'string' || typeof value === 'number' ? String(value) : undefined;
}

function toChannelAccount(body: unknown): HubSpotChannelAccount {
  const record = asRecord(body);
  const identifier = asRecord(record['deliveryIdentifier']);
  const type = optionalString(identifier['type']);
  const value = optionalString(identifier['value']);
  return {
    id: optionalString(record['id']) ?? '',
    channelId: optionalString(record['channelId']) ?? '',
    inboxId: optionalString(record['inboxId']) ?? '',
    name: optionalString(record['name']) ?? '',
    active: record['active'] !== false,
    authorized: record['authorized'] !== false,
    archived: record['archived'] === true,
    ...(type === undefined || value === undefined
      ? {}
      : { deliveryIdentifier: { type, value } as DeliveryIdentifier }),
  };
}

/**
 * The HubSpot calls of the accounts feature, through the platform's `HUBSPOT_API` (limiter, retries,
 * tokens). Resolved when first used, so the accounts feature does not depend on the order features start in.
 */
@Injectable()
export class AccountsHubSpot {
  constructor(private readonly moduleRef: ModuleRef) {}

  async channelId(): Promise<string> {
    let registry: ChannelRegistry;
    try {
      registry = this.moduleRef.get<ChannelRegistry>(CHANNEL_REGISTRY, { strict: false });
    } catch {
      throw new TransientError(
        'the channel registry is not available in this gateway',
        'NO_CHANNEL_REGISTRY',
      );
    }
    return registry.channelId();
  }

  /** Whether the app is installed in the portal (with usable tokens): every call below needs it. */
  async installation(portalId: string): Promise<PortalInstallation> {
    let tokens: PortalTokens;
    try {
      tokens = this.moduleRef.get(PortalTokens, { strict: false });
    } catch {
      throw new TransientError('the portal tokens are not available in this gateway', 'NO_PORTAL_TOKENS');
    }
    return tokens.installation(portalId);
  }

  async readAccount(
    portalId: string,
    channelId: string,
    channelAccountId: string,
  ): Promise<HubSpotChannelAccount> {
    const { body } = await this.portal(portalId).request({
      method: 'GET',
      path: `${channelPath(channelId)}/channel-accounts/${encodeURIComponent(channelAccountId)}`,
      query: { archived: true },
    });
    return toChannelAccount(body);
  }

  /** A direct create; one whose answer was lost is looked for before it is sent again (no second account). */
  async createAccount(
    portalId: string,
    channelId: string,
    account: AccountAddress & { readonly name: string },
  ): Promise<HubSpotChannelAccount> {
    const since = Date.now() - CLOCK_SKEW_ALLOWANCE_MS;
    const { body } = await this.portal(portalId).request({
      method: 'POST',
      path: `${channelPath(channelId)}/channel-accounts`,
      body: { ...account, authorized: true },
      findIfDone: () => this.accountMadeSince(portalId, channelId, account, since),
    });
    return toChannelAccount(body);
  }

  /** HubSpot's `authorized` flag: `false` shows the account as no longer usable until it is reconnected. */
  async authorizeAccount(
    portalId: string,
    channelId: string,
    channelAccountId: string,
    authorized: boolean,
  ): Promise<void> {
    await this.portal(portalId).request({
      method: 'PATCH',
      path: `${channelPath(channelId)}/channel-accounts/${encodeURIComponent(channelAccountId)}`,
      body: { authorized },
    });
  }

  /**
   * Finishes the popup's staging token, which HubSpot takes once (a repeat answers 409): a PATCH whose answer
   * was lost is not repeated before the account it makes is looked for. When that is not found either, the
   * error says `outcomeUnknown`: HubSpot may still have made the account.
   */
  async finishStagingToken(
    portalId: string,
    channelId: string,
    accountToken: string,
    account: AccountAddress & { readonly accountName: string },
  ): Promise<void> {
    const since = Date.now() - CLOCK_SKEW_ALLOWANCE_MS;
    await this.portal(portalId).request({
      method: 'PATCH',
      path: `${channelPath(channelId)}/channel-account-staging-tokens/${encodeURIComponent(accountToken)}`,
      body: { accountName: account.accountName, deliveryIdentifier: account.deliveryIdentifier },
      findIfDone: () => this.accountMadeSince(portalId, channelId, account, since),
    });
  }

  /**
   * The account HubSpot made for a connection whose answer was lost: the newest one of this bot or number in
   * this inbox, not archived, created since `sinceMs` (the list filters by delivery identifier, §1.5, and
   * HubSpot carries the identifier onto the account it makes of a staging token, §1.6).
   */
  private async accountMadeSince(
    portalId: string,
    channelId: string,
    address: AccountAddress,
    sinceMs: number,
  ): Promise<Record<string, unknown> | undefined> {
    const { body } = await this.portal(portalId).request({
      method: 'GET',
      path: `${channelPath(channelId)}/channel-accounts`,
      query: {
        deliveryIdentifierType: address.deliveryIdentifier.type,
        deliveryIdentifierValue: address.deliveryIdentifier.value,
        limit: 100,
      },
    });
    const results = asRecord(body)['results'];
    const createdAt = (record: Record<string, unknown>): number =>
      Date.parse(optionalString(record['createdAt']) ?? '');
    const made = (Array.isArray(results) ? results : []).map(asRecord).filter((record) => {
      const account = toChannelAccount(record);
      const created = createdAt(record);
      return (
        !account.archived &&
        account.inboxId === address.inboxId &&
        account.deliveryIdentifier !== undefined &&
        sameDeliveryIdentifier(account.deliveryIdentifier, address.deliveryIdentifier) &&
        (Number.isNaN(created) || created >= sinceMs)
      );
    });
    return made.sort((a, b) => (createdAt(b) || 0) - (createdAt(a) || 0))[0];
  }

  /** `INBOX` or `HELP_DESK`; `UNKNOWN` when HubSpot does not say (e.g. the `conversations.read` scope is missing). */
  async inboxType(portalId: string, inboxId: string): Promise<InboxType> {
    const { body } = await this.portal(portalId).request({
      method: 'GET',
      path: `/conversations/v3/conversations/inboxes/${encodeURIComponent(inboxId)}`,
    });
    const type = asRecord(body)['type'];
    return type === 'INBOX' || type === 'HELP_DESK' ? type : 'UNKNOWN';
  }

  async fileInfo(portalId: string, fileId: string): Promise<HubSpotFileInfo> {
    const { body } = await this.portal(portalId).request({
      method: 'GET',
      path: `/files/v3/files/${encodeURIComponent(fileId)}`,
    });
    const record = asRecord(body);
    const size = record['size'];
    const name = optionalString(record['name']);
    const extension = optionalString(record['extension']);
    const type = optionalString(record['type']);
    return {
      id: fileId,
      ...(name === undefined ? {} : { name }),
      ...(extension === undefined ? {} : { extension }),
      ...(type === undefined ? {} : { type }),
      ...(typeof size === 'number' && Number.isSafeInteger(size) && size >= 0 ? { size } : {}),
    };
  }

  /** A short-lived download URL of a (private) file: `GET /files/v3/files/{fileId}/signed-url`. */
  async signedFileUrl(portalId: string, fileId: string): Promise<{ url: string; mimeHint?: string }> {
    const { body } = await this.portal(portalId).request({
      method: 'GET',
      path: `/files/v3/files/${encodeURIComponent(fileId)}/signed-url`,
      query: { expirationSeconds: 300 },
    });
    const url = optionalString(asRecord(body)['url']);
    if (url === undefined) {
      throw new TransientError(`HubSpot returned no signed URL for file ${fileId}`);
    }
    const extension = optionalString(asRecord(body)['extension']);
    return { url, ...(extension === undefined ? {} : { mimeHint: extension }) };
  }

  /** Marks a rep's reply FAILED with a reason the rep reads in the inbox. */
  async failMessage(
    portalId: string,
    channelId: string,
    messageId: string,
    errorMessage: string,
  ): Promise<void> {
    await this.portal(portalId).request({
      method: 'PATCH',
      path: `${channelPath(channelId)}/messages/${encodeURIComponent(messageId)}`,
      body: { statusType: 'FAILED', errorMessage },
    });
  }

  private portal(portalId: string): PortalHubSpotClient {
    let api: HubSpotApi;
    try {
      api = this.moduleRef.get<HubSpotApi>(HUBSPOT_API, { strict: false });
    } catch {
      throw new TransientError('the HubSpot client is not available in this gateway', 'NO_HUBSPOT_CLIENT');
    }
    return api.forPortal(portalId);
  }
}
