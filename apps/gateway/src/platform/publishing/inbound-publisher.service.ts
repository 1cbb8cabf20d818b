import { DeferredError, TransientError, type MessageContext } from '@inbox-bridge/messaging';
import { APP_CONFIG, BoundedMap, DATA_SOURCE } from '@inbox-bridge/service-kit';
import { RoutingKeys, type ProviderMessageReceivedV1 } from '@inbox-bridge/shared';
import { Inject, Injectable, Logger, Optional } from '@nestjs/common';
import type { DataSource, EntityManager } from 'typeorm';
import {
  CHANNEL_ACCOUNT_DIRECTORY,
  type ChannelAccountDirectory,
  type ChannelAccountRecord,
} from '../../accounts/channel-account-directory.js';
import type { GatewayConfig } from '../../config/gateway.config.js';
import {
  HUBSPOT_API,
  HubSpotApiError,
  type HubSpotApi,
  type PortalHubSpotClient,
} from '../../hubspot/hubspot-api.js';
import { asMessagingError } from '../../hubspot/hubspot-messaging-errors.js';
import { ChannelRegistrationService } from '../channel/channel-registration.service.js';
import { InboundBacklog } from './inbound-backlog.js';
import {
  inboundFileCountRefusal,
  inboundMediaRefusal,
  type InboundMediaLimits,
} from './inbound-media-policy.js';
import {
  buildPublishBody,
  idempotencyIdOf,
  isMediaAttachment,
  senderIdentifier,
  type ResolvedMedia,
} from './inbound-message.mapper.js';
import { uploadFileName } from './media-file-name.js';
import { ProviderMediaSource } from './provider-media.source.js';
import { PublishingLedger } from './publishing-ledger.js';

interface PublishedMessage {
  readonly id: string;
  readonly conversationsThreadId: string;
}

interface FoundContact {
  readonly id: string;
  readonly ownerId?: string;
}

/** One message on its way to HubSpot, with what its publishing needs. */
interface Publication {
  readonly client: PortalHubSpotClient;
  readonly message: ProviderMessageReceivedV1;
  readonly account: ChannelAccountRecord;
  readonly accountIdentifier: NonNullable<ChannelAccountRecord['deliveryIdentifier']>;
  readonly idempotencyId: string;
  readonly knownThread: { readonly hubspot_thread_id: string } | undefined;
  /** HubSpot's `integrationThreadId` of the sender's thread (DELIVERY_IDENTIFIER threading), passed back. */
  readonly hubspotIntegrationThreadId: string | undefined;
  readonly context: MessageContext;
}

/** What HubSpot answered when this process published a message. */
interface HubSpotAnswer {
  readonly hubspotMessageId: string;
  readonly hubspotThreadId: string;
  readonly contact: FoundContact | undefined;
  readonly uploadedMedia: boolean;
}

/**
 * Messages published by this process whose transaction may yet roll back. A batch is redone one message at a time
 * when any of its messages fails, and HubSpot would answer a repeated POST with the same message
 * (`integrationIdempotencyId`), but at the price of a request from the portal's budget, a contact lookup and a
 * duplicate-looking call in HubSpot's logs; the redo takes the answer from here instead.
 */
const ANSWERS_REMEMBERED = 5_000;

const UPLOAD_FOLDER = '/conversations/inbox-bridge';

/** HubSpot requests publishing this message takes at most: uploads, the contact lookup of a new thread, the POST. */
export function hubspotCallsOf(message: ProviderMessageReceivedV1, looksUpContact: boolean): number {
  return message.attachments.filter(isMediaAttachment).length + (looksUpContact ? 1 : 0) + 1;
}

/**
 * `provider.message.received.v1` → HubSpot: media streamed from the connector into Files (PRIVATE), the
 * message POSTed with `integrationIdempotencyId` (and, under DELIVERY_IDENTIFIER threading, HubSpot's
 * `integrationThreadId` of the sender's thread once a reply webhook named it), then — in the message's own
 * transaction — the mapping (message and thread ids) and `gateway.message.published.v1`
 * (+ `gateway.conversation.started.v1` for a new thread). Ordered per conversation by the consumer group; a held account (turned off, deauthorized) or a
 * disconnected portal fails transiently, so messages wait in the retry tiers. A portal over its HubSpot budget,
 * or with a backlog already, has its messages moved to its own backlog ({@link InboundBacklog}), from which they
 * come back at its pace.
 */
@Injectable()
export class InboundPublisherService {
  private readonly logger = new Logger('InboundPublisher');
  private readonly answers = new BoundedMap<string, HubSpotAnswer>(ANSWERS_REMEMBERED);

