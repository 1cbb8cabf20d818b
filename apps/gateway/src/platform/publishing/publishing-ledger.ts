import { CommitBatch, type MessageContext } from '@inbox-bridge/messaging';
import { APP_CONFIG } from '@inbox-bridge/service-kit';
import type { DeliveryIdentifier } from '@inbox-bridge/shared';
import { Inject, Injectable, Optional } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import {
  accountCustomerKey,
  CHANNEL_ACCOUNT_DIRECTORY,
  type ChannelAccountDirectory,
  type KnownConversation,
} from '../../accounts/channel-account-directory.js';
import type { GatewayConfig } from '../../config/gateway.config.js';
import { IDEMPOTENCY_DIGEST_SQL } from './forgotten-messages.js';
import { InboundBacklog } from './inbound-backlog.js';

/** What publishing a message needs to know first, read in one round trip. */
export interface PublishingState {
  /** Published already (same account and idempotency id), also into a thread since deleted. */
  readonly published: boolean;
  /** The HubSpot thread its conversation has now, if any. */
  readonly hubspotThreadId: string | undefined;
  /** HubSpot's `integrationThreadId` of its sender's thread, when asked for and a reply has named it. */
  readonly hubspotIntegrationThreadId: string | undefined;
  /** Handed back from its portal's backlog. */
  readonly released: boolean;
  /** Its portal has a backlog to queue behind. */
  readonly portalBacklogged: boolean;
}

export interface PublishingStateQuery {
  readonly messageId: string;
  readonly portalId: string;
  readonly channelAccountId: string;
  readonly idempotencyId: string;
  readonly conversationKey: string;
  /** Under DELIVERY_IDENTIFIER threading: the sender's address, whose thread HubSpot may have named. */
  readonly sender?: DeliveryIdentifier | undefined;
}

/** A message HubSpot stored: its mapping, and its conversation's thread when that is new. */
export interface PublishedMapping {
  readonly channelAccountId: string;
  readonly idempotencyId: string;
  readonly providerMessageId: string;
  readonly conversationKey: string;
  readonly hubspotMessageId: string;
  readonly hubspotThreadId: string;
  readonly newThread: boolean;
  readonly customer: KnownConversation;
  /** Files were uploaded for it: their ids, kept for a retry of the message, are no longer needed. */
  readonly uploadedMedia: boolean;
}

interface PendingQuery {
  readonly query: PublishingStateQuery;
  readonly resolve: (state: PublishingState) => void;
  readonly reject: (error: unknown) => void;
}

interface StateRow {
  readonly ord: string;
  readonly published: boolean;
  readonly hubspot_thread_id: string | null;
  readonly released: boolean;
  readonly portal_backlogged: boolean;
}

/**
 * The gateway's record of what it published, read and written for a whole consumer batch at once: the messages of
 * one transaction (a batch, handled at once) ask for their state in the same turn of the event loop and get it
 * from one query, and their mappings are written by two statements just before the commit, instead of a few
 * round trips per message. Messages of one conversation are never in one batch, so none reads what another of
 * the batch writes.
 */
@Injectable()
export class PublishingLedger {
  private readonly schema: string;
  private readonly waitingQueries = new WeakMap<EntityManager, PendingQuery[]>();
  private readonly mappings = new CommitBatch<PublishedMapping>((manager, mappings) =>
    this.write(manager, mappings),
  );

  constructor(
    @Inject(APP_CONFIG) config: GatewayConfig,
    private readonly backlog: InboundBacklog,
    @Optional() @Inject(CHANNEL_ACCOUNT_DIRECTORY) private readonly directory?: ChannelAccountDirectory,
  ) {
    this.schema = config.DATABASE_SCHEMA;
  }

  stateOf(manager: EntityManager, query: PublishingStateQuery): Promise<PublishingState> {
    return new Promise<PublishingState>((resolve, reject) => {
      let waiting = this.waitingQueries.get(manager);
      if (waiting === undefined) {
        const batch: PendingQuery[] = [];
        waiting = batch;
        this.waitingQueries.set(manager, batch);
        setImmediate(() => {
          this.waitingQueries.delete(manager);
          this.readStates(manager, batch).catch((error: unknown) => {
            for (const pending of batch) {
              pending.reject(error);
            }
          });
        });
      }
      waiting.push({ query, resolve, reject });
    });
  }

  /** Written with the other mappings of the transaction just before it commits. */
  record(context: MessageContext, mapping: PublishedMapping): void {
    this.mappings.add(context, mapping);
  }

