import { schemaOf } from '@inbox-bridge/messaging';
import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Time indexes for pruning the message ledger past its retention. BRIN: the rows are written in time order, so a
 * few pages of index find them, at almost no cost to each insert.
 */
export class LedgerRetention1765000000000 implements MigrationInterface {
  readonly name = 'LedgerRetention1765000000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    const s = schemaOf(queryRunner);
    await queryRunner.query(
      `CREATE INDEX inbound_messages_received_at_brin ON "${s}".inbound_messages USING brin (received_at)`,
    );
    await queryRunner.query(
      `CREATE INDEX outbound_messages_updated_at_brin ON "${s}".outbound_messages USING brin (updated_at)`,
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    const s = schemaOf(queryRunner);
    await queryRunner.query(`DROP INDEX "${s}".outbound_messages_updated_at_brin`);
    await queryRunner.query(`DROP INDEX "${s}".inbound_messages_received_at_brin`);
  }
}