  constructor(
    @Inject(APP_CONFIG) private readonly config: GatewayConfig,
    @Inject(DATA_SOURCE) private readonly dataSource: DataSource,
    @Inject(HUBSPOT_API) private readonly hubspot: HubSpotApi,
    private readonly channel: ChannelRegistrationService,
    private readonly mediaSource: ProviderMediaSource,
    private readonly backlog: InboundBacklog,
    private readonly ledger: PublishingLedger,
    @Optional() @Inject(CHANNEL_ACCOUNT_DIRECTORY) private readonly directory?: ChannelAccountDirectory,
  ) {}

  async publish(
    message: ProviderMessageReceivedV1,
    context: MessageContext,
  ): Promise<'published' | 'duplicate' | 'backlogged'> {
    if (this.directory === undefined) {
      throw new TransientError('the channel account directory is not available yet', 'NO_DIRECTORY');
    }
    const account = await this.directory.findForTransaction(context.manager, message.channelAccountId);
    if (account === undefined) {
      throw new TransientError(
        `channel account ${message.channelAccountId} is unknown (not connected yet, or purged)`,
        'UNKNOWN_ACCOUNT',
      );
    }
    if (!account.active || !account.authorized) {
      throw new TransientError(
        `channel account ${account.channelAccountId} is ${account.active ? 'deauthorized' : 'turned off'}: inbound held until it is enabled`,
        'ACCOUNT_HELD',
      );
    }
    if (account.deliveryIdentifier === undefined) {
      throw new TransientError(
        `channel account ${account.channelAccountId} has no delivery identifier yet`,
        'ACCOUNT_INCOMPLETE',
      );
    }
    const idempotencyId = idempotencyIdOf(message);
    const { capabilities } = (await this.channel.registered()).definition;
    const state = await this.ledger.stateOf(context.manager, {
      messageId: context.envelope.messageId,
      portalId: account.portalId,
      channelAccountId: message.channelAccountId,
      idempotencyId,
      conversationKey: message.conversationKey,
      ...(capabilities.threadingModel === 'DELIVERY_IDENTIFIER'
        ? { sender: senderIdentifier(message.sender, capabilities.deliveryIdentifierTypes) }
        : {}),
    });
    const released = state.released;
    if (state.published) {
      if (released) {
        await this.backlog.published(context.manager, context.envelope.messageId);
      }
      return 'duplicate';
    }
    const knownThread =
      state.hubspotThreadId === undefined ? undefined : { hubspot_thread_id: state.hubspotThreadId };
    const client = this.hubspot.forPortal(account.portalId, {
      maxRateWaitMs: this.config.HUBSPOT_INBOUND_MAX_RATE_WAIT_MS,
    });
    const calls = hubspotCallsOf(message, knownThread === undefined && this.config.HUBSPOT_CONTACT_LOOKUP);
    const backlog = () =>
      this.backlog
        .add(context.manager, context.envelope, account.portalId, message, calls)
        .then(() => 'backlogged' as const);
    if (!released && state.portalBacklogged) {
      return backlog();
    }
    try {
      const outcome = await this.publishToHubSpot({
        client,
        message,
        account,
        accountIdentifier: account.deliveryIdentifier,
        idempotencyId,
        knownThread,
        hubspotIntegrationThreadId: state.hubspotIntegrationThreadId,
        context,
      });
      if (released) {
        await this.backlog.published(context.manager, context.envelope.messageId);
      }
      return outcome;
    } catch (error) {
      if (error instanceof HubSpotApiError && error.details.category === 'RATE_LIMIT') {
        if (!released) {
          return backlog();
        }
        // Handed back when the budget covered it, and still short (other calls of the portal took the tokens): it
        // waits for a later turn in the delay tiers, where the conversation's later messages are held behind it.
        const until = await client.reserve(calls);
        throw new DeferredError(
          `portal ${client.portalId} is over its HubSpot rate budget: the message takes its turn at ${new Date(until).toISOString()}`,
          until,
          'RATE_BUDGET_TURN',
        );
      }
      throw asMessagingError(error);
    }
  }

