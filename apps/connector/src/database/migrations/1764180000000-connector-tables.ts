import { schemaOf } from '@inbox-bridge/messaging';
import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The connector's state: credentials checked for the connection popup (pending, 1 h), channel accounts with
 * their encrypted credentials and webhook secret, inbound dedupe keys, and the outbound messages whose
 * provider ids map delivery callbacks back to HubSpot messages.
 */
export class ConnectorTables1764180000000 implements MigrationInterface {
  readonly name = 'ConnectorTables1764180000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    const s = schemaOf(queryRunner);
    await queryRunner.query(`
      CREATE TABLE "${s}".pending_credentials (
        request_id           uuid        PRIMARY KEY,
        provider             text        NOT NULL,
        credentials          text        NOT NULL,
        delivery_identifier  jsonb       NOT NULL,
        created_at           timestamptz NOT NULL DEFAULT now(),
        expires_at           timestamptz NOT NULL
      )`);
    await queryRunner.query(
      `CREATE INDEX pending_credentials_expiry_idx ON "${s}".pending_credentials (expires_at)`,
    );
    await queryRunner.query(`
      CREATE TABLE "${s}".channel_accounts (
        channel_account_id   text        PRIMARY KEY,
        portal_id            bigint      NOT NULL,
        provider             text        NOT NULL,
        credentials          text,
        webhook_secret       text,
        delivery_identifier  jsonb,
        active               boolean     NOT NULL DEFAULT true,
        authorized           boolean     NOT NULL DEFAULT true,
        created_at           timestamptz NOT NULL DEFAULT now(),
        updated_at           timestamptz NOT NULL DEFAULT now()
      )`);
    await queryRunner.query(`
      CREATE TABLE "${s}".inbound_messages (
        channel_account_id   text        NOT NULL,
        dedupe_key           text        NOT NULL,
        received_at          timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (channel_account_id, dedupe_key)
      )`);
    await queryRunner.query(`
      CREATE TABLE "${s}".outbound_messages (
        channel_account_id   text        NOT NULL,
        hubspot_message_id   text        NOT NULL,
        provider_message_id  text,
        status               text        NOT NULL,
        updated_at           timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (channel_account_id, hubspot_message_id)
      )`);
    await queryRunner.query(
      `CREATE UNIQUE INDEX outbound_messages_provider_id_uq
         ON "${s}".outbound_messages (channel_account_id, provider_message_id)`,
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    const s = schemaOf(queryRunner);
    await queryRunner.query(`DROP TABLE "${s}".outbound_messages`);
    await queryRunner.query(`DROP TABLE "${s}".inbound_messages`);
    await queryRunner.query(`DROP TABLE "${s}".channel_accounts`);
    await queryRunner.query(`DROP TABLE "${s}".pending_credentials`);
  }
}
