import { providerSchema, type DeliveryIdentifier, type Provider } from '@inbox-bridge/shared';
import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import {
  accountCustomerKey,
  type AccountCustomer,
  type ChannelAccountRecord,
  type InboxType,
  type KnownConversation,
} from './channel-account-directory.js';

/** A channel account as stored, with its lifecycle flags. */
export interface StoredChannelAccount extends ChannelAccountRecord {
  readonly archived: boolean;
}

interface ChannelAccountRow {
  channel_account_id: string;
  portal_id: string;
  channel_id: string;
  inbox_id: string;
  inbox_type: InboxType;
  provider: string;
  name: string;
  delivery_identifier_type: string | null;
  delivery_identifier_value: string | null;
  authorized: boolean;
  active: boolean;
  archived: boolean;
}

/**
 * Tables of the platform feature keyed by channel account (published messages, threads, uploads, reply
 * statuses; migration `PlatformTables1764172800000`; the digests of messages of deleted threads,
 * `ForgottenMessages1765500000000`): a purged account leaves no mapping behind.
 */
const PLATFORM_ACCOUNT_TABLES = [
  'published_messages',
  'forgotten_messages',
  'conversation_threads',
  'uploaded_media',
  'outbound_message_statuses',
] as const;

const COLUMNS = `channel_account_id, portal_id, channel_id, inbox_id, inbox_type, provider, name,
  delivery_identifier_type, delivery_identifier_value, authorized, active, archived`;

export function toDeliveryIdentifier(
  type: string | null | undefined,
  value: string | null | undefined,
): DeliveryIdentifier | undefined {
  if (type === null || type === undefined || value === null || value === undefined) {
    return undefined;
  }
  return { type, value } as DeliveryIdentifier;
}

function toRecord(row: ChannelAccountRow): StoredChannelAccount {
  const deliveryIdentifier = toDeliveryIdentifier(
    row.delivery_identifier_type,
    row.delivery_identifier_value,
  );
  return {
    channelAccountId: row.channel_account_id,
    portalId: row.portal_id,
    channelId: row.channel_id,
    inboxId: row.inbox_id,
    inboxType: row.inbox_type,
    provider: providerSchema.parse(row.provider),
    name: row.name,
    ...(deliveryIdentifier === undefined ? {} : { deliveryIdentifier }),
    authorized: row.authorized,
    active: row.active,
    archived: row.archived,
  };
}

/** A customer message the bridge published, as a rep's reply names it (`inReplyToId`) through its account. */
export interface PublishedMessageRef {
  readonly channelAccountId: string;
  readonly hubspotMessageId: string;
}

/** The key of a published message in {@link ChannelAccountRepository.providerMessageIdsOf}'s answer. */
export function publishedMessageKey(message: PublishedMessageRef): string {
  return JSON.stringify([message.channelAccountId, message.hubspotMessageId]);
}

/** The only place that touches the channel-account tables; every method runs in the caller's transaction. */
@Injectable()
export class ChannelAccountRepository {
  async find(manager: EntityManager, channelAccountId: string): Promise<StoredChannelAccount | undefined> {
    const rows: ChannelAccountRow[] = await manager.query(
      `SELECT ${COLUMNS} FROM channel_accounts WHERE channel_account_id = $1`,
      [channelAccountId],
    );
    const [row] = rows;
    return row === undefined ? undefined : toRecord(row);
  }

  /** The accounts of `channelAccountIds` that exist, by id, in one query. */
  async findAll(
    manager: EntityManager,
    channelAccountIds: readonly string[],
  ): Promise<ReadonlyMap<string, StoredChannelAccount>> {
    const rows: ChannelAccountRow[] = await manager.query(
      `SELECT ${COLUMNS} FROM channel_accounts WHERE channel_account_id = ANY($1::text[])`,
      [channelAccountIds],
    );
    return new Map(rows.map((row) => [row.channel_account_id, toRecord(row)]));
  }

  /** Locks the row until the end of the transaction (concurrent updates of one account apply in turn). */
  async findForUpdate(
    manager: EntityManager,
    channelAccountId: string,
  ): Promise<StoredChannelAccount | undefined> {
    const rows: ChannelAccountRow[] = await manager.query(
      `SELECT ${COLUMNS} FROM channel_accounts WHERE channel_account_id = $1 FOR UPDATE`,
      [channelAccountId],
    );
    const [row] = rows;
    return row === undefined ? undefined : toRecord(row);
  }

