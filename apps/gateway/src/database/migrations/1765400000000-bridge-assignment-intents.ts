import { schemaOf } from '@inbox-bridge/messaging';
import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The assignees the bridge is about to set (`BridgeAssignmentJournal.intend`), written and committed before the
 * assignee call, so HubSpot's echo of it is known as the bridge's even when it arrives before the transaction
 * that records the assignment commits. `actor_key` is the actor id, `''` for an unassignment.
 */
export class BridgeAssignmentIntents1765400000000 implements MigrationInterface {
  readonly name = 'BridgeAssignmentIntents1765400000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    const s = schemaOf(queryRunner);
    await queryRunner.query(`
      CREATE TABLE "${s}".bridge_assignment_intents (
        portal_id    bigint      NOT NULL,
        thread_id    text        NOT NULL,
        actor_key    text        NOT NULL,
        intended_at  timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (portal_id, thread_id, actor_key)
      )`);
    await queryRunner.query(
      `CREATE INDEX bridge_assignment_intents_intended_at_brin ON "${s}".bridge_assignment_intents USING brin (intended_at)`,
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE "${schemaOf(queryRunner)}".bridge_assignment_intents`);
  }
}
