import { Injectable } from '@nestjs/common';
import type { HubSpotErrorDetail } from '../common/hubspot-error.js';
import { HubSpotError } from '../common/hubspot-error.js';
import { detail, invalidInput, parseStrict } from '../common/validation.js';
import { CrmService } from '../crm/crm.service.js';
import { FileStore } from '../files/file.store.js';
import { FilesService, fileAttachment, type ReplyFile } from '../files/files.service.js';
import { ChannelAccountStore, type ChannelAccount } from '../store/channel-account.store.js';
import { ChannelStore, type Channel } from '../store/channel.store.js';
import { IdGenerator } from '../store/ids.js';
import { MessageStore, type Participant, type StoredMessage, type Thread } from '../store/message.store.js';
import { PortalStore } from '../store/portal.store.js';
import type { AccessToken } from '../store/token.store.js';
import { ConversationEvents } from '../webhooks/conversation-events.service.js';
import { CustomChannelEvents } from '../webhooks/custom-channel-events.service.js';
import {
  deliveryIdentifierProblem,
  effectiveCapabilities,
  outgoingFileProblems,
  type EffectiveCapabilities,
} from './capabilities.js';
import { messageEggSchema, messageUpdateSchema, type MessageEgg } from './custom-channel.schemas.js';

export interface PublishResult {
  readonly message: StoredMessage;
  /** True when `integrationIdempotencyId` matched an earlier publish: nothing new was stored. */
  readonly duplicate: boolean;
}

/** Publishing (§1.7), reading and status updates (§1.8), threading (§3.1), agent replies (§2.1). */
@Injectable()
export class MessageService {
  private readonly visitors = new Map<string, number>();

  constructor(
    private readonly messages: MessageStore,
    private readonly accounts: ChannelAccountStore,
    private readonly channels: ChannelStore,
    private readonly portals: PortalStore,
    private readonly ids: IdGenerator,
    private readonly events: CustomChannelEvents,
    private readonly crm: CrmService,
    private readonly files: FileStore,
    private readonly conversationEvents: ConversationEvents,
    private readonly fileService: FilesService,
  ) {}

  /** `origin` (`http://host:port` of the request) makes the `url` of `FILE` attachments absolute. */
  publish(token: AccessToken, channel: Channel, body: unknown, origin: string): PublishResult {
    const egg = parseStrict(messageEggSchema, body);
    const account = this.accounts.get(egg.channelAccountId);
    if (account?.channelId !== channel.id || account.portalId !== token.portalId || account.archived) {
      throw invalidInput([
        detail(
          `Invalid value for field "channelAccountId": channel account ${egg.channelAccountId} not found for channel ${channel.id}`,
          'INVALID_VALUE',
          'body',
          'channelAccountId',
        ),
      ]);
    }
    if (egg.integrationIdempotencyId !== undefined) {
      const original = this.messages.byIdempotencyId(account.id, egg.integrationIdempotencyId);
      if (original !== undefined) {
        return { message: original, duplicate: true };
      }
    }
    const capabilities = effectiveCapabilities(channel.capabilities);
    this.assertPublishable(egg, account, capabilities);
    const thread = this.resolveThread(egg, account, capabilities);
    if (egg.messageDirection === 'INCOMING') {
      // A customer writing into a closed conversation reopens it (assumption, §9.5).
      if (thread.status === 'CLOSED') {
        thread.status = 'OPEN';
        delete thread.closedAt;
        this.conversationEvents.statusChanged(thread, 'OPEN');
      }
      thread.associatedContactId ??= this.contactFor(token.portalId, egg);
    }
    const now = new Date().toISOString();
    const senders = egg.senders.map((sender) =>
      this.participant(token.portalId, sender, egg.messageDirection === 'INCOMING', token.appId),
    );
    const recipients = egg.recipients.map((recipient) =>
      this.participant(token.portalId, recipient, egg.messageDirection === 'OUTGOING', token.appId),
    );
    const message = this.messages.saveMessage({
      id: this.messageId(),
      portalId: token.portalId,
      channelId: channel.id,
      channelAccountId: account.id,
      conversationsThreadId: thread.id,
      direction: egg.messageDirection,
      text: egg.text,
      ...(egg.richText === undefined ? {} : { richText: egg.richText }),
      senders,
      recipients,
      attachments: egg.attachments.map((attachment) => {
        const file =
          attachment.type === 'FILE' ? this.files.file(token.portalId, attachment.fileId) : undefined;
        return attachment.type === 'FILE' && file !== undefined
          ? fileAttachment(this.fileService, file, attachment.fileUsageType, origin)
          : attachment;
      }),
      createdAt: egg.timestamp,
      updatedAt: now,
      createdBy: senders[0]?.actorId ?? `I-${token.appId}`,
      clientType: 'INTEGRATION',
      integrationAppId: token.appId,
      ...(egg.inReplyToId === undefined ? {} : { inReplyToId: egg.inReplyToId }),
      ...(egg.integrationIdempotencyId === undefined
        ? {}
        : { integrationIdempotencyId: egg.integrationIdempotencyId }),
      status: { statusType: egg.messageDirection === 'INCOMING' ? 'RECEIVED' : 'SENT' },
    });
    this.conversationEvents.newMessage(thread, message.id);
    return { message, duplicate: false };
  }

