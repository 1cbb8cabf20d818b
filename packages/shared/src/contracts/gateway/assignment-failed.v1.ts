import { z } from 'zod';
import { shortTextSchema } from '../common.js';
import { hubspotThreadIdSchema } from '../conversation.js';

/**
 * The gateway could not carry out a `router.assignment.requested.v1`.
 * Routing key `gateway.assignment.failed.v1`. Ordered per `hubspotThreadId`.
 */
export const gatewayAssignmentFailedV1Schema = z.strictObject({
  /** decisionId of the request. */
  decisionId: z.uuid(),
  hubspotThreadId: hubspotThreadIdSchema,
  /** Human-readable cause, e.g. "user 123 has no seat in inbox 456". */
  reason: shortTextSchema,
  /** True when the same request may succeed later (rate limit, HubSpot outage); false to pick someone else. */
  retryable: z.boolean(),
});

export type GatewayAssignmentFailedV1 = z.infer<typeof gatewayAssignmentFailedV1Schema>;
