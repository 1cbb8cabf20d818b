import { schemaOf } from '@inbox-bridge/messaging';
import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Accounts by the address they were connected with (a Twilio number): a webhook whose URL names no account
 * (`/webhooks/twilio`, set on a TwiML App or Messaging Service) is routed by its `To` number.
 */
export class ChannelAccountAddress1765400000000 implements MigrationInterface {
  readonly name = 'ChannelAccountAddress1765400000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    const s = schemaOf(queryRunner);
    await queryRunner.query(
      `CREATE INDEX channel_accounts_address_idx ON "${s}".channel_accounts (provider, (delivery_identifier->>'value'))`,
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    const s = schemaOf(queryRunner);
    await queryRunner.query(`DROP INDEX "${s}".channel_accounts_address_idx`);
  }
}
