import { Messaging, TransientError } from '@inbox-bridge/messaging';
import { APP_CONFIG, DATA_SOURCE, GroupedReads } from '@inbox-bridge/service-kit';
import {
  Contracts,
  RoutingKeys,
  deliveryIdentifierSchema,
  hubspotActorIdSchema,
  type DeliveryIdentifier,
  type GatewayOutboundMessageRequestedV1,
  type OutboundAttachment,
} from '@inbox-bridge/shared';
import { Inject, Injectable } from '@nestjs/common';
import type { DataSource } from 'typeorm';
import type { GatewayConfig } from '../config/gateway.config.js';
import type { ClaimedWebhookEvent } from '../webhooks/hubspot-webhook-event.repository.js';
import type { WebhookEffect } from '../webhooks/hubspot-webhook.processing.js';
import type { OutgoingChannelMessageCreatedEvent } from '../webhooks/hubspot-webhook.schemas.js';
import { AccountPortalCheck } from './account-portal-check.js';
import { AccountsHubSpot } from './accounts-hubspot.js';
import {
  ChannelAccountRepository,
  publishedMessageKey,
  type PublishedMessageRef,
  type StoredChannelAccount,
} from './channel-account.repository.js';
import { eventMessageId } from './event-message-id.js';
import { checkFileUrl, fileHostPolicyOf, type FileHostPolicy } from './file-host-guard.js';
import {
  extensionOf,
  fileAttachmentsOf,
  fileNameOfUrl,
  hubspotFileRef,
  hubspotUrlRef,
  mediaKindOf,
  mimeTypeOf,
} from './outbound-attachments.js';

/** Tries (1 s, 5 s, 25 s apart by default) before a reply through an unknown account is refused. */
const UNKNOWN_ACCOUNT_ATTEMPTS = 4;

type ThreadingModel = 'INTEGRATION_THREAD_ID' | 'DELIVERY_IDENTIFIER';

const toIso = (value: string | number): string => new Date(value).toISOString();

/** Why a reply to a switched-off account is refused; shown to the rep as the FAILED reason. */
export function turnedOffReason(
  account: Pick<StoredChannelAccount, 'active' | 'authorized' | 'name'>,
): string | undefined {
  if (!account.active) {
    return `Not sent: the channel account "${account.name}" is turned off. Turn it on in the inbox settings and send again.`;
  }
  if (!account.authorized) {
    return `Not sent: the channel account "${account.name}" is not authorized (its credentials stopped working). Reconnect it and send again.`;
  }
  return undefined;
}

/**
 * OUTGOING_CHANNEL_MESSAGE_CREATED → `gateway.outbound-message.requested.v1`: the conversation from
 * `channelIntegrationThreadIds[0]` (INTEGRATION_THREAD_ID) or from the conversation the gateway published
 * for that thread or recipient (DELIVERY_IDENTIFIER, where HubSpot's id of the thread is kept with that
 * conversation, to be passed back on the customer's next messages), file attachments as `hubspot-file:`
 * references.
 * A reply through a switched-off account is not sent: HubSpot shows it FAILED with the reason.
 */
@Injectable()
export class OutboundMessageProcessor {
  private readonly threadingModel: ThreadingModel;
  private readonly fileHosts: FileHostPolicy;
  /** The events of one claim are prepared at once: their accounts are read in one query, then their quotes. */
  private readonly accountReads = new GroupedReads<string, StoredChannelAccount>(
    (ids) => this.accounts.findAll(this.dataSource.manager, ids),
    (id) => id,
  );
  private readonly quoteReads = new GroupedReads<PublishedMessageRef, string>(
    (messages) => this.accounts.providerMessageIdsOf(this.dataSource.manager, messages),
    publishedMessageKey,
  );

  constructor(
    @Inject(DATA_SOURCE) private readonly dataSource: DataSource,
    @Inject(APP_CONFIG) config: GatewayConfig,
    private readonly hubspot: AccountsHubSpot,
    private readonly accounts: ChannelAccountRepository,
    private readonly messaging: Messaging,
    private readonly portalCheck: AccountPortalCheck,
  ) {
    this.threadingModel = config.HUBSPOT_THREADING_MODEL;
    this.fileHosts = fileHostPolicyOf(config);
  }