  /**
   * The connected (not archived) account of a provider's address, the oldest first; the caller holds the
   * address's lock (`lockAddress`) so that no other connection of it is finishing meanwhile.
   */
  async findByAddress(
    manager: EntityManager,
    provider: Provider,
    address: DeliveryIdentifier,
  ): Promise<StoredChannelAccount | undefined> {
    const rows: ChannelAccountRow[] = await manager.query(
      `SELECT ${COLUMNS} FROM channel_accounts
        WHERE provider = $1 AND delivery_identifier_type = $2 AND delivery_identifier_value = $3 AND NOT archived
        ORDER BY created_at
        LIMIT 1`,
      [provider, address.type, address.value],
    );
    const [row] = rows;
    return row === undefined ? undefined : toRecord(row);
  }

  /** Serialises the connections of one provider address until the end of the transaction. */
  async lockAddress(manager: EntityManager, provider: Provider, address: DeliveryIdentifier): Promise<void> {
    await manager.query(`SELECT pg_advisory_xact_lock(hashtextextended($1, 0))`, [
      JSON.stringify(['channel-account-address', provider, address.type, address.value]),
    ]);
  }

  /** Inserts the account; `false` when it was already stored (nothing is changed then). */
  async insertIfNew(manager: EntityManager, account: StoredChannelAccount): Promise<boolean> {
    const rows: unknown[] = await manager.query(
      `INSERT INTO channel_accounts (${COLUMNS})
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
       ON CONFLICT (channel_account_id) DO NOTHING
       RETURNING channel_account_id`,
      [
        account.channelAccountId,
        account.portalId,
        account.channelId,
        account.inboxId,
        account.inboxType,
        account.provider,
        account.name,
        account.deliveryIdentifier?.type ?? null,
        account.deliveryIdentifier?.value ?? null,
        account.authorized,
        account.active,
        account.archived,
      ],
    );
    return rows.length > 0;
  }

  async update(manager: EntityManager, account: StoredChannelAccount): Promise<void> {
    await manager.query(
      `UPDATE channel_accounts
          SET inbox_id = $2, inbox_type = $3, name = $4, delivery_identifier_type = $5,
              delivery_identifier_value = $6, authorized = $7, active = $8, archived = $9, updated_at = now()
        WHERE channel_account_id = $1`,
      [
        account.channelAccountId,
        account.inboxId,
        account.inboxType,
        account.name,
        account.deliveryIdentifier?.type ?? null,
        account.deliveryIdentifier?.value ?? null,
        account.authorized,
        account.active,
        account.archived,
      ],
    );
  }

  /** Deletes the account and every mapping the gateway keeps for it. */
  async purge(manager: EntityManager, channelAccountId: string): Promise<void> {
    await manager.query(`DELETE FROM account_conversations WHERE channel_account_id = $1`, [
      channelAccountId,
    ]);
    for (const table of PLATFORM_ACCOUNT_TABLES) {
      await manager.query(`DELETE FROM ${table} WHERE channel_account_id = $1`, [channelAccountId]);
    }
    await manager.query(
      `UPDATE credential_checks SET account_token = NULL, state = 'ABANDONED'
        WHERE channel_account_id = $1`,
      [channelAccountId],
    );
    await manager.query(`DELETE FROM channel_accounts WHERE channel_account_id = $1`, [channelAccountId]);
  }

  /**
   * One statement for all; of two rows for one customer (identifier), the later is kept. HubSpot's
   * `integrationThreadId` stays only while the customer's thread does: it names that thread alone.
   */
  async rememberConversations(
    manager: EntityManager,
    conversations: readonly KnownConversation[],
  ): Promise<void> {
    const byCustomer = new Map<string, KnownConversation>();
    for (const conversation of conversations) {
      byCustomer.set(accountCustomerKey(conversation), conversation);
    }
    if (byCustomer.size === 0) {
      return;
    }
    const rows = [...byCustomer.values()];
    await manager.query(
      `INSERT INTO account_conversations
         (channel_account_id, identifier_type, identifier_value, conversation_key, hubspot_thread_id)
       SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[])
       ON CONFLICT (channel_account_id, identifier_type, identifier_value) DO UPDATE
         SET conversation_key = EXCLUDED.conversation_key,
             hubspot_thread_id = COALESCE(EXCLUDED.hubspot_thread_id, account_conversations.hubspot_thread_id),
             integration_thread_id = CASE
               WHEN COALESCE(EXCLUDED.hubspot_thread_id, account_conversations.hubspot_thread_id)
                    = account_conversations.hubspot_thread_id
               THEN account_conversations.integration_thread_id
             END,
             updated_at = now()`,
      [
        rows.map((row) => row.channelAccountId),
        rows.map((row) => row.deliveryIdentifier.type),
        rows.map((row) => row.deliveryIdentifier.value),
        rows.map((row) => row.conversationKey),
        rows.map((row) => row.hubspotThreadId ?? null),
      ],
    );
  }

