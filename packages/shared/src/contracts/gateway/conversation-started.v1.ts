import { z } from 'zod';
import { idSchema, isoDateTimeSchema } from '../common.js';
import { channelAccountIdSchema, conversationKeySchema, hubspotThreadIdSchema } from '../conversation.js';

/**
 * A customer message opened a new HubSpot thread: the router decides who gets it.
 * Routing key `gateway.conversation.started.v1`. Ordered per `hubspotThreadId`, like every routing message.
 */
export const gatewayConversationStartedV1Schema = z.strictObject({
  channelAccountId: channelAccountIdSchema,
  /** HubSpot inbox or help-desk id of the channel account. */
  inboxId: idSchema,
  hubspotThreadId: hubspotThreadIdSchema,
  conversationKey: conversationKeySchema,
  /** HubSpot CRM contact id associated with the thread, when known (not a visitor id). */
  contactId: idSchema.optional(),
  /**
   * HubSpot CRM owner id (`hubspot_owner_id`) of that contact, when it has one: the router's contact-owner rule
   * maps it to a user through the roster. Absent when the contact has no owner or is unknown.
   */
  contactOwnerId: idSchema.optional(),
  /** True when this customer had earlier threads on this channel account (for sticky assignment). */
  isReturningCustomer: z.boolean().optional(),
  /** When the thread started: the first message's provider timestamp (ISO-8601). */
  startedAt: isoDateTimeSchema,
});

export type GatewayConversationStartedV1 = z.infer<typeof gatewayConversationStartedV1Schema>;
