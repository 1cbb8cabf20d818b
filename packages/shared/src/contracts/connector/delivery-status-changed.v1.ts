import { z } from 'zod';
import { isoDateTimeSchema, shortTextSchema } from '../common.js';
import { channelAccountIdSchema, hubspotMessageIdSchema, providerMessageIdSchema } from '../conversation.js';

/** HubSpot's writable message status values (`statusType`). */
export const DeliveryStatuses = ['SENT', 'FAILED', 'READ'] as const;
export const deliveryStatusSchema = z.enum(DeliveryStatuses);
export type DeliveryStatus = z.infer<typeof deliveryStatusSchema>;

/**
 * The delivery result of a rep's reply, to be written back to the HubSpot message by the gateway.
 * Routing key `connector.delivery.status-changed.v1`. Ordered per `channelAccountId:hubspotMessageId`.
 */
export const connectorDeliveryStatusChangedV1Schema = z
  .strictObject({
    channelAccountId: channelAccountIdSchema,
    /** The HubSpot message whose status changed (from `gateway.outbound-message.requested.v1`). */
    hubspotMessageId: hubspotMessageIdSchema,
    /** The provider's id of the sent message, once it has one. */
    providerMessageId: providerMessageIdSchema.optional(),
    status: deliveryStatusSchema,
    /** Human-readable reason shown to the rep (HubSpot `errorMessage`); required when FAILED. */
    failureReason: shortTextSchema.optional(),
    /** Provider error code for diagnostics, e.g. Twilio `30003` or Telegram `403`. */
    providerErrorCode: z.string().min(1).max(64).optional(),
    /** When the provider reported the status (ISO-8601). */
    occurredAt: isoDateTimeSchema,
  })
  .superRefine((status, ctx) => {
    if (status.status === 'FAILED' && status.failureReason === undefined) {
      ctx.addIssue({ code: 'custom', path: ['failureReason'], message: 'required when status is FAILED' });
    }
  });

export type ConnectorDeliveryStatusChangedV1 = z.infer<typeof connectorDeliveryStatusChangedV1Schema>;
