import { schemaOf } from '@inbox-bridge/messaging';
import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The portal whose popup checked pending credentials: only that portal's account may take them. Rows checked before
 * have no portal and are deleted (they live an hour; the popup shows the check again); an older replica still writing
 * without a portal during the rollout fails that write and its request is retried by a newer one.
 */
export class PendingCredentialsPortal1765600000000 implements MigrationInterface {
  readonly name = 'PendingCredentialsPortal1765600000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    const s = schemaOf(queryRunner);
    await queryRunner.query(`DELETE FROM "${s}".pending_credentials`);
    await queryRunner.query(`ALTER TABLE "${s}".pending_credentials ADD COLUMN portal_id bigint NOT NULL`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    const s = schemaOf(queryRunner);
    await queryRunner.query(`ALTER TABLE "${s}".pending_credentials DROP COLUMN portal_id`);
  }
}
