import { schemaOf } from '@inbox-bridge/messaging';
import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * A portal over its HubSpot budget gets turns promised for later (`PortalRateLimiter.reserve`) instead of
 * holding the shared queues while it waits: the end of the promised time is kept on the bucket's row.
 */
export class RateBudgetReservations1764500000000 implements MigrationInterface {
  readonly name = 'RateBudgetReservations1764500000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    const s = schemaOf(queryRunner);
    await queryRunner.query(`ALTER TABLE "${s}".hubspot_rate_buckets ADD COLUMN reserved_until timestamptz`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    const s = schemaOf(queryRunner);
    await queryRunner.query(`ALTER TABLE "${s}".hubspot_rate_buckets DROP COLUMN reserved_until`);
  }
}