  get(token: AccessToken, channel: Channel, messageId: string): StoredMessage {
    const message = this.messages.message(messageId);
    if (message?.channelId !== channel.id || message.portalId !== token.portalId) {
      throw HubSpotError.notFound(`Message ${messageId} not found`);
    }
    return message;
  }

  /** Strictest reading: only OUTGOING messages take a delivery status; `errorMessage` only with FAILED. */
  updateStatus(token: AccessToken, channel: Channel, messageId: string, body: unknown): StoredMessage {
    const message = this.get(token, channel, messageId);
    const input = parseStrict(messageUpdateSchema, body);
    if (input.errorMessage !== undefined && input.statusType !== 'FAILED') {
      throw invalidInput([
        detail(
          'Field "errorMessage" is only allowed with statusType FAILED',
          'INVALID_VALUE',
          'body',
          'errorMessage',
        ),
      ]);
    }
    if (message.direction !== 'OUTGOING') {
      throw invalidInput([
        detail(
          `Invalid value for field "statusType": message ${messageId} is INCOMING; only outgoing messages take a delivery status`,
          'INVALID_VALUE',
          'body',
          'statusType',
        ),
      ]);
    }
    message.status =
      input.statusType === 'FAILED'
        ? { statusType: 'FAILED', failureDetails: { errorMessage: input.errorMessage ?? '' } }
        : { statusType: input.statusType };
    message.updatedAt = new Date().toISOString();
    return message;
  }

