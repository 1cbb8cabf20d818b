import { z } from 'zod';
import { ContractLimits, idSchema } from './common.js';

/**
 * The HubSpot channel account id (int64 as a string, the `channelAccountId` of HubSpot's custom-channel
 * APIs and webhooks): one connected Telegram bot, Twilio number or webhook endpoint.
 */
export const channelAccountIdSchema = idSchema;

/**
 * The provider-side conversation id within a channel account (Telegram `chat.id`, the customer's E.164
 * number for Twilio, the webhook's conversation id). Sent to HubSpot as `integrationThreadId`.
 */
export const conversationKeySchema = z
  .string()
  .min(1)
  .max(ContractLimits.idLength)
  .regex(/^[^\s\p{Cc}]+$/u, 'must not contain whitespace');

/** HubSpot conversations thread id (`conversationsThreadId`). */
export const hubspotThreadIdSchema = idSchema;

/** HubSpot message id (`message.id` of a custom-channel message). */
export const hubspotMessageIdSchema = idSchema;

/** The provider's own message id (Telegram `message_id`, Twilio `SM…`/`MM…` SID). */
export const providerMessageIdSchema = idSchema;

/** HubSpot actor id: `A-<userId>` for users (reps), `V-<id>` for visitors, other prefixes for bots/system. */
export const hubspotActorIdSchema = z
  .string()
  .max(64)
  .regex(/^[A-Z]{1,3}-[A-Za-z0-9_-]+$/, 'must be a HubSpot actor id such as A-123');

/** Ordering key of conversation-scoped messages. */
export function conversationOrderingKey(p: { channelAccountId: string; conversationKey: string }): string {
  return `${p.channelAccountId}:${p.conversationKey}`;
}
