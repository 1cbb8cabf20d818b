import { APP_CONFIG } from '@inbox-bridge/service-kit';
import { Inject, Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import type { ConnectorConfig } from '../config/connector.config.js';

/**
 * Conversations whose provider address changed (`moved_conversations`): the key the conversation was first
 * published with, and where the provider has it now.
 */
@Injectable()
export class MovedConversationRepository {
  private readonly schema: string;

  constructor(@Inject(APP_CONFIG) config: ConnectorConfig) {
    this.schema = config.DATABASE_SCHEMA;
  }

  /**
   * The conversation at `from` is at `to` from now on. When `from` is itself an address the conversation moved to,
   * the move is recorded for the conversation's first key, so every address leads back to one key.
   */
  async record(manager: EntityManager, channelAccountId: string, from: string, to: string): Promise<void> {
    if (from === to) {
      return;
    }
    await manager.query(
      `INSERT INTO "${this.schema}".moved_conversations (channel_account_id, conversation_key, address)
       SELECT $1, coalesce(
                (SELECT conversation_key FROM "${this.schema}".moved_conversations
                  WHERE channel_account_id = $1 AND address = $2 LIMIT 1),
                $2),
              $3
       ON CONFLICT (channel_account_id, conversation_key) DO UPDATE
         SET address = EXCLUDED.address, moved_at = now()
         WHERE moved_conversations.address IS DISTINCT FROM EXCLUDED.address`,
      [channelAccountId, from, to],
    );
  }

  /** Where the provider has the conversation now: the address it moved to, or its key when it never moved. */
  async addressOf(
    manager: EntityManager,
    channelAccountId: string,
    conversationKey: string,
  ): Promise<string> {
    const rows: { address: string }[] = await manager.query(
      `SELECT address FROM "${this.schema}".moved_conversations
        WHERE channel_account_id = $1 AND conversation_key = $2`,
      [channelAccountId, conversationKey],
    );
    return rows[0]?.address ?? conversationKey;
  }

  /** The key of the conversation now at `address`: the one it had before it moved, or `address` itself. */
  async keyOf(manager: EntityManager, channelAccountId: string, address: string): Promise<string> {
    const rows: { conversation_key: string }[] = await manager.query(
      `SELECT conversation_key FROM "${this.schema}".moved_conversations
        WHERE channel_account_id = $1 AND address = $2 LIMIT 1`,
      [channelAccountId, address],
    );
    return rows[0]?.conversation_key ?? address;
  }
}
