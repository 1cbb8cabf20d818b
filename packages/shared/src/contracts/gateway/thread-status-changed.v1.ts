import { z } from 'zod';
import { hubspotThreadIdSchema } from '../conversation.js';

export const ThreadStatuses = ['OPEN', 'CLOSED'] as const;
export const threadStatusSchema = z.enum(ThreadStatuses);
export type ThreadStatus = z.infer<typeof threadStatusSchema>;

/**
 * A HubSpot thread was closed or reopened (a person in HubSpot, or a customer writing to a closed thread).
 * The router frees the assignee's capacity on close. Routing key `gateway.thread.status-changed.v1`.
 * Ordered per `hubspotThreadId`, like every routing message.
 */
export const gatewayThreadStatusChangedV1Schema = z.strictObject({
  hubspotThreadId: hubspotThreadIdSchema,
  status: threadStatusSchema,
  /** When HubSpot recorded the change (ISO-8601). */
  occurredAt: z.iso.datetime({ offset: true }),
});

export type GatewayThreadStatusChangedV1 = z.infer<typeof gatewayThreadStatusChangedV1Schema>;
