import { schemaOf } from '@inbox-bridge/messaging';
import type { MigrationInterface, QueryRunner } from 'typeorm';

/** A time index for pruning the routing audit past `ROUTING_AUDIT_RETENTION_MS` (BRIN: written in time order). */
export class RoutingAuditRetention1765000000000 implements MigrationInterface {
  readonly name = 'RoutingAuditRetention1765000000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    const s = schemaOf(queryRunner);
    await queryRunner.query(
      `CREATE INDEX routing_audit_recorded_at_brin ON "${s}".routing_audit USING brin (recorded_at)`,
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    const s = schemaOf(queryRunner);
    await queryRunner.query(`DROP INDEX "${s}".routing_audit_recorded_at_brin`);
  }
}
