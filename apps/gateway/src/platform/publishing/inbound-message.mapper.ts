import type {
  DeliveryIdentifier,
  DeliveryIdentifierType,
  ProviderMessageReceivedV1,
  ProviderSender,
  ReceivedAttachment,
} from '@inbox-bridge/shared';
import { createHash } from 'node:crypto';

export type FileUsageType = 'IMAGE' | 'AUDIO' | 'VOICE_RECORDING' | 'STICKER' | 'OTHER';

export type HubSpotAttachment =
  | { readonly type: 'FILE'; readonly fileId: string; readonly fileUsageType: FileUsageType }
  | {
      readonly type: 'LOCATION';
      readonly latitude: number;
      readonly longitude: number;
      readonly name?: string;
      readonly address?: string;
    }
  | { readonly type: 'CONTACT'; readonly contactProfile: Record<string, unknown> }
  | {
      readonly type: 'QUICK_REPLIES';
      readonly quickReplies: readonly { value: string; valueType: 'TEXT' | 'URL'; label: string }[];
    }
  | { readonly type: 'UNSUPPORTED_CONTENT' };

export const FILE_USAGE: Readonly<Record<string, FileUsageType>> = {
  image: 'IMAGE',
  audio: 'AUDIO',
  'voice-note': 'VOICE_RECORDING',
  sticker: 'STICKER',
  video: 'OTHER',
  file: 'OTHER',
};

export type MediaAttachment = Extract<ReceivedAttachment, { media: unknown }>;

export function isMediaAttachment(attachment: ReceivedAttachment): attachment is MediaAttachment {
  return 'media' in attachment;
}

/**
 * The `integrationIdempotencyId`: the provider message id, or for an edit a suffix derived from the new
 * content, so HubSpot does not drop the edit as a duplicate of the original (and a redelivered edit stays
 * idempotent).
 */
export function idempotencyIdOf(message: ProviderMessageReceivedV1): string {
  if (message.edited !== true) {
    return message.providerMessageId;
  }
  const digest = createHash('sha256')
    .update(JSON.stringify([message.text ?? '', message.attachments]))
    .digest('hex')
    .slice(0, 16);
  return `${message.providerMessageId}:edit:${digest}`;
}

/**
 * The customer's delivery identifier (cross-service agreement): phone → HS_PHONE_NUMBER, else email →
 * HS_EMAIL_ADDRESS, else CHANNEL_SPECIFIC_OPAQUE_ID with the provider's user id; a type the channel does not
 * declare falls through to the next.
 */
export function senderIdentifier(
  sender: ProviderSender,
  declared: readonly DeliveryIdentifierType[],
): DeliveryIdentifier {
  if (sender.phoneNumber !== undefined && declared.includes('HS_PHONE_NUMBER')) {
    return { type: 'HS_PHONE_NUMBER', value: sender.phoneNumber };
  }
  if (sender.email !== undefined && declared.includes('HS_EMAIL_ADDRESS')) {
    return { type: 'HS_EMAIL_ADDRESS', value: sender.email };
  }
  return { type: 'CHANNEL_SPECIFIC_OPAQUE_ID', value: sender.id };
}

export interface ResolvedMedia {
  /** The uploaded File Manager id, or why the file could not be carried (shown to the agent). */
  readonly fileId?: string;
  readonly unavailable?: string;
}

