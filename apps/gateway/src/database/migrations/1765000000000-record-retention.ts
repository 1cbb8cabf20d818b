import { schemaOf } from '@inbox-bridge/messaging';
import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Time indexes for pruning message records past `MESSAGE_RECORD_RETENTION_MS` (`conversation_events` has one).
 * BRIN: rows are written in time order, so a few index pages find the old ones at almost no cost per insert.
 */
export class RecordRetention1765000000000 implements MigrationInterface {
  readonly name = 'RecordRetention1765000000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    const s = schemaOf(queryRunner);
    for (const [table, column] of RETAINED) {
      await queryRunner.query(
        `CREATE INDEX ${table}_${column}_brin ON "${s}".${table} USING brin (${column})`,
      );
    }
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    const s = schemaOf(queryRunner);
    for (const [table, column] of RETAINED) {
      await queryRunner.query(`DROP INDEX "${s}".${table}_${column}_brin`);
    }
  }
}

const RETAINED = [
  ['published_messages', 'published_at'],
  ['outbound_message_statuses', 'updated_at'],
  ['bridge_thread_assignments', 'applied_at'],
] as const;