  async prepare(
    event: OutgoingChannelMessageCreatedEvent,
    stored: ClaimedWebhookEvent,
  ): Promise<WebhookEffect> {
    const portalId = String(event.portalId);
    const { message } = event;
    const refuse = async (reason: string): Promise<WebhookEffect> => {
      await this.hubspot.failMessage(portalId, event.channelId, message.id, reason);
      return () => Promise.resolve({ outcome: 'rejected', reason });
    };
    const account = await this.accountReads.read(message.channelAccountId);
    const foreign = this.portalCheck.skipForeign(event, account);
    if (foreign !== undefined) {
      return () => Promise.resolve(foreign);
    }
    if (account === undefined || account.archived) {
      // Right after a connection the account may still be on its way (its CREATED event is processed
      // separately); after a few tries it is not connected through the bridge, and the rep is told.
      if (stored.attempts >= UNKNOWN_ACCOUNT_ATTEMPTS) {
        return refuse(
          'Not sent: this channel account is not connected to the bridge. Connect it again from the inbox settings.',
        );
      }
      throw new TransientError(
        `channel account ${message.channelAccountId} is not known (yet)`,
        'UNKNOWN_ACCOUNT',
      );
    }
    const turnedOff = turnedOffReason(account);
    if (turnedOff !== undefined) {
      return refuse(turnedOff);
    }
    const recipient = deliveryIdentifierSchema.safeParse(message.recipients[0]?.deliveryIdentifier);
    if (!recipient.success) {
      return refuse('Not sent: HubSpot gave no address for the customer of this conversation.');
    }
    const { files, unsupported } = fileAttachmentsOf(message.attachments);
    const attachments: OutboundAttachment[] = [];
    for (const file of files) {
      if ('url' in file) {
        const verdict = checkFileUrl(file.url, this.fileHosts);
        if (!verdict.allowed) {
          unsupported.push(`FILE (${verdict.reason})`);
          continue;
        }
        const fileName = file.name ?? fileNameOfUrl(file.url);
        const mimeType = mimeTypeOf(extensionOf(fileName));
        attachments.push({
          kind: mediaKindOf(file.fileUsageType, mimeType),
          downloadRef: hubspotUrlRef(portalId, file.url),
          mimeType,
          ...(fileName === undefined ? {} : { fileName }),
        });
        continue;
      }
      const info = await this.hubspot.fileInfo(portalId, file.fileId);
      const mimeType = mimeTypeOf(info.extension);
      const fileName =
        file.name ?? (info.name === undefined ? undefined : withExtension(info.name, info.extension));
      attachments.push({
        kind: mediaKindOf(file.fileUsageType, mimeType),
        downloadRef: hubspotFileRef(portalId, file.fileId),
        mimeType,
        ...(fileName === undefined ? {} : { fileName }),
        ...(info.size === undefined ? {} : { sizeBytes: info.size }),
      });
    }
    // A customer message the bridge did not publish (or has since forgotten) is answered without a quote.
    const inReplyToProviderMessageId =
      message.inReplyToId === undefined
        ? undefined
        : await this.quoteReads.read({
            channelAccountId: account.channelAccountId,
            hubspotMessageId: message.inReplyToId,
          });
    const senderActorId = hubspotActorIdSchema.safeParse(message.createdBy);
    const senderName = message.senders[0]?.name?.trim();
    const payload: GatewayOutboundMessageRequestedV1 = {
      channelAccountId: account.channelAccountId,
      hubspotMessageId: message.id,
      hubspotThreadId: message.conversationsThreadId,
      conversationKey: await this.conversationKey(event, recipient.data),
      recipient: { deliveryIdentifier: recipient.data },
      ...(senderActorId.success ? { senderActorId: senderActorId.data } : {}),
      ...(senderName === undefined || senderName === '' ? {} : { senderName: senderName.slice(0, 1024) }),
      ...(message.text === undefined ? {} : { text: message.text }),
      ...(message.richText === undefined ? {} : { richText: message.richText }),
      ...(inReplyToProviderMessageId === undefined ? {} : { inReplyToProviderMessageId }),
      attachments,
      requestedAt: toIso(message.createdAt),
    };
    const checked = Contracts[RoutingKeys.GatewayOutboundMessageRequestedV1].schema.safeParse(payload);
    if (!checked.success) {
      const what = unsupported.length > 0 ? ` (it only has ${unsupported.join(', ')} content)` : '';
      return refuse(`Not sent: the message cannot be delivered by this channel${what}.`);
    }
    const hubspotIntegrationThreadId =
      this.threadingModel === 'DELIVERY_IDENTIFIER' ? event.channelIntegrationThreadIds?.[0] : undefined;
    return async (manager) => {
      if (hubspotIntegrationThreadId !== undefined) {
        await this.accounts.rememberIntegrationThreadId(manager, {
          channelAccountId: account.channelAccountId,
          hubspotThreadId: message.conversationsThreadId,
          integrationThreadId: hubspotIntegrationThreadId,
        });
      }
      await this.messaging.outbox.publish(
        manager,
        RoutingKeys.GatewayOutboundMessageRequestedV1,
        checked.data,
        {
          portalId: event.portalId,
          messageId: eventMessageId(stored.id, RoutingKeys.GatewayOutboundMessageRequestedV1),
        },
      );
      return unsupported.length === 0
        ? { outcome: 'published' }
        : { outcome: 'published', reason: `attachments not sent: ${unsupported.join(', ')}` };
    };
  }

  /**
   * INTEGRATION_THREAD_ID: HubSpot hands back our own conversation key. DELIVERY_IDENTIFIER: HubSpot's
   * thread ids are its own, so the conversation is the one published for this thread or customer, else the
   * customer's address itself (the Twilio number, a Telegram user's private chat).
   */
  private async conversationKey(
    event: OutgoingChannelMessageCreatedEvent,
    recipient: DeliveryIdentifier,
  ): Promise<string> {
    const integrationThreadId = event.channelIntegrationThreadIds?.[0];
    if (this.threadingModel === 'INTEGRATION_THREAD_ID' && integrationThreadId !== undefined) {
      return integrationThreadId;
    }
    const known = await this.accounts.findConversation(
      this.dataSource.manager,
      event.message.channelAccountId,
      {
        hubspotThreadId: event.message.conversationsThreadId,
        deliveryIdentifier: recipient,
      },
    );
    return known ?? recipient.value;
  }
}

function withExtension(name: string, extension: string | undefined): string {
  const full =
    extension === undefined || extension === '' || name.endsWith(`.${extension}`)
      ? name
      : `${name}.${extension}`;
  return full.slice(0, 255);
}
