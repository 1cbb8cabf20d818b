import { schemaOf } from '@inbox-bridge/messaging';
import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Under DELIVERY_IDENTIFIER threading HubSpot generates each thread's `integrationThreadId` and names it in reply
 * webhooks; the gateway keeps it with the customer's conversation and passes it back when that customer writes.
 */
export class HubSpotIntegrationThreadIds1765300000000 implements MigrationInterface {
  readonly name = 'HubSpotIntegrationThreadIds1765300000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    const s = schemaOf(queryRunner);
    await queryRunner.query(`ALTER TABLE "${s}".account_conversations ADD COLUMN integration_thread_id text`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    const s = schemaOf(queryRunner);
    await queryRunner.query(`ALTER TABLE "${s}".account_conversations DROP COLUMN integration_thread_id`);
  }
}
