import { schemaOf } from '@inbox-bridge/messaging';
import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Conversations the provider gave a new address, per account (a Telegram group upgraded to a supergroup: the old
 * chat id → the supergroup's). Replies go to the new address at once, and messages from it keep the conversation's
 * first key, so HubSpot keeps one thread. Kept until the account is purged.
 */
export class MovedConversations1765500000000 implements MigrationInterface {
  readonly name = 'MovedConversations1765500000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    const s = schemaOf(queryRunner);
    await queryRunner.query(`
      CREATE TABLE "${s}".moved_conversations (
        channel_account_id  text        NOT NULL,
        conversation_key    text        NOT NULL,
        address             text        NOT NULL,
        moved_at            timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (channel_account_id, conversation_key)
      )`);
    // A message from the new address finds the conversation it belongs to.
    await queryRunner.query(
      `CREATE INDEX moved_conversations_address_idx ON "${s}".moved_conversations (channel_account_id, address)`,
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    const s = schemaOf(queryRunner);
    await queryRunner.query(`DROP TABLE "${s}".moved_conversations`);
  }
}
