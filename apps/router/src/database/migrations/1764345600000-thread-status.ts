import { schemaOf } from '@inbox-bridge/messaging';
import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Closed and reopened HubSpot threads: what a conversation was before its thread closed (so a reopen can
 * restore it; null for a conversation closed for good, by an account purge) and when HubSpot last changed
 * the thread's status (so an older close or reopen delivered late is ignored).
 */
export class ThreadStatus1764345600000 implements MigrationInterface {
  readonly name = 'ThreadStatus1764345600000';

  async up(queryRunner: QueryRunner): Promise<void> {
    const s = schemaOf(queryRunner);
    await queryRunner.query(
      `ALTER TABLE "${s}".conversations ADD COLUMN closed_from_status text, ADD COLUMN status_changed_at timestamptz`,
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    const s = schemaOf(queryRunner);
    await queryRunner.query(
      `ALTER TABLE "${s}".conversations DROP COLUMN closed_from_status, DROP COLUMN status_changed_at`,
    );
  }
}
