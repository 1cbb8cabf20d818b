import { schemaOf } from '@inbox-bridge/messaging';
import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Channel accounts and what hangs off them: the conversations seen per customer address (the
 * DELIVERY_IDENTIFIER threading model), the credential checks of the connection popup, and the background
 * processing state of stored HubSpot webhooks.
 */
export class ChannelAccounts1764320000000 implements MigrationInterface {
  readonly name = 'ChannelAccounts1764320000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    const s = schemaOf(queryRunner);
    await queryRunner.query(`
      CREATE TABLE "${s}".channel_accounts (
        channel_account_id        text        PRIMARY KEY,
        portal_id                 bigint      NOT NULL,
        channel_id                text        NOT NULL,
        inbox_id                  text        NOT NULL,
        inbox_type                text        NOT NULL CHECK (inbox_type IN ('INBOX', 'HELP_DESK', 'UNKNOWN')),
        provider                  text        NOT NULL,
        name                      text        NOT NULL,
        delivery_identifier_type  text,
        delivery_identifier_value text,
        authorized                boolean     NOT NULL,
        active                    boolean     NOT NULL,
        archived                  boolean     NOT NULL DEFAULT false,
        created_at                timestamptz NOT NULL DEFAULT now(),
        updated_at                timestamptz NOT NULL DEFAULT now()
      )`);
    await queryRunner.query(
      `CREATE INDEX channel_accounts_portal_idx ON "${s}".channel_accounts (portal_id, inbox_id)`,
    );
    await queryRunner.query(`
      CREATE TABLE "${s}".account_conversations (
        channel_account_id  text        NOT NULL,
        identifier_type     text        NOT NULL,
        identifier_value    text        NOT NULL,
        conversation_key    text        NOT NULL,
        hubspot_thread_id   text,
        updated_at          timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (channel_account_id, identifier_type, identifier_value)
      )`);
    await queryRunner.query(
      `CREATE INDEX account_conversations_thread_idx ON "${s}".account_conversations (hubspot_thread_id)
        WHERE hubspot_thread_id IS NOT NULL`,
    );
    await queryRunner.query(`
      CREATE TABLE "${s}".credential_checks (
        request_id                uuid        PRIMARY KEY,
        origin                    text        NOT NULL CHECK (origin IN ('popup', 'admin')),
        portal_id                 bigint      NOT NULL,
        channel_id                text        NOT NULL,
        inbox_id                  text        NOT NULL,
        account_token             text,
        provider                  text        NOT NULL,
        state                     text        NOT NULL
          CHECK (state IN ('PENDING', 'VALID', 'INVALID', 'FINALISED', 'BOUND', 'ABANDONED')),
        account_name              text,
        delivery_identifier_type  text,
        delivery_identifier_value text,
        error_code                text,
        error_message             text,
        channel_account_id        text,
        created_at                timestamptz NOT NULL DEFAULT now(),
        answered_at               timestamptz,
        finalised_at              timestamptz
      )`);
    await queryRunner.query(
      `CREATE INDEX credential_checks_match_idx ON "${s}".credential_checks
        (portal_id, inbox_id, delivery_identifier_value) WHERE state = 'FINALISED'`,
    );
    await queryRunner.query(`
      ALTER TABLE "${s}".hubspot_webhook_events
        ADD COLUMN ordering_key    text,
        ADD COLUMN attempts        integer     NOT NULL DEFAULT 0,
        ADD COLUMN next_attempt_at timestamptz NOT NULL DEFAULT now(),
        ADD COLUMN processed_at    timestamptz,
        ADD COLUMN outcome         text,
        ADD COLUMN last_error      text`);
    await queryRunner.query(`
      UPDATE "${s}".hubspot_webhook_events
         SET ordering_key = 'account:' || COALESCE(payload->>'channelAccountId', payload->'message'->>'channelAccountId', '')`);
    await queryRunner.query(
      `CREATE INDEX hubspot_webhook_events_pending_idx ON "${s}".hubspot_webhook_events (next_attempt_at, id)
        WHERE processed_at IS NULL`,
    );
    await queryRunner.query(
      `CREATE INDEX hubspot_webhook_events_pending_key_idx ON "${s}".hubspot_webhook_events (ordering_key, id)
        WHERE processed_at IS NULL`,
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    const s = schemaOf(queryRunner);
    await queryRunner.query(`DROP INDEX "${s}".hubspot_webhook_events_pending_key_idx`);
    await queryRunner.query(`DROP INDEX "${s}".hubspot_webhook_events_pending_idx`);
    await queryRunner.query(`
      ALTER TABLE "${s}".hubspot_webhook_events
        DROP COLUMN ordering_key, DROP COLUMN attempts, DROP COLUMN next_attempt_at,
        DROP COLUMN processed_at, DROP COLUMN outcome, DROP COLUMN last_error`);
    await queryRunner.query(`DROP TABLE "${s}".credential_checks`);
    await queryRunner.query(`DROP TABLE "${s}".account_conversations`);
    await queryRunner.query(`DROP TABLE "${s}".channel_accounts`);
  }
}
