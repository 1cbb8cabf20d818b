import { z } from 'zod';
import { idSchema, shortTextSchema } from '../common.js';
import { channelAccountIdSchema, hubspotThreadIdSchema } from '../conversation.js';

export const assigneeSchema = z.discriminatedUnion('type', [
  z.strictObject({
    type: z.literal('user'),
    /** HubSpot user id (not owner id); the thread assignee becomes actor `A-<userId>`. */
    userId: idSchema,
  }),
  z.strictObject({ type: z.literal('unassign') }),
]);
export type Assignee = z.infer<typeof assigneeSchema>;

/**
 * Command to the gateway: assign (or unassign) a HubSpot thread as the router decided. The gateway answers
 * with `gateway.assignment.applied.v1` or `gateway.assignment.failed.v1`.
 * Routing key `router.assignment.requested.v1`. Ordered per `hubspotThreadId`.
 */
export const routerAssignmentRequestedV1Schema = z.strictObject({
  hubspotThreadId: hubspotThreadIdSchema,
  channelAccountId: channelAccountIdSchema,
  assignee: assigneeSchema,
  /** Human-readable explanation for the audit trail, e.g. "round robin in team Support". */
  reason: shortTextSchema,
  /** UUID of the router's decision; echoed in the outcome. */
  decisionId: z.uuid(),
});

export type RouterAssignmentRequestedV1 = z.infer<typeof routerAssignmentRequestedV1Schema>;