/** HubSpot attachments and the text notes (captions, placeholders) that go with them, in the customer's order. */
export function buildAttachments(
  attachments: readonly ReceivedAttachment[],
  media: ReadonlyMap<number, ResolvedMedia>,
): { attachments: HubSpotAttachment[]; notes: string[] } {
  const result: HubSpotAttachment[] = [];
  const notes: string[] = [];
  attachments.forEach((attachment, index) => {
    if (isMediaAttachment(attachment)) {
      const resolved = media.get(index);
      if (resolved?.fileId !== undefined) {
        result.push({
          type: 'FILE',
          fileId: resolved.fileId,
          fileUsageType: FILE_USAGE[attachment.kind] ?? 'OTHER',
        });
      } else {
        result.push({ type: 'UNSUPPORTED_CONTENT' });
        notes.push(
          `[${attachment.kind}${attachment.media.fileName === undefined ? '' : ` ${attachment.media.fileName}`}: ${resolved?.unavailable ?? 'not available'}]`,
        );
      }
      if (attachment.caption !== undefined && attachment.caption.trim() !== '') {
        notes.push(attachment.caption);
      }
      return;
    }
    switch (attachment.kind) {
      case 'location':
        result.push({
          type: 'LOCATION',
          latitude: attachment.latitude,
          longitude: attachment.longitude,
          ...(attachment.name === undefined ? {} : { name: attachment.name }),
          ...(attachment.address === undefined ? {} : { address: attachment.address }),
        });
        return;
      case 'contact-card':
        result.push({
          type: 'CONTACT',
          contactProfile: {
            name: attachment.name,
            ...(attachment.organization === undefined ? {} : { org: attachment.organization }),
            phones: attachment.phoneNumbers.map((phone) => ({ phone, type: 'CELL' })),
            ...(attachment.emails === undefined
              ? {}
              : { emails: attachment.emails.map((email) => ({ email, type: 'HOME' })) }),
            ...(attachment.urls === undefined ? {} : { urls: attachment.urls.map((url) => ({ url })) }),
          },
        });
        return;
      case 'quick-replies':
        result.push({
          type: 'QUICK_REPLIES',
          quickReplies: attachment.options.map((option) => ({
            value: option.value,
            valueType: /^https?:\/\//i.test(option.value) ? 'URL' : 'TEXT',
            label: option.label,
          })),
        });
        return;
      case 'unsupported':
        result.push({ type: 'UNSUPPORTED_CONTENT' });
        notes.push(`[${attachment.description}]`);
        return;
    }
  });
  return { attachments: result, notes };
}

export interface PublishBodyInput {
  readonly message: ProviderMessageReceivedV1;
  readonly channelAccountId: string;
  readonly accountIdentifier: DeliveryIdentifier;
  readonly declaredTypes: readonly DeliveryIdentifierType[];
  readonly threadingModel: 'INTEGRATION_THREAD_ID' | 'DELIVERY_IDENTIFIER';
  /** Under DELIVERY_IDENTIFIER: the HubSpot-generated thread id learnt from an earlier reply, if any. */
  readonly knownIntegrationThreadId?: string | undefined;
  readonly media: ReadonlyMap<number, ResolvedMedia>;
  readonly contactId?: string | undefined;
  readonly inReplyToHubSpotMessageId?: string | undefined;
}

/** `ChannelIntegrationMessageEgg` (hubspot-api.md §1.7) for one customer message. */
export function buildPublishBody(input: PublishBodyInput): Record<string, unknown> {
  const { message } = input;
  const { attachments, notes } = buildAttachments(message.attachments, input.media);
  const baseText = message.text ?? '';
  const text = [message.edited === true ? `(edited) ${baseText}`.trim() : baseText, ...notes]
    .filter((part) => part !== '')
    .join('\n');
  const integrationThreadId =
    input.threadingModel === 'INTEGRATION_THREAD_ID'
      ? message.conversationKey
      : input.knownIntegrationThreadId;
  return {
    channelAccountId: input.channelAccountId,
    messageDirection: 'INCOMING',
    text,
    senders: [
      {
        deliveryIdentifier: senderIdentifier(message.sender, input.declaredTypes),
        ...(message.sender.name === undefined ? {} : { name: message.sender.name }),
      },
    ],
    recipients: [{ deliveryIdentifier: input.accountIdentifier }],
    timestamp: message.sentAt,
    attachments,
    integrationIdempotencyId: idempotencyIdOf(message),
    ...(integrationThreadId === undefined ? {} : { integrationThreadId }),
    ...(input.inReplyToHubSpotMessageId === undefined
      ? {}
      : { inReplyToId: input.inReplyToHubSpotMessageId }),
    ...(input.contactId === undefined ? {} : { associateWithContactId: Number(input.contactId) }),
  };
}
