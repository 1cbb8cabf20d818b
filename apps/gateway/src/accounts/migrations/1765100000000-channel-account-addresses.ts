import { schemaOf } from '@inbox-bridge/messaging';
import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Finds the connected account of a bot or number when it is connected again (one account per address for the
 * providers that deliver an address to one URL only), and the connections of it HubSpot is still finishing.
 */
export class ChannelAccountAddresses1765100000000 implements MigrationInterface {
  readonly name = 'ChannelAccountAddresses1765100000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    const s = schemaOf(queryRunner);
    await queryRunner.query(
      `CREATE INDEX channel_accounts_address_idx ON "${s}".channel_accounts
        (delivery_identifier_value, delivery_identifier_type) WHERE NOT archived`,
    );
    await queryRunner.query(
      `CREATE INDEX credential_checks_address_idx ON "${s}".credential_checks
        (delivery_identifier_value, delivery_identifier_type) WHERE state = 'FINALISED'`,
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    const s = schemaOf(queryRunner);
    await queryRunner.query(`DROP INDEX "${s}".credential_checks_address_idx`);
    await queryRunner.query(`DROP INDEX "${s}".channel_accounts_address_idx`);
  }
}
