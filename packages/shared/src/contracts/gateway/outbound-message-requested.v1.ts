import { z } from 'zod';
import {
  ContractLimits,
  deliveryIdentifierSchema,
  downloadRefSchema,
  fileNameSchema,
  isoDateTimeSchema,
  mediaKindSchema,
  messageTextSchema,
  mimeTypeSchema,
  shortTextSchema,
  sizeBytesSchema,
} from '../common.js';
import {
  channelAccountIdSchema,
  conversationKeySchema,
  hubspotActorIdSchema,
  hubspotMessageIdSchema,
  hubspotThreadIdSchema,
  providerMessageIdSchema,
} from '../conversation.js';

/** A file attached by the rep; the connector fetches it through the gateway and sends it to the provider. */
export const outboundAttachmentSchema = z.strictObject({
  /** image, audio, voice-note, video, file or sticker, from HubSpot's `fileUsageType` and the MIME type. */
  kind: mediaKindSchema,
  /** Opaque reference the connector resolves through the gateway (a HubSpot file); never a raw URL. */
  downloadRef: downloadRefSchema,
  mimeType: mimeTypeSchema,
  fileName: fileNameSchema.optional(),
  /** Size in bytes, when HubSpot reports it. */
  sizeBytes: sizeBytesSchema.optional(),
});
export type OutboundAttachment = z.infer<typeof outboundAttachmentSchema>;

/**
 * Command to the connector: send a rep's reply (HubSpot `OUTGOING_CHANNEL_MESSAGE_CREATED`) to the customer
 * through the provider. Routing key `gateway.outbound-message.requested.v1`. Ordered per
 * `channelAccountId:conversationKey`. The connector answers with `connector.delivery.status-changed.v1`.
 */
export const gatewayOutboundMessageRequestedV1Schema = z
  .strictObject({
    channelAccountId: channelAccountIdSchema,
    /** HubSpot message id of the reply; the key of the delivery status reported back. */
    hubspotMessageId: hubspotMessageIdSchema,
    hubspotThreadId: hubspotThreadIdSchema,
    /** Provider conversation to send into (from `channelIntegrationThreadIds[0]` or the recipient). */
    conversationKey: conversationKeySchema,
    recipient: z.strictObject({
      /** The customer's address as HubSpot knows it (`recipients[0].deliveryIdentifier`). */
      deliveryIdentifier: deliveryIdentifierSchema,
    }),
    /** HubSpot actor id of the rep who sent the reply, e.g. `A-123` (the HubSpot user id prefixed). */
    senderActorId: hubspotActorIdSchema.optional(),
    /** Rep's display name, for providers that show it. */
    senderName: shortTextSchema.optional(),
    /** Plain text. */
    text: messageTextSchema.optional(),
    /** HubSpot rich text (HTML); the connector converts or strips it per provider. */
    richText: messageTextSchema.optional(),
    attachments: z.array(outboundAttachmentSchema).max(ContractLimits.attachments),
    /** Provider id of the customer message this reply answers (from HubSpot `inReplyToId`). */
    inReplyToProviderMessageId: providerMessageIdSchema.optional(),
    /** When the rep pressed Send (HubSpot `createdAt`, ISO-8601). */
    requestedAt: isoDateTimeSchema,
  })
  .superRefine((message, ctx) => {
    const hasText = [message.text, message.richText].some((t) => t !== undefined && t.trim() !== '');
    if (!hasText && message.attachments.length === 0) {
      ctx.addIssue({
        code: 'custom',
        path: ['text'],
        message: 'an outbound message needs text, rich text or at least one attachment',
      });
    }
  });

export type GatewayOutboundMessageRequestedV1 = z.infer<typeof gatewayOutboundMessageRequestedV1Schema>;