  private async publishToHubSpot(publication: Publication): Promise<'published'> {
    const { message, account, idempotencyId, knownThread, context } = publication;
    const { definition } = await this.channel.registered();
    const declared = definition.capabilities.deliveryIdentifierTypes;
    const answerKey = `${message.channelAccountId}:${idempotencyId}`;
    const answer = this.answers.get(answerKey) ?? (await this.askHubSpot(publication));
    this.answers.set(answerKey, answer);
    const { hubspotMessageId, hubspotThreadId, contact } = answer;
    const contactId = contact?.id;
    const publishedAt = new Date().toISOString();

    const newThread = knownThread?.hubspot_thread_id !== hubspotThreadId;
    this.ledger.record(context, {
      channelAccountId: message.channelAccountId,
      idempotencyId,
      providerMessageId: message.providerMessageId,
      conversationKey: message.conversationKey,
      hubspotMessageId,
      hubspotThreadId,
      newThread,
      uploadedMedia: answer.uploadedMedia,
      customer: {
        channelAccountId: message.channelAccountId,
        deliveryIdentifier: senderIdentifier(message.sender, declared),
        conversationKey: message.conversationKey,
        hubspotThreadId,
      },
    });
    await context.publish(
      RoutingKeys.GatewayMessagePublishedV1,
      {
        channelAccountId: message.channelAccountId,
        conversationKey: message.conversationKey,
        providerMessageId: message.providerMessageId,
        hubspotMessageId,
        hubspotThreadId,
        publishedAt,
      },
      { portalId: Number(account.portalId) },
    );
    if (newThread) {
      await context.publish(
        RoutingKeys.GatewayConversationStartedV1,
        {
          channelAccountId: message.channelAccountId,
          inboxId: account.inboxId,
          hubspotThreadId,
          conversationKey: message.conversationKey,
          ...(contactId === undefined ? {} : { contactId }),
          ...(contact?.ownerId === undefined ? {} : { contactOwnerId: contact.ownerId }),
          isReturningCustomer: knownThread !== undefined,
          startedAt: message.sentAt,
        },
        { portalId: Number(account.portalId) },
      );
    }
    return 'published';
  }

  /** Uploads the message's media, looks up its contact (new thread) and POSTs it. */
  private async askHubSpot({
    client,
    message,
    accountIdentifier,
    idempotencyId,
    knownThread,
    hubspotIntegrationThreadId,
    context,
  }: Publication): Promise<HubSpotAnswer> {
    const { channelId, definition } = await this.channel.registered();
    const media = await this.uploadMedia(client, message, idempotencyId, {
      allowedMimeTypes: definition.capabilities.allowedFileAttachmentMimeTypes,
      maxFileBytes: definition.capabilities.maxFileAttachmentSizeBytes,
      maxTotalBytes: definition.capabilities.maxTotalFileAttachmentSizeBytes,
      maxFileCount: definition.capabilities.maxFileAttachmentCount,
    });
    const contact = knownThread === undefined ? await this.findContact(client, message) : undefined;
    const inReplyTo =
      message.replyToProviderMessageId === undefined
        ? undefined
        : await this.hubspotMessageIdOf(
            context.manager,
            message.channelAccountId,
            message.replyToProviderMessageId,
          );
    const body = buildPublishBody({
      message,
      channelAccountId: message.channelAccountId,
      accountIdentifier,
      declaredTypes: definition.capabilities.deliveryIdentifierTypes,
      threadingModel: definition.capabilities.threadingModel,
      knownIntegrationThreadId: hubspotIntegrationThreadId,
      media,
      contactId: contact?.id,
      inReplyToHubSpotMessageId: inReplyTo,
    });
    const published = await client.request<PublishedMessage>({
      method: 'POST',
      path: `/conversations/v3/custom-channels/${channelId}/messages`,
      body,
    });
    return {
      hubspotMessageId: published.body.id,
      hubspotThreadId: published.body.conversationsThreadId,
      contact,
      uploadedMedia: [...media.values()].some((resolved) => resolved.fileId !== undefined),
    };
  }

