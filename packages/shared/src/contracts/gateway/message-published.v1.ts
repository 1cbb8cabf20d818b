import { z } from 'zod';
import { isoDateTimeSchema } from '../common.js';
import {
  channelAccountIdSchema,
  conversationKeySchema,
  hubspotMessageIdSchema,
  hubspotThreadIdSchema,
  providerMessageIdSchema,
} from '../conversation.js';

/**
 * A customer message (a `provider.message.received.v1`) now published into HubSpot.
 * Routing key `gateway.message.published.v1`. Ordered per `channelAccountId:conversationKey`.
 */
export const gatewayMessagePublishedV1Schema = z.strictObject({
  channelAccountId: channelAccountIdSchema,
  conversationKey: conversationKeySchema,
  providerMessageId: providerMessageIdSchema,
  /** Id HubSpot gave the published message. */
  hubspotMessageId: hubspotMessageIdSchema,
  /** HubSpot conversations thread the message landed in (new or existing). */
  hubspotThreadId: hubspotThreadIdSchema,
  /** When HubSpot accepted the message (ISO-8601). */
  publishedAt: isoDateTimeSchema,
});

export type GatewayMessagePublishedV1 = z.infer<typeof gatewayMessagePublishedV1Schema>;
