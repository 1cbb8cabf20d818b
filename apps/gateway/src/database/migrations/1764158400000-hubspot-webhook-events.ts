import { schemaOf } from '@inbox-bridge/messaging';
import type { MigrationInterface, QueryRunner } from 'typeorm';

/** Every HubSpot webhook the gateway accepted, deduplicated per portal by `dedupe_key` (event or message id). */
export class HubSpotWebhookEvents1764158400000 implements MigrationInterface {
  readonly name = 'HubSpotWebhookEvents1764158400000';

  async up(queryRunner: QueryRunner): Promise<void> {
    const s = schemaOf(queryRunner);
    await queryRunner.query(`
      CREATE TABLE "${s}".hubspot_webhook_events (
        id           bigserial   PRIMARY KEY,
        portal_id    bigint      NOT NULL,
        dedupe_key   text        NOT NULL,
        event_type   text        NOT NULL,
        received_at  timestamptz NOT NULL DEFAULT now(),
        payload      jsonb       NOT NULL,
        CONSTRAINT hubspot_webhook_events_dedupe_uq UNIQUE (portal_id, dedupe_key)
      )`);
    await queryRunner.query(
      `CREATE INDEX hubspot_webhook_events_portal_idx ON "${s}".hubspot_webhook_events (portal_id, received_at)`,
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    const s = schemaOf(queryRunner);
    await queryRunner.query(`DROP TABLE "${s}".hubspot_webhook_events`);
  }
}
