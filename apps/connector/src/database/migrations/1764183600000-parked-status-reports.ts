import { schemaOf } from '@inbox-bridge/messaging';
import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Status reports that arrived before the send that produced their message id was committed (a fast Twilio
 * `failed` callback can overtake the connector's own transaction). Applied when the send commits.
 */
export class ParkedStatusReports1764183600000 implements MigrationInterface {
  readonly name = 'ParkedStatusReports1764183600000';

  async up(queryRunner: QueryRunner): Promise<void> {
    const s = schemaOf(queryRunner);
    await queryRunner.query(`
      CREATE TABLE "${s}".parked_status_reports (
        channel_account_id   text        NOT NULL,
        provider_message_id  text        NOT NULL,
        status               text        NOT NULL,
        failure_reason       text,
        provider_error_code  text,
        occurred_at          timestamptz NOT NULL,
        parked_at            timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (channel_account_id, provider_message_id, status)
      )`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    const s = schemaOf(queryRunner);
    await queryRunner.query(`DROP TABLE "${s}".parked_status_reports`);
  }
}
