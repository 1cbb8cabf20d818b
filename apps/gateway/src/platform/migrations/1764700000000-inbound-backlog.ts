import { schemaOf } from '@inbox-bridge/messaging';
import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * A portal over its HubSpot budget waits in its own backlog (one row per message, in arrival order) instead of in
 * the queues every portal shares; `inbound_backlog_released` remembers what was handed back to the queue until it
 * is published, so the portal's order holds across the hand-back and its budget is not promised twice.
 */
export class InboundBacklog1764700000000 implements MigrationInterface {
  readonly name = 'InboundBacklog1764700000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    const s = schemaOf(queryRunner);
    await queryRunner.query(`CREATE SEQUENCE "${s}".inbound_backlog_position`);
    await queryRunner.query(
      `CREATE TABLE "${s}".inbound_backlog (
         position bigint PRIMARY KEY DEFAULT nextval('"${s}".inbound_backlog_position'),
         portal_id text NOT NULL,
         message_id text NOT NULL,
         correlation_id text NOT NULL,
         hubspot_calls integer NOT NULL,
         payload jsonb NOT NULL,
         backlogged_at timestamptz NOT NULL DEFAULT clock_timestamp()
       )`,
    );
    await queryRunner.query(
      `CREATE INDEX inbound_backlog_by_portal ON "${s}".inbound_backlog (portal_id, position)`,
    );
    await queryRunner.query(
      `CREATE TABLE "${s}".inbound_backlog_released (
         message_id text PRIMARY KEY,
         portal_id text NOT NULL,
         position bigint NOT NULL,
         hubspot_calls integer NOT NULL,
         released_at timestamptz NOT NULL DEFAULT clock_timestamp()
       )`,
    );
    await queryRunner.query(
      `CREATE INDEX inbound_backlog_released_by_portal ON "${s}".inbound_backlog_released (portal_id, released_at)`,
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    const s = schemaOf(queryRunner);
    await queryRunner.query(`DROP TABLE "${s}".inbound_backlog_released`);
    await queryRunner.query(`DROP TABLE "${s}".inbound_backlog`);
    await queryRunner.query(`DROP SEQUENCE "${s}".inbound_backlog_position`);
  }
}
