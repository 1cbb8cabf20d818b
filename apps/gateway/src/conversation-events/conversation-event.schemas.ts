import { z } from 'zod';
import { epochMillisSchema, portalIdSchema } from '../webhooks/hubspot-webhook.schemas.js';

/**
 * One Webhooks API conversation event (hubspot-api.md §2.6). Lenient on purpose: HubSpot adds fields without
 * notice, and only what the bridge acts on is required.
 */
export const conversationEventSchema = z.looseObject({
  eventId: z.union([z.number().int().nonnegative(), z.string().regex(/^\d{1,20}$/)]),
  portalId: portalIdSchema,
  subscriptionType: z.string().min(1).max(100),
  objectId: z.union([z.number().int().positive(), z.string().regex(/^\d{1,20}$/)]),
  /** Epoch milliseconds; published as an ISO-8601 instant. */
  occurredAt: epochMillisSchema,
  propertyName: z.string().max(100).optional(),
  propertyValue: z.string().max(200).optional(),
});
export type ConversationEvent = z.infer<typeof conversationEventSchema>;

/** `A-<userId>` for an agent; HubSpot sends `""` when the thread was unassigned. */
export function assignedActorOf(event: ConversationEvent): string | null | undefined {
  if (event.subscriptionType !== 'conversation.propertyChange' || event.propertyName !== 'assignedTo') {
    return undefined;
  }
  const value = event.propertyValue?.trim() ?? '';
  if (value === '') {
    return null;
  }
  return /^A-\d{1,20}$/.test(value) ? value : undefined;
}

/** `CLOSED` / `OPEN` from a `status` property change; undefined for every other event. */
export function threadStatusOf(event: ConversationEvent): 'OPEN' | 'CLOSED' | undefined {
  if (event.subscriptionType !== 'conversation.propertyChange' || event.propertyName !== 'status') {
    return undefined;
  }
  return event.propertyValue === 'CLOSED' || event.propertyValue === 'OPEN' ? event.propertyValue : undefined;
}
