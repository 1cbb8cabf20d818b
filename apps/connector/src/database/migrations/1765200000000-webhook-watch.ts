import { schemaOf } from '@inbox-bridge/messaging';
import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The provider's last webhook delivery failure already acted on, per account (Telegram `getWebhookInfo`'s
 * `last_error_date`), so each failure sets the webhook again once; and whether a parked status report was the
 * provider's last word, so applying it settles the reply's status checks as the report itself would have.
 */
export class WebhookWatch1765200000000 implements MigrationInterface {
  readonly name = 'WebhookWatch1765200000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    const s = schemaOf(queryRunner);
    await queryRunner.query(
      `ALTER TABLE "${s}".channel_accounts ADD COLUMN webhook_error_seen_at timestamptz`,
    );
    await queryRunner.query(
      `ALTER TABLE "${s}".parked_status_reports ADD COLUMN final boolean NOT NULL DEFAULT false`,
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    const s = schemaOf(queryRunner);
    await queryRunner.query(`ALTER TABLE "${s}".parked_status_reports DROP COLUMN final`);
    await queryRunner.query(`ALTER TABLE "${s}".channel_accounts DROP COLUMN webhook_error_seen_at`);
  }
}
