import { THREAD_DELETED_MAX_CONVERSATIONS, type GatewayThreadDeletedV1 } from '@inbox-bridge/shared';
import type { EntityManager } from 'typeorm';
import { IDEMPOTENCY_DIGEST_SQL } from '../platform/publishing/forgotten-messages.js';
import { schemaOfManager } from './bridge-assignment-journal.js';

/** A provider conversation that had been published into the deleted thread, as the contract names it. */
type ForgottenConversation = GatewayThreadDeletedV1['conversations'][number];

/**
 * Forgets what the gateway holds about a HubSpot thread deleted in HubSpot (`conversation.deletion`, or a GDPR
 * `conversation.privacyDeletion`), within the caller's transaction and only among the portal's channel accounts:
 * the customer's address kept with the conversation (`account_conversations`), the thread of the conversation
 * (`conversation_threads`), the message mappings (`published_messages`, pending `uploaded_media`, the reply
 * statuses of the thread's agent replies), the assignment journal and intents; the stored reply webhooks of the
 * thread keep only their dedupe key and the conversation events only their event id.
 *
 * Kept on purpose, without the customer's address or the thread id: a digest of each published message's
 * idempotency id (`forgotten_messages`), so a redelivered customer message is still a duplicate and is not
 * published again into a new thread, and the dedupe keys of HubSpot's webhooks and conversation events, so a
 * redelivered agent reply is not sent to the customer again and a redelivered event is not handled twice.
 */
export async function forgetThread(
  manager: EntityManager,
  portalId: string,
  threadId: string,
): Promise<readonly ForgottenConversation[]> {
  const s = schemaOfManager(manager);
  const accounts = `SELECT channel_account_id FROM "${s}".channel_accounts WHERE portal_id = $1`;
  const conversations = await manager.query<{ channel_account_id: string; conversation_key: string }[]>(
    `SELECT channel_account_id, conversation_key FROM "${s}".conversation_threads
      WHERE hubspot_thread_id = $2 AND channel_account_id IN (${accounts})
     UNION
     SELECT channel_account_id, conversation_key FROM "${s}".published_messages
      WHERE hubspot_thread_id = $2 AND channel_account_id IN (${accounts})
     UNION
     SELECT channel_account_id, conversation_key FROM "${s}".account_conversations
      WHERE hubspot_thread_id = $2 AND channel_account_id IN (${accounts})
     ORDER BY 1, 2`,
    [portalId, threadId],
  );
  await manager.query(
    `WITH gone AS (
       DELETE FROM "${s}".published_messages
        WHERE hubspot_thread_id = $2 AND channel_account_id IN (${accounts})
        RETURNING channel_account_id, idempotency_id, published_at
     ), uploads AS (
       DELETE FROM "${s}".uploaded_media u USING gone
        WHERE u.channel_account_id = gone.channel_account_id AND u.idempotency_id = gone.idempotency_id
     )
     INSERT INTO "${s}".forgotten_messages (channel_account_id, idempotency_digest, published_at)
     SELECT channel_account_id, ${IDEMPOTENCY_DIGEST_SQL('idempotency_id')}, published_at FROM gone
     ON CONFLICT DO NOTHING`,
    [portalId, threadId],
  );
  for (const table of ['conversation_threads', 'account_conversations']) {
    await manager.query(
      `DELETE FROM "${s}".${table} WHERE hubspot_thread_id = $2 AND channel_account_id IN (${accounts})`,
      [portalId, threadId],
    );
  }
  // The thread's agent replies are known by their stored webhooks, which keep only their dedupe key after this.
  await manager.query(
    `WITH replies AS (
       UPDATE "${s}".hubspot_webhook_events
          SET payload = '{}'::jsonb, ordering_key = NULL, trace_headers = NULL, last_error = NULL,
              processed_at = COALESCE(processed_at, now()), outcome = COALESCE(outcome, 'skipped')
        WHERE portal_id = $1 AND ordering_key = 'thread:' || $2
        RETURNING dedupe_key
     )
     DELETE FROM "${s}".outbound_message_statuses o USING replies
      WHERE replies.dedupe_key = 'message:' || o.hubspot_message_id
        AND o.channel_account_id IN (${accounts})`,
    [portalId, threadId],
  );
  for (const table of ['bridge_thread_assignments', 'bridge_assignment_intents']) {
    await manager.query(`DELETE FROM "${s}".${table} WHERE portal_id = $1 AND thread_id = $2`, [
      portalId,
      threadId,
    ]);
  }
  await manager.query(
    `UPDATE "${s}".conversation_events SET thread_id = '' WHERE portal_id = $1 AND thread_id = $2`,
    [portalId, threadId],
  );
  return conversations.slice(0, THREAD_DELETED_MAX_CONVERSATIONS).map((row) => ({
    channelAccountId: row.channel_account_id,
    conversationKey: row.conversation_key,
  }));
}
