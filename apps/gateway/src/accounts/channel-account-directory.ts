import type { DeliveryIdentifier, Provider } from '@inbox-bridge/shared';

/** What the gateway knows of one HubSpot channel account (one connected provider account in one inbox). */
export interface ChannelAccountRecord {
  readonly channelAccountId: string;
  readonly portalId: string;
  readonly channelId: string;
  readonly inboxId: string;
  /** `HELP_DESK` inboxes turn threads into tickets: assignments go to the ticket owner as well. */
  readonly inboxType: 'INBOX' | 'HELP_DESK' | 'UNKNOWN';
  readonly provider: Provider;
  readonly name: string;
  /** The account's own address (the bot, the Twilio number): the sender of replies, the recipient of inbound. */
  readonly deliveryIdentifier: DeliveryIdentifier;
  readonly authorized: boolean;
  readonly active: boolean;
}

/** Nest injection token for {@link ChannelAccountDirectory}. */
export const CHANNEL_ACCOUNT_DIRECTORY = Symbol('CHANNEL_ACCOUNT_DIRECTORY');

/** Read access to the stored channel accounts, for features other than the accounts feature. */
export interface ChannelAccountDirectory {
  find(channelAccountId: string): Promise<ChannelAccountRecord | undefined>;
}
