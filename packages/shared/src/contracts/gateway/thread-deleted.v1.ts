import { z } from 'zod';
import { channelAccountIdSchema, conversationKeySchema, hubspotThreadIdSchema } from '../conversation.js';

/**
 * A HubSpot thread was deleted: by an agent (`conversation.deletion`) or by a GDPR privacy deletion of its
 * contact (`conversation.privacyDeletion`, `privacy: true`). The gateway has already forgotten the thread; every
 * consumer forgets what it keeps about it (the router frees its agent slot and deletes its row and audit).
 * Routing key `gateway.thread.deleted.v1`. Ordered per `hubspotThreadId`, like every routing message.
 */
/** How many conversations one `gateway.thread.deleted.v1` names at most. */
export const THREAD_DELETED_MAX_CONVERSATIONS = 100;

export const gatewayThreadDeletedV1Schema = z.strictObject({
  hubspotThreadId: hubspotThreadIdSchema,
  /** A privacy deletion (GDPR) rather than an agent deleting the thread. */
  privacy: z.boolean(),
  /**
   * The provider conversations the gateway had published into the thread (empty when it knew none), so the
   * connector can forget its own per-conversation records.
   */
  conversations: z
    .array(
      z.strictObject({ channelAccountId: channelAccountIdSchema, conversationKey: conversationKeySchema }),
    )
    .max(THREAD_DELETED_MAX_CONVERSATIONS),
});

export type GatewayThreadDeletedV1 = z.infer<typeof gatewayThreadDeletedV1Schema>;
