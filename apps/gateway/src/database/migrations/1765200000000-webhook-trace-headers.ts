import { schemaOf } from '@inbox-bridge/messaging';
import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The W3C trace context of the request that delivered a HubSpot webhook (only while traces are exported), so the
 * background worker's processing and what it publishes join the webhook's trace.
 */
export class WebhookTraceHeaders1765200000000 implements MigrationInterface {
  readonly name = 'WebhookTraceHeaders1765200000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    const s = schemaOf(queryRunner);
    await queryRunner.query(`ALTER TABLE "${s}".hubspot_webhook_events ADD COLUMN trace_headers jsonb`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    const s = schemaOf(queryRunner);
    await queryRunner.query(`ALTER TABLE "${s}".hubspot_webhook_events DROP COLUMN trace_headers`);
  }
}