  /**
   * Uploads each media attachment (streamed). A file whose type or size the channel does not accept, or past
   * the channel's number of files per message, is not uploaded: it becomes a placeholder with the reason
   * (checked on the declared type and size first, then on what the connector answers). Uploaded ids are kept
   * outside the message's transaction, so a retry of the message reuses them instead of uploading the same
   * file again.
   */
  private async uploadMedia(
    client: PortalHubSpotClient,
    message: ProviderMessageReceivedV1,
    idempotencyId: string,
    limits: InboundMediaLimits,
  ): Promise<Map<number, ResolvedMedia>> {
    const schema = this.config.DATABASE_SCHEMA;
    const resolved = new Map<number, ResolvedMedia>();
    if (!message.attachments.some(isMediaAttachment)) {
      return resolved;
    }
    const previous = await this.dataSource.query<{ attachment_index: number; file_id: string }[]>(
      `SELECT attachment_index, file_id FROM "${schema}".uploaded_media WHERE channel_account_id = $1 AND idempotency_id = $2`,
      [message.channelAccountId, idempotencyId],
    );
    let acceptedBytes = 0;
    for (const row of previous) {
      resolved.set(row.attachment_index, { fileId: row.file_id });
      const earlier = message.attachments[row.attachment_index];
      const earlierBytes =
        earlier !== undefined && isMediaAttachment(earlier) ? earlier.media.sizeBytes : undefined;
      acceptedBytes += earlierBytes ?? 0;
    }
    let acceptedFiles = previous.length;
    for (const [index, attachment] of message.attachments.entries()) {
      if (!isMediaAttachment(attachment) || resolved.has(index)) {
        continue;
      }
      const declared =
        inboundMediaRefusal(attachment.media, limits, acceptedBytes) ??
        inboundFileCountRefusal(acceptedFiles, limits);
      if (declared !== undefined) {
        resolved.set(index, { unavailable: declared });
        continue;
      }
      const download = await this.mediaSource.open(attachment.media);
      if (!download.ok) {
        resolved.set(index, { unavailable: download.reason });
        continue;
      }
      const answered = inboundMediaRefusal(download, limits, acceptedBytes);
      if (answered !== undefined) {
        download.content.destroy();
        resolved.set(index, { unavailable: answered });
        continue;
      }
      const fileName = uploadFileName({
        providerFileName: attachment.media.fileName,
        mimeType: download.mimeType,
        kind: attachment.kind,
        providerMessageId: message.providerMessageId,
        index,
      });
      const uploaded = await client
        .upload<{ id: string; size?: number }>({
          path: '/files/v3/files',
          fields: {
            fileName,
            folderPath: UPLOAD_FOLDER,
            options: JSON.stringify({ access: 'PRIVATE' }),
          },
          file: {
            fileName,
            mimeType: download.mimeType,
            content: download.content,
            ...(download.sizeBytes === undefined ? {} : { sizeBytes: download.sizeBytes }),
          },
        })
        .catch((error: unknown) => {
          // Release the connector's download when HubSpot did not take the whole stream.
          download.content.destroy();
          throw error;
        });
      const fileId = uploaded.body.id;
      await this.dataSource.query(
        `INSERT INTO "${schema}".uploaded_media (channel_account_id, idempotency_id, attachment_index, file_id)
         VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING`,
        [message.channelAccountId, idempotencyId, index, fileId],
      );
      acceptedBytes += download.sizeBytes ?? uploaded.body.size ?? attachment.media.sizeBytes ?? 0;
      acceptedFiles += 1;
      resolved.set(index, { fileId });
    }
    return resolved;
  }

  /** The CRM contact (and its owner) with the sender's email or phone, when the identifier allows a lookup. */
  private async findContact(
    client: PortalHubSpotClient,
    message: ProviderMessageReceivedV1,
  ): Promise<FoundContact | undefined> {
    if (!this.config.HUBSPOT_CONTACT_LOOKUP) {
      return undefined;
    }
    const { email, phoneNumber } = message.sender;
    const filterGroups = [
      ...(email === undefined
        ? []
        : [{ filters: [{ propertyName: 'email', operator: 'EQ', value: email }] }]),
      ...(phoneNumber === undefined
        ? []
        : [
            { filters: [{ propertyName: 'phone', operator: 'EQ', value: phoneNumber }] },
            { filters: [{ propertyName: 'mobilephone', operator: 'EQ', value: phoneNumber }] },
          ]),
    ];
    if (filterGroups.length === 0) {
      return undefined;
    }
    try {
      const found = await client.request<{
        results: { id: string; properties?: { hubspot_owner_id?: string | null } }[];
      }>({
        method: 'POST',
        path: '/crm/v3/objects/contacts/search',
        body: { filterGroups, properties: ['hubspot_owner_id'], limit: 1 },
      });
      const [first] = found.body.results;
      if (first === undefined) {
        return undefined;
      }
      const ownerId = first.properties?.hubspot_owner_id?.trim();
      return { id: first.id, ...(ownerId === undefined || ownerId === '' ? {} : { ownerId }) };
    } catch (error) {
      if (error instanceof HubSpotApiError && !error.details.retryable) {
        this.logger.warn(
          { status: error.details.status, category: error.details.category },
          'contact lookup refused; publishing without a contact',
        );
        return undefined;
      }
      throw error;
    }
  }

  private async hubspotMessageIdOf(
    manager: EntityManager,
    channelAccountId: string,
    providerMessageId: string,
  ): Promise<string | undefined> {
    const [row] = await manager.query<{ hubspot_message_id: string }[]>(
      `SELECT hubspot_message_id FROM "${this.config.DATABASE_SCHEMA}".published_messages
        WHERE channel_account_id = $1 AND provider_message_id = $2 ORDER BY published_at LIMIT 1`,
      [channelAccountId, providerMessageId],
    );
    return row?.hubspot_message_id;
  }
}
