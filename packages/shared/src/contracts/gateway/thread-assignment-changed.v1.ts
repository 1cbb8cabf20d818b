import { z } from 'zod';
import { hubspotActorIdSchema, hubspotThreadIdSchema } from '../conversation.js';

/**
 * A HubSpot thread's assignee changed, by a person in HubSpot or by the bridge's own assignment.
 * The router never overrides an assignment made by an agent. Routing key
 * `gateway.thread.assignment-changed.v1`. Ordered per `hubspotThreadId`.
 */
export const gatewayThreadAssignmentChangedV1Schema = z.strictObject({
  hubspotThreadId: hubspotThreadIdSchema,
  /** HubSpot actor id of the new assignee, e.g. `A-123`; null when the thread was unassigned. */
  assignedActorId: hubspotActorIdSchema.nullable(),
  /** True when a person (agent or admin in HubSpot) made the change, false when the bridge did. */
  byAgent: z.boolean(),
});

export type GatewayThreadAssignmentChangedV1 = z.infer<typeof gatewayThreadAssignmentChangedV1Schema>;