  /** A rep replies from the inbox: stores the OUTGOING message and fires OUTGOING_CHANNEL_MESSAGE_CREATED. */
  agentReply(
    threadId: string,
    reply: { userId: number; text: string; richText?: string },
    files: readonly ReplyFile[] = [],
  ): StoredMessage {
    const thread = this.messages.thread(threadId);
    if (thread === undefined) {
      throw HubSpotError.notFound(`Thread ${threadId} not found`);
    }
    const channel = this.channels.get(thread.channelId);
    if (channel === undefined || !effectiveCapabilities(channel.capabilities).allowOutgoingMessages) {
      throw invalidInput([
        detail(
          `Channel ${thread.channelId} does not allow outgoing messages`,
          'INVALID_VALUE',
          'body',
          'channelId',
        ),
      ]);
    }
    const user = this.portals.get(thread.portalId)?.users.find((candidate) => candidate.id === reply.userId);
    if (user === undefined) {
      throw invalidInput([
        detail(
          `Invalid value for field "userId": user ${reply.userId} not in portal ${thread.portalId}`,
          'INVALID_VALUE',
          'body',
          'userId',
        ),
      ]);
    }
    const fileProblems = outgoingFileProblems(files, effectiveCapabilities(channel.capabilities));
    if (fileProblems.length > 0) {
      throw invalidInput(fileProblems);
    }
    const account = this.accounts.get(thread.channelAccountId);
    const history = this.messages.threadMessages(thread.id);
    const lastIncoming = history.filter((message) => message.direction === 'INCOMING').at(-1);
    const now = new Date().toISOString();
    const message = this.messages.saveMessage({
      id: this.messageId(),
      portalId: thread.portalId,
      channelId: thread.channelId,
      channelAccountId: thread.channelAccountId,
      conversationsThreadId: thread.id,
      direction: 'OUTGOING',
      text: reply.text,
      ...(reply.richText === undefined ? {} : { richText: reply.richText }),
      senders: [
        {
          actorId: `A-${user.id}`,
          name: [user.firstName, user.lastName].filter(Boolean).join(' ') || user.email,
          ...(account?.deliveryIdentifier === undefined
            ? {}
            : { deliveryIdentifier: account.deliveryIdentifier }),
        } as Participant,
      ],
      recipients: lastIncoming?.senders ?? [],
      attachments: files.map((file) => file.attachment),
      createdAt: now,
      updatedAt: now,
      createdBy: `A-${user.id}`,
      clientType: 'HUBSPOT',
      ...(lastIncoming === undefined ? {} : { inReplyToId: lastIncoming.id }),
      status: { statusType: 'SENT' },
    });
    this.events.outgoingMessage(message, thread);
    this.conversationEvents.newMessage(thread, message.id);
    return message;
  }

  private assertPublishable(
    egg: MessageEgg,
    account: ChannelAccount,
    capabilities: EffectiveCapabilities,
  ): void {
    const errors: HubSpotErrorDetail[] = [];
    if (!account.authorized || !account.active) {
      errors.push(
        detail(
          `Invalid value for field "channelAccountId": channel account ${account.id} is not authorized or not active`,
          'INVALID_VALUE',
          'body',
          'channelAccountId',
        ),
      );
    }
    for (const side of ['senders', 'recipients'] as const) {
      egg[side].forEach((participant, index) => {
        const problem = deliveryIdentifierProblem(
          participant.deliveryIdentifier,
          capabilities.deliveryIdentifierTypes,
        );
        if (problem !== undefined) {
          const field = `${side}.${index}.deliveryIdentifier`;
          errors.push(
            detail(
              `Invalid delivery identifier in field "${field}": ${problem}`,
              'INVALID_DELIVERY_IDENTIFIER',
              'body',
              field,
            ),
          );
        }
      });
    }
    if (capabilities.threadingModel === 'INTEGRATION_THREAD_ID' && egg.integrationThreadId === undefined) {
      errors.push(
        detail(
          'Missing required field "integrationThreadId" (the channel threads by INTEGRATION_THREAD_ID)',
          'MISSING_REQUIRED_FIELD',
          'body',
          'integrationThreadId',
        ),
      );
    }
    const files = egg.attachments.filter((attachment) => attachment.type === 'FILE').length;
    if (files > capabilities.maxFileAttachmentCount) {
      errors.push(
        detail(
          `Field "attachments" holds ${files} FILE attachment(s); the channel's maxFileAttachmentCount is ${capabilities.maxFileAttachmentCount}`,
          'CAPABILITY_EXCEEDED',
          'body',
          'attachments',
        ),
      );
    }
    if (egg.messageDirection === 'OUTGOING') {
      egg.attachments.forEach((attachment, index) => {
        if (
          (attachment.type === 'FILE' || attachment.type === 'QUICK_REPLIES') &&
          !capabilities.outgoingAttachmentTypes.includes(attachment.type)
        ) {
          const field = `attachments.${index}.type`;
          errors.push(
            detail(
              `Field "${field}": the channel does not declare ${attachment.type} in outgoingAttachmentTypes`,
              'CAPABILITY_NOT_DECLARED',
              'body',
              field,
            ),
          );
        }
      });
      if (egg.recipients.length > 1 && !capabilities.allowMultipleRecipients) {
        errors.push(
          detail(
            'Field "recipients" holds several recipients but the channel does not allowMultipleRecipients',
            'CAPABILITY_NOT_DECLARED',
            'body',
            'recipients',
          ),
        );
      }
    }
    this.assertFiles(egg, account.portalId, capabilities, errors);
    if (
      egg.associateWithContactId !== undefined &&
      this.crm.contact(account.portalId, String(egg.associateWithContactId), 'id') === undefined
    ) {
      errors.push(
        detail(
          `Invalid value for field "associateWithContactId": contact ${egg.associateWithContactId} not found`,
          'INVALID_VALUE',
          'body',
          'associateWithContactId',
        ),
      );
    }
    if (
      egg.inReplyToId !== undefined &&
      this.messages.message(egg.inReplyToId)?.channelAccountId !== account.id
    ) {
      errors.push(
        detail(
          `Invalid value for field "inReplyToId": message ${egg.inReplyToId} not found on this channel account`,
          'INVALID_VALUE',
          'body',
          'inReplyToId',
        ),
      );
    }
    if (errors.length > 0) {
      throw invalidInput(errors);
    }
  }

