import type { DeliveryIdentifier, Provider } from '@inbox-bridge/shared';
import type { EntityManager } from 'typeorm';

export type InboxType = 'INBOX' | 'HELP_DESK' | 'UNKNOWN';

/** What the gateway knows of one HubSpot channel account (one connected provider account in one inbox). */
export interface ChannelAccountRecord {
  readonly channelAccountId: string;
  readonly portalId: string;
  readonly channelId: string;
  readonly inboxId: string;
  /** `HELP_DESK` inboxes turn threads into tickets: assignments go to the ticket owner as well. */
  readonly inboxType: InboxType;
  readonly provider: Provider;
  readonly name: string;
  /**
   * The account's own address (the bot, the Twilio number): the sender of replies, the recipient of inbound.
   * Always set for accounts connected through the popup or the admin endpoint; HubSpot allows accounts
   * without one, so it may be absent.
   */
  readonly deliveryIdentifier?: DeliveryIdentifier;
  readonly authorized: boolean;
  readonly active: boolean;
}

/** A customer conversation the gateway published into HubSpot, for replies under DELIVERY_IDENTIFIER threading. */
export interface KnownConversation {
  readonly channelAccountId: string;
  /** The customer's address as published to HubSpot (the sender of inbound messages). */
  readonly deliveryIdentifier: DeliveryIdentifier;
  /** The provider conversation (the contract's `conversationKey`). */
  readonly conversationKey: string;
  /** HubSpot `conversationsThreadId`, when known. */
  readonly hubspotThreadId?: string;
}

/** A customer of a channel account, by the address the gateway publishes them with. */
export interface AccountCustomer {
  readonly channelAccountId: string;
  readonly deliveryIdentifier: DeliveryIdentifier;
}

/** The key of an {@link AccountCustomer} in maps. */
export const accountCustomerKey = ({
  channelAccountId,
  deliveryIdentifier,
}: {
  readonly channelAccountId: string;
  readonly deliveryIdentifier: { readonly type: string; readonly value: string };
}): string => JSON.stringify([channelAccountId, deliveryIdentifier.type, deliveryIdentifier.value]);

/** Nest injection token for {@link ChannelAccountDirectory}. */
export const CHANNEL_ACCOUNT_DIRECTORY = Symbol('CHANNEL_ACCOUNT_DIRECTORY');

/** Read access to the stored channel accounts, for features other than the accounts feature. */
export interface ChannelAccountDirectory {
  /** The account, or `undefined` when it is unknown or was purged. */
  find(channelAccountId: string): Promise<ChannelAccountRecord | undefined>;
  /**
   * The account as the caller's transaction first saw it: the messages of one consumer batch (one transaction)
   * share one lookup, and see the account as it was when the batch began, as if they had arrived together.
   */
  findForTransaction(
    transaction: EntityManager,
    channelAccountId: string,
  ): Promise<ChannelAccountRecord | undefined>;
  /** The portal of the stored account (archived ones too), or `undefined` when there is none. */
  portalOf(manager: EntityManager, channelAccountId: string): Promise<string | undefined>;
  /**
   * Records, in the caller's transaction, that each customer at `deliveryIdentifier` writes in
   * `conversationKey` (and HubSpot thread, when known); of two for one customer, the later counts. Call it when
   * publishing inbound messages: under the DELIVERY_IDENTIFIER threading model, replies to that customer or
   * thread go back to that conversation.
   */
  rememberConversations(manager: EntityManager, conversations: readonly KnownConversation[]): Promise<void>;
  /**
   * Under DELIVERY_IDENTIFIER threading: HubSpot's `integrationThreadId` of each customer's current thread, as a
   * reply webhook named it, keyed by {@link accountCustomerKey} (one query). A customer whose thread changed since
   * (HubSpot started a new one), or whose thread no reply has named yet, is absent.
   */
  integrationThreadIdsOf(
    manager: EntityManager,
    customers: readonly AccountCustomer[],
  ): Promise<ReadonlyMap<string, string>>;
}
