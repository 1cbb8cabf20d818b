import { schemaOf } from '@inbox-bridge/messaging';
import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * When a sent reply's status is next read from the provider, for the providers whose status callbacks can be lost
 * (Twilio): `status_check_at` is cleared once the provider reported a final status, and after the last check.
 */
export class DeliveryStatusChecks1765100000000 implements MigrationInterface {
  readonly name = 'DeliveryStatusChecks1765100000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    const s = schemaOf(queryRunner);
    await queryRunner.query(`
      ALTER TABLE "${s}".outbound_messages
        ADD COLUMN status_checks   smallint    NOT NULL DEFAULT 0,
        ADD COLUMN status_check_at timestamptz`);
    await queryRunner.query(
      `CREATE INDEX outbound_messages_status_check_idx ON "${s}".outbound_messages (channel_account_id, status_check_at)
        WHERE status_check_at IS NOT NULL`,
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    const s = schemaOf(queryRunner);
    await queryRunner.query(`DROP INDEX "${s}".outbound_messages_status_check_idx`);
    await queryRunner.query(
      `ALTER TABLE "${s}".outbound_messages DROP COLUMN status_check_at, DROP COLUMN status_checks`,
    );
  }
}