  /** FILE attachments name live files of the portal within the channel's size limits (§1.4, §5.1). */
  private assertFiles(
    egg: MessageEgg,
    portalId: number,
    capabilities: EffectiveCapabilities,
    errors: HubSpotErrorDetail[],
  ): void {
    let total = 0;
    egg.attachments.forEach((attachment, index) => {
      if (attachment.type !== 'FILE') {
        return;
      }
      const field = `attachments.${index}.fileId`;
      const file = this.files.file(portalId, attachment.fileId);
      if (file === undefined) {
        errors.push(
          detail(
            `Invalid value for field "${field}": file ${attachment.fileId} not found`,
            'INVALID_VALUE',
            'body',
            field,
          ),
        );
        return;
      }
      total += file.size;
      if (file.size > capabilities.maxFileAttachmentSizeBytes) {
        errors.push(
          detail(
            `Field "${field}": file of ${file.size} bytes exceeds the channel's maxFileAttachmentSizeBytes (${capabilities.maxFileAttachmentSizeBytes})`,
            'CAPABILITY_EXCEEDED',
            'body',
            field,
          ),
        );
      }
    });
    if (total > capabilities.maxTotalFileAttachmentSizeBytes) {
      errors.push(
        detail(
          `Field "attachments": files total ${total} bytes, over the channel's maxTotalFileAttachmentSizeBytes (${capabilities.maxTotalFileAttachmentSizeBytes})`,
          'CAPABILITY_EXCEEDED',
          'body',
          'attachments',
        ),
      );
    }
  }

  /** `associateWithContactId`, else a contact whose email or phone matches a sender (§3.3). */
  private contactFor(portalId: number, egg: MessageEgg): string | undefined {
    if (egg.associateWithContactId !== undefined) {
      return String(egg.associateWithContactId);
    }
    for (const sender of egg.senders) {
      const contact = this.crm.contactByIdentifier(
        portalId,
        sender.deliveryIdentifier.type,
        sender.deliveryIdentifier.value,
      );
      if (contact !== undefined) {
        return contact.id;
      }
    }
    return undefined;
  }

