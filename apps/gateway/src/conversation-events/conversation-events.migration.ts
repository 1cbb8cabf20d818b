import { schemaOf } from '@inbox-bridge/messaging';
import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Webhooks API conversation events already handled (HubSpot may deliver one twice), and the assignments the
 * bridge itself applied, so an `assignedTo` change can be told apart from one a person made in HubSpot.
 */
export class ConversationEvents1764244800000 implements MigrationInterface {
  readonly name = 'ConversationEvents1764244800000';

  async up(queryRunner: QueryRunner): Promise<void> {
    const s = schemaOf(queryRunner);
    await queryRunner.query(`
      CREATE TABLE "${s}".conversation_events (
        portal_id         bigint      NOT NULL,
        event_id          text        NOT NULL,
        subscription_type text        NOT NULL,
        thread_id         text        NOT NULL,
        occurred_at       timestamptz NOT NULL,
        received_at       timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (portal_id, event_id)
      )`);
    await queryRunner.query(
      `CREATE INDEX conversation_events_received_idx ON "${s}".conversation_events (received_at)`,
    );
    await queryRunner.query(`
      CREATE TABLE "${s}".bridge_thread_assignments (
        portal_id   bigint      NOT NULL,
        thread_id   text        NOT NULL,
        actor_id    text,
        applied_at  timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (portal_id, thread_id)
      )`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    const s = schemaOf(queryRunner);
    await queryRunner.query(`DROP TABLE "${s}".bridge_thread_assignments`);
    await queryRunner.query(`DROP TABLE "${s}".conversation_events`);
  }
}
