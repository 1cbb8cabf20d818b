import { z } from 'zod';
import { idSchema, isoDateTimeSchema } from '../common.js';
import { hubspotThreadIdSchema } from '../conversation.js';

/**
 * The gateway carried out a `router.assignment.requested.v1`.
 * Routing key `gateway.assignment.applied.v1`. Ordered per `hubspotThreadId`.
 */
export const gatewayAssignmentAppliedV1Schema = z.strictObject({
  /** decisionId of the request. */
  decisionId: z.uuid(),
  hubspotThreadId: hubspotThreadIdSchema,
  /** HubSpot user id now assigned; absent when the thread was unassigned. */
  userId: idSchema.optional(),
  /** When HubSpot accepted the assignment (ISO-8601). */
  appliedAt: isoDateTimeSchema,
});

export type GatewayAssignmentAppliedV1 = z.infer<typeof gatewayAssignmentAppliedV1Schema>;
