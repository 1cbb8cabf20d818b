import { schemaOf } from '@inbox-bridge/messaging';
import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The parts of a rep's reply a provider has accepted, written the moment it accepts them (outside the message's
 * transaction), so a connector that dies before its transaction commits does not send them again after restart.
 * Removed in the transaction that records the reply's outcome.
 */
export class ReplyPartsSent1764600000000 implements MigrationInterface {
  readonly name = 'ReplyPartsSent1764600000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    const s = schemaOf(queryRunner);
    await queryRunner.query(`
      CREATE TABLE "${s}".reply_parts_sent (
        channel_account_id  text        NOT NULL,
        hubspot_message_id  text        NOT NULL,
        part                text        NOT NULL,
        value               text        NOT NULL,
        recorded_at         timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (channel_account_id, hubspot_message_id, part)
      )`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    const s = schemaOf(queryRunner);
    await queryRunner.query(`DROP TABLE "${s}".reply_parts_sent`);
  }
}
