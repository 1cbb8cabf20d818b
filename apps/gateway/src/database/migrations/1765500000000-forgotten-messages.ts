import { schemaOf } from '@inbox-bridge/messaging';
import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * What is left of a customer message published into a thread HubSpot deleted (`ThreadDeletion`): its account and
 * the SHA-256 of its idempotency id (which can hold the customer's chat id), so a redelivered
 * `provider.message.received.v1` of it is still a duplicate and never starts a new thread with the old message.
 * Pruned with `published_messages` after `MESSAGE_RECORD_RETENTION_MS`, counted from the original publication.
 */
export class ForgottenMessages1765500000000 implements MigrationInterface {
  readonly name = 'ForgottenMessages1765500000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    const s = schemaOf(queryRunner);
    await queryRunner.query(`
      CREATE TABLE "${s}".forgotten_messages (
        channel_account_id  text        NOT NULL,
        idempotency_digest  text        NOT NULL,
        published_at        timestamptz NOT NULL,
        PRIMARY KEY (channel_account_id, idempotency_digest)
      )`);
    await queryRunner.query(
      `CREATE INDEX forgotten_messages_published_at_brin ON "${s}".forgotten_messages USING brin (published_at)`,
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE "${schemaOf(queryRunner)}".forgotten_messages`);
  }
}