  /**
   * Keeps HubSpot's `integrationThreadId` of a thread (named by a reply webhook under DELIVERY_IDENTIFIER threading)
   * with the customer conversations published into that thread; a thread the bridge published none into is
   * not kept.
   */
  async rememberIntegrationThreadId(
    manager: EntityManager,
    thread: {
      readonly channelAccountId: string;
      readonly hubspotThreadId: string;
      readonly integrationThreadId: string;
    },
  ): Promise<void> {
    await manager.query(
      `UPDATE account_conversations SET integration_thread_id = $3
        WHERE channel_account_id = $1 AND hubspot_thread_id = $2
          AND integration_thread_id IS DISTINCT FROM $3`,
      [thread.channelAccountId, thread.hubspotThreadId, thread.integrationThreadId],
    );
  }

  async integrationThreadIdsOf(
    manager: EntityManager,
    customers: readonly AccountCustomer[],
  ): Promise<ReadonlyMap<string, string>> {
    if (customers.length === 0) {
      return new Map();
    }
    const rows: {
      channel_account_id: string;
      identifier_type: string;
      identifier_value: string;
      integration_thread_id: string;
    }[] = await manager.query(
      `SELECT c.channel_account_id, c.identifier_type, c.identifier_value, c.integration_thread_id
         FROM unnest($1::text[], $2::text[], $3::text[]) AS m(channel_account_id, identifier_type, identifier_value)
         JOIN account_conversations c USING (channel_account_id, identifier_type, identifier_value)
        WHERE c.integration_thread_id IS NOT NULL`,
      [
        customers.map((customer) => customer.channelAccountId),
        customers.map((customer) => customer.deliveryIdentifier.type),
        customers.map((customer) => customer.deliveryIdentifier.value),
      ],
    );
    return new Map(
      rows.map((row) => [
        accountCustomerKey({
          channelAccountId: row.channel_account_id,
          deliveryIdentifier: { type: row.identifier_type, value: row.identifier_value },
        }),
        row.integration_thread_id,
      ]),
    );
  }

  /**
   * The provider's ids of customer messages the bridge published to HubSpot, by (account, HubSpot id: what a
   * rep's reply names in `inReplyToId`), in one query; keyed by {@link publishedMessageKey}. Messages the bridge
   * did not publish (or has forgotten) are absent.
   */
  async providerMessageIdsOf(
    manager: EntityManager,
    messages: readonly PublishedMessageRef[],
  ): Promise<ReadonlyMap<string, string>> {
    const rows: { channel_account_id: string; hubspot_message_id: string; provider_message_id: string }[] =
      await manager.query(
        `SELECT DISTINCT ON (p.channel_account_id, p.hubspot_message_id)
                p.channel_account_id, p.hubspot_message_id, p.provider_message_id
           FROM unnest($1::text[], $2::text[]) AS m(channel_account_id, hubspot_message_id)
           JOIN published_messages p
             ON p.hubspot_message_id = m.hubspot_message_id AND p.channel_account_id = m.channel_account_id`,
        [
          messages.map((message) => message.channelAccountId),
          messages.map((message) => message.hubspotMessageId),
        ],
      );
    return new Map(
      rows.map((row) => [
        publishedMessageKey({
          channelAccountId: row.channel_account_id,
          hubspotMessageId: row.hubspot_message_id,
        }),
        row.provider_message_id,
      ]),
    );
  }

  /** The conversation of a HubSpot thread first, else of the customer's address. */
  async findConversation(
    manager: EntityManager,
    channelAccountId: string,
    lookup: { readonly hubspotThreadId: string; readonly deliveryIdentifier?: DeliveryIdentifier },
  ): Promise<string | undefined> {
    const rows: { conversation_key: string }[] = await manager.query(
      `SELECT conversation_key FROM account_conversations
        WHERE channel_account_id = $1
          AND (hubspot_thread_id = $2 OR (identifier_type = $3 AND identifier_value = $4))
        ORDER BY (hubspot_thread_id = $2) DESC NULLS LAST, updated_at DESC
        LIMIT 1`,
      [
        channelAccountId,
        lookup.hubspotThreadId,
        lookup.deliveryIdentifier?.type ?? null,
        lookup.deliveryIdentifier?.value ?? null,
      ],
    );
    return rows[0]?.conversation_key;
  }
}
