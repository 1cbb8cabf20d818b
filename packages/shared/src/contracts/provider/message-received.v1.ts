import { z } from 'zod';
import {
  ContractLimits,
  downloadRefSchema,
  e164Schema,
  emailSchema,
  fileNameSchema,
  isoDateTimeSchema,
  messageTextSchema,
  mimeTypeSchema,
  providerSchema,
  shortTextSchema,
  sizeBytesSchema,
} from '../common.js';
import { channelAccountIdSchema, conversationKeySchema, providerMessageIdSchema } from '../conversation.js';

/** A media file received from the provider; the gateway downloads it and uploads it to HubSpot Files. */
export const receivedMediaSchema = z.strictObject({
  /** Opaque reference the gateway resolves through the connector; never a raw provider URL. */
  downloadRef: downloadRefSchema,
  mimeType: mimeTypeSchema,
  fileName: fileNameSchema.optional(),
  /** Size in bytes, when the provider reports it. */
  sizeBytes: sizeBytesSchema.optional(),
  /** Playback length in seconds (audio, voice notes, video). */
  durationSeconds: z.number().nonnegative().max(86_400).optional(),
  /** Pixel width (images, stickers, video). */
  width: z.number().int().positive().max(100_000).optional(),
  /** Pixel height (images, stickers, video). */
  height: z.number().int().positive().max(100_000).optional(),
});
export type ReceivedMedia = z.infer<typeof receivedMediaSchema>;

const caption = z
  .string()
  .max(ContractLimits.shortTextLength * 4)
  .optional();

function mediaAttachment<const K extends string>(kind: K) {
  return z.strictObject({ kind: z.literal(kind), media: receivedMediaSchema, caption });
}

/** HubSpot `LOCATION` attachment. */
export const locationAttachmentSchema = z.strictObject({
  kind: z.literal('location'),
  /** Decimal degrees, WGS 84. */
  latitude: z.number().min(-90).max(90),
  /** Decimal degrees, WGS 84. */
  longitude: z.number().min(-180).max(180),
  /** Place name, e.g. a venue title. */
  name: shortTextSchema.optional(),
  address: shortTextSchema.optional(),
});

/** HubSpot `CONTACT` attachment (a shared vCard or phone contact). */
export const contactCardAttachmentSchema = z.strictObject({
  kind: z.literal('contact-card'),
  name: shortTextSchema,
  organization: shortTextSchema.optional(),
  /** As shared by the customer; not necessarily E.164. */
  phoneNumbers: z.array(z.string().min(1).max(64)).max(20),
  emails: z.array(emailSchema).max(20).optional(),
  urls: z.array(z.url().max(2_048)).max(20).optional(),
});

/** HubSpot `QUICK_REPLIES` attachment: suggested answers (buttons) sent with the message. */
export const quickRepliesAttachmentSchema = z.strictObject({
  kind: z.literal('quick-replies'),
  options: z
    .array(
      z.strictObject({
        /** Text shown on the button. */
        label: shortTextSchema,
        /** Text sent back when chosen, or a URL. */
        value: shortTextSchema,
      }),
    )
    .min(1)
    .max(20),
});

/** HubSpot `UNSUPPORTED_CONTENT` attachment: content the bridge cannot carry, never silently dropped. */
export const unsupportedAttachmentSchema = z.strictObject({
  kind: z.literal('unsupported'),
  /** Readable text shown to the agent, e.g. "The customer sent a poll (not supported)". */
  description: shortTextSchema,
});

export const receivedAttachmentSchema = z.discriminatedUnion('kind', [
  mediaAttachment('image'),
  mediaAttachment('audio'),
  mediaAttachment('voice-note'),
  mediaAttachment('sticker'),
  mediaAttachment('video'),
  mediaAttachment('file'),
  locationAttachmentSchema,
  contactCardAttachmentSchema,
  quickRepliesAttachmentSchema,
  unsupportedAttachmentSchema,
]);
export type ReceivedAttachment = z.infer<typeof receivedAttachmentSchema>;
export type ReceivedAttachmentKind = ReceivedAttachment['kind'];

/** The customer who sent the message, as the provider identifies them. */
export const providerSenderSchema = z.strictObject({
  /** Provider user id (Telegram `from.id`, the sender's E.164 number for Twilio). */
  id: z.string().min(1).max(ContractLimits.idLength),
  /** Display name, e.g. Telegram first + last name. */
  name: shortTextSchema.optional(),
  phoneNumber: e164Schema.optional(),
  email: emailSchema.optional(),
  /** Provider handle without `@`, e.g. a Telegram username. */
  username: z.string().min(1).max(256).optional(),
});
export type ProviderSender = z.infer<typeof providerSenderSchema>;

/**
 * A customer message received by the connector from a provider, to be published into HubSpot by the gateway.
 * Routing key `provider.message.received.v1`. Ordered per `channelAccountId:conversationKey`.
 */
export const providerMessageReceivedV1Schema = z
  .strictObject({
    provider: providerSchema,
    channelAccountId: channelAccountIdSchema,
    conversationKey: conversationKeySchema,
    sender: providerSenderSchema,
    /** Unique per channel account; sent to HubSpot as `integrationIdempotencyId`. */
    providerMessageId: providerMessageIdSchema,
    /** When the customer sent the message, per the provider (ISO-8601). Sent to HubSpot as `timestamp`. */
    sentAt: isoDateTimeSchema,
    text: messageTextSchema.optional(),
    /** providerMessageId of the earlier message (either direction) this one quotes or replies to. */
    replyToProviderMessageId: providerMessageIdSchema.optional(),
    /**
     * True when this is a new version of an earlier message with the same providerMessageId (Telegram
     * `edited_message`). Consumers must not drop it as a duplicate of the original.
     */
    edited: z.boolean().optional(),
    attachments: z.array(receivedAttachmentSchema).max(ContractLimits.attachments),
  })
  .superRefine((message, ctx) => {
    const hasText = message.text !== undefined && message.text.trim() !== '';
    if (!hasText && message.attachments.length === 0) {
      ctx.addIssue({
        code: 'custom',
        path: ['text'],
        message: 'a message needs non-blank text or at least one attachment',
      });
    }
  });

export type ProviderMessageReceivedV1 = z.infer<typeof providerMessageReceivedV1Schema>;