  private async readStates(manager: EntityManager, batch: readonly PendingQuery[]): Promise<void> {
    const s = this.schema;
    const column = (pick: (query: PublishingStateQuery) => string) => batch.map(({ query }) => pick(query));
    const rows = await manager.query<StateRow[]>(
      `SELECT m.ord,
              (EXISTS (SELECT 1 FROM "${s}".published_messages p
                        WHERE p.channel_account_id = m.channel_account_id AND p.idempotency_id = m.idempotency_id)
               OR EXISTS (SELECT 1 FROM "${s}".forgotten_messages f
                           WHERE f.channel_account_id = m.channel_account_id
                             AND f.idempotency_digest = ${IDEMPOTENCY_DIGEST_SQL('m.idempotency_id')}))
                AS published,
              t.hubspot_thread_id,
              ${this.backlog.stateColumns('m.message_id', 'm.portal_id')}
         FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[]) WITH ORDINALITY
                AS m(message_id, portal_id, channel_account_id, idempotency_id, conversation_key, ord)
         LEFT JOIN "${s}".conversation_threads t
           ON t.channel_account_id = m.channel_account_id AND t.conversation_key = m.conversation_key`,
      [
        column((query) => query.messageId),
        column((query) => query.portalId),
        column((query) => query.channelAccountId),
        column((query) => query.idempotencyId),
        column((query) => query.conversationKey),
      ],
    );
    const byOrdinal = new Map(rows.map((row) => [Number(row.ord), row]));
    const senders = batch.flatMap(({ query }) =>
      query.sender === undefined
        ? []
        : [{ channelAccountId: query.channelAccountId, deliveryIdentifier: query.sender }],
    );
    const integrationThreadIds =
      senders.length === 0 || this.directory === undefined
        ? new Map<string, string>()
        : await this.directory.integrationThreadIdsOf(manager, senders);
    batch.forEach((pending, index) => {
      const row = byOrdinal.get(index + 1);
      const { channelAccountId, sender } = pending.query;
      pending.resolve({
        published: row?.published === true,
        hubspotThreadId: row?.hubspot_thread_id ?? undefined,
        hubspotIntegrationThreadId:
          sender === undefined
            ? undefined
            : integrationThreadIds.get(accountCustomerKey({ channelAccountId, deliveryIdentifier: sender })),
        released: row?.released === true,
        portalBacklogged: row?.portal_backlogged === true,
      });
    });
  }

  private async write(manager: EntityManager, mappings: readonly PublishedMapping[]): Promise<void> {
    const s = this.schema;
    const threads = new Map<string, PublishedMapping>();
    for (const mapping of mappings) {
      if (mapping.newThread) {
        threads.set(JSON.stringify([mapping.channelAccountId, mapping.conversationKey]), mapping);
      }
    }
    const newThreads = [...threads.values()];
    const withMedia = mappings.filter((mapping) => mapping.uploadedMedia);
    await manager.query(
      `WITH published AS (
         INSERT INTO "${s}".published_messages
           (channel_account_id, idempotency_id, provider_message_id, conversation_key, hubspot_message_id, hubspot_thread_id)
         SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[])
         ON CONFLICT DO NOTHING
       ), uploads_done AS (
         DELETE FROM "${s}".uploaded_media u
          USING unnest($10::text[], $11::text[]) AS d(channel_account_id, idempotency_id)
          WHERE u.channel_account_id = d.channel_account_id AND u.idempotency_id = d.idempotency_id
       )
       INSERT INTO "${s}".conversation_threads (channel_account_id, conversation_key, hubspot_thread_id)
       SELECT * FROM unnest($7::text[], $8::text[], $9::text[])
       ON CONFLICT (channel_account_id, conversation_key) DO UPDATE SET
         hubspot_thread_id = EXCLUDED.hubspot_thread_id,
         threads_started = conversation_threads.threads_started + 1,
         updated_at = clock_timestamp()`,
      [
        mappings.map((mapping) => mapping.channelAccountId),
        mappings.map((mapping) => mapping.idempotencyId),
        mappings.map((mapping) => mapping.providerMessageId),
        mappings.map((mapping) => mapping.conversationKey),
        mappings.map((mapping) => mapping.hubspotMessageId),
        mappings.map((mapping) => mapping.hubspotThreadId),
        newThreads.map((mapping) => mapping.channelAccountId),
        newThreads.map((mapping) => mapping.conversationKey),
        newThreads.map((mapping) => mapping.hubspotThreadId),
        withMedia.map((mapping) => mapping.channelAccountId),
        withMedia.map((mapping) => mapping.idempotencyId),
      ],
    );
    await this.directory?.rememberConversations(
      manager,
      mappings.map((mapping) => mapping.customer),
    );
  }
}
