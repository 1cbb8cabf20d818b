import { schemaOf } from '@inbox-bridge/messaging';
import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The provider messages of a reply after its first (Twilio: a reply longer than one SMS body is sent as several
 * messages, each with its own SID and its own status callbacks), so a status reported for any of them reaches the
 * reply: a later part that was never delivered makes the reply FAILED. Pruned with the ledger (`recorded_at`).
 */
export class ReplyMessageParts1765300000000 implements MigrationInterface {
  readonly name = 'ReplyMessageParts1765300000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    const s = schemaOf(queryRunner);
    await queryRunner.query(`
      CREATE TABLE "${s}".reply_message_parts (
        channel_account_id   text        NOT NULL,
        part_message_id      text        NOT NULL,
        provider_message_id  text        NOT NULL,
        recorded_at          timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (channel_account_id, part_message_id)
      )`);
    await queryRunner.query(
      `CREATE INDEX reply_message_parts_recorded_at_brin ON "${s}".reply_message_parts USING brin (recorded_at)`,
    );
    // A status read finds the later parts of a reply by its first message.
    await queryRunner.query(
      `CREATE INDEX reply_message_parts_reply_idx ON "${s}".reply_message_parts (channel_account_id, provider_message_id)`,
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    const s = schemaOf(queryRunner);
    await queryRunner.query(`DROP TABLE "${s}".reply_message_parts`);
  }
}
