import { schemaOf } from '@inbox-bridge/messaging';
import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The platform feature's state: installed portals and their (encrypted) tokens, OAuth states, the shared
 * per-portal rate buckets, the registered channel, published messages and threads, outbound message
 * statuses, uploaded media and roster snapshots.
 */
export class PlatformTables1764172800000 implements MigrationInterface {
  readonly name = 'PlatformTables1764172800000';

  async up(queryRunner: QueryRunner): Promise<void> {
    const s = schemaOf(queryRunner);
    await queryRunner.query(`
      CREATE TABLE "${s}".hubspot_portals (
        portal_id               bigint      PRIMARY KEY,
        status                  text        NOT NULL CHECK (status IN ('connected', 'disconnected')),
        access_token            text        NOT NULL,
        refresh_token           text        NOT NULL,
        access_token_expires_at timestamptz NOT NULL,
        scopes                  text[]      NOT NULL DEFAULT '{}',
        hub_domain              text,
        installed_by_user_id    bigint,
        installed_at            timestamptz NOT NULL DEFAULT now(),
        updated_at              timestamptz NOT NULL DEFAULT now(),
        disconnected_at         timestamptz,
        disconnected_reason     text
      )`);
    await queryRunner.query(
      `CREATE INDEX hubspot_portals_expiry_idx ON "${s}".hubspot_portals (access_token_expires_at) WHERE status = 'connected'`,
    );
    await queryRunner.query(`
      CREATE TABLE "${s}".oauth_states (
        state_hash  text        PRIMARY KEY,
        created_at  timestamptz NOT NULL DEFAULT now(),
        expires_at  timestamptz NOT NULL
      )`);
    await queryRunner.query(`
      CREATE TABLE "${s}".hubspot_rate_buckets (
        bucket_key    text             PRIMARY KEY,
        tokens        double precision NOT NULL,
        refilled_at   timestamptz      NOT NULL,
        paused_until  timestamptz
      )`);
    await queryRunner.query(`
      CREATE TABLE "${s}".hubspot_channel (
        singleton    boolean     PRIMARY KEY DEFAULT true CHECK (singleton),
        channel_id   text        NOT NULL,
        definition   jsonb       NOT NULL,
        updated_at   timestamptz NOT NULL DEFAULT now()
      )`);
    await queryRunner.query(`
      CREATE TABLE "${s}".published_messages (
        channel_account_id   text        NOT NULL,
        idempotency_id       text        NOT NULL,
        provider_message_id  text        NOT NULL,
        conversation_key     text        NOT NULL,
        hubspot_message_id   text        NOT NULL,
        hubspot_thread_id    text        NOT NULL,
        published_at         timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (channel_account_id, idempotency_id)
      )`);
    await queryRunner.query(
      `CREATE INDEX published_messages_provider_idx ON "${s}".published_messages (channel_account_id, provider_message_id)`,
    );
    await queryRunner.query(`
      CREATE TABLE "${s}".conversation_threads (
        channel_account_id  text        NOT NULL,
        conversation_key    text        NOT NULL,
        hubspot_thread_id   text        NOT NULL,
        threads_started     integer     NOT NULL DEFAULT 1,
        updated_at          timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (channel_account_id, conversation_key)
      )`);
    await queryRunner.query(`
      CREATE TABLE "${s}".uploaded_media (
        channel_account_id  text        NOT NULL,
        idempotency_id      text        NOT NULL,
        attachment_index    integer     NOT NULL,
        file_id             text        NOT NULL,
        uploaded_at         timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (channel_account_id, idempotency_id, attachment_index)
      )`);
    await queryRunner.query(`
      CREATE TABLE "${s}".outbound_message_statuses (
        hubspot_message_id  text        PRIMARY KEY,
        channel_account_id  text        NOT NULL,
        status              text        NOT NULL,
        updated_at          timestamptz NOT NULL DEFAULT now()
      )`);
    await queryRunner.query(`
      CREATE TABLE "${s}".roster_snapshots (
        portal_id     bigint      PRIMARY KEY,
        snapshot_hash text,
        checked_at    timestamptz,
        published_at  timestamptz
      )`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    const s = schemaOf(queryRunner);
    for (const table of [
      'roster_snapshots',
      'outbound_message_statuses',
      'uploaded_media',
      'conversation_threads',
      'published_messages',
      'hubspot_channel',
      'hubspot_rate_buckets',
      'oauth_states',
      'hubspot_portals',
    ]) {
      await queryRunner.query(`DROP TABLE "${s}".${table}`);
    }
  }
}
