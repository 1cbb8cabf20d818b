import { schemaOf } from '@inbox-bridge/messaging';
import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Per account, up to when the connector has compared the messages the provider holds with what its webhooks
 * delivered (from the moment the account is connected; existing accounts from this migration on, so nothing
 * older is brought back), and when a replica last claimed that comparison.
 */
export class InboundReconciliation1764900000000 implements MigrationInterface {
  readonly name = 'InboundReconciliation1764900000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    const s = schemaOf(queryRunner);
    await queryRunner.query(`
      ALTER TABLE "${s}".channel_accounts
        ADD COLUMN inbound_checked_until    timestamptz NOT NULL DEFAULT now(),
        ADD COLUMN inbound_check_claimed_at timestamptz`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    const s = schemaOf(queryRunner);
    await queryRunner.query(`
      ALTER TABLE "${s}".channel_accounts
        DROP COLUMN inbound_checked_until,
        DROP COLUMN inbound_check_claimed_at`);
  }
}