  private resolveThread(
    egg: MessageEgg,
    account: ChannelAccount,
    capabilities: EffectiveCapabilities,
  ): Thread {
    const byId =
      egg.integrationThreadId === undefined
        ? undefined
        : this.messages.threadByIntegrationId(account.id, egg.integrationThreadId);
    if (capabilities.threadingModel === 'INTEGRATION_THREAD_ID') {
      return byId ?? this.newThread(account, egg.integrationThreadId ?? '');
    }
    if (byId?.status === 'OPEN') {
      return byId;
    }
    if (byId === undefined && egg.integrationThreadId !== undefined) {
      return this.newThread(account, egg.integrationThreadId);
    }
    // HubSpot-managed threading starts a new thread once the previous one is closed (§3.1); passing back a
    // closed thread's id does not reopen it (assumption, §9.5): the message threads as if no id had come.
    const external = egg.messageDirection === 'INCOMING' ? egg.senders : egg.recipients;
    const participantKey = external
      .map((participant) => `${participant.deliveryIdentifier.type}:${participant.deliveryIdentifier.value}`)
      .sort()
      .join('|');
    const open = this.messages.openThreadByParticipants(account.id, participantKey);
    return open ?? this.newThread(account, undefined, participantKey);
  }

  private newThread(
    account: ChannelAccount,
    integrationThreadId: string | undefined,
    participantKey?: string,
  ): Thread {
    const id = String(this.ids.nextUnique());
    const thread = this.messages.saveThread({
      id,
      portalId: account.portalId,
      channelId: account.channelId,
      channelAccountId: account.id,
      inboxId: account.inboxId,
      integrationThreadId: integrationThreadId ?? `hs-thread-${id}`,
      ...(participantKey === undefined ? {} : { participantKey }),
      status: 'OPEN',
      createdAt: new Date().toISOString(),
      archived: false,
      ...(this.portals.get(account.portalId)?.inboxes.find((inbox) => inbox.id === account.inboxId)?.type ===
      'HELP_DESK'
        ? {
            associatedTicketId: this.crm.createTicket(account.portalId, `Conversation with ${account.name}`)
              .id,
          }
        : {}),
    });
    this.conversationEvents.threadCreated(thread);
    return thread;
  }

  /** Visitors (`V-…`) for the external side, the integration (`I-<appId>`) for OUTGOING senders. */
  private participant(
    portalId: number,
    participant: MessageEgg['senders'][number],
    external: boolean,
    appId: number,
  ): Participant {
    let actorId = `I-${appId}`;
    if (external) {
      const key = `${portalId}|${participant.deliveryIdentifier.type}|${participant.deliveryIdentifier.value}`;
      let visitor = this.visitors.get(key);
      if (visitor === undefined) {
        visitor = this.ids.next('visitor', 90_000_001);
        this.visitors.set(key, visitor);
      }
      actorId = `V-${visitor}`;
    }
    return {
      actorId,
      deliveryIdentifier: participant.deliveryIdentifier,
      ...(participant.name === undefined ? {} : { name: participant.name }),
    };
  }

  private messageId(): string {
    return this.ids
      .token('')
      .replace(/[^a-zA-Z0-9]/g, '')
      .slice(0, 32);
  }

  reset(): void {
    this.visitors.clear();
  }
}

export function toPublicMessage(message: StoredMessage): Record<string, unknown> {
  return {
    id: message.id,
    type: 'MESSAGE',
    conversationsThreadId: message.conversationsThreadId,
    channelId: message.channelId,
    channelAccountId: message.channelAccountId,
    createdAt: message.createdAt,
    updatedAt: message.updatedAt,
    createdBy: message.createdBy,
    archived: false,
    direction: message.direction,
    text: message.text,
    ...(message.richText === undefined ? {} : { richText: message.richText }),
    truncationStatus: 'NOT_TRUNCATED',
    ...(message.inReplyToId === undefined ? {} : { inReplyToId: message.inReplyToId }),
    attachments: message.attachments,
    senders: message.senders,
    recipients: message.recipients,
    client: {
      clientType: message.clientType,
      ...(message.integrationAppId === undefined ? {} : { integrationAppId: message.integrationAppId }),
    },
    status: message.status,
  };
}
