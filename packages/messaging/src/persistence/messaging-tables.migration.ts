import type { MigrationInterface, QueryRunner } from 'typeorm';

export function schemaOf(queryRunner: QueryRunner): string {
  const schema = (queryRunner.dataSource.options as { schema?: string }).schema ?? 'public';
  if (!/^[a-z_][a-z0-9_]*$/.test(schema)) {
    throw new Error(`unsafe schema name "${schema}"`);
  }
  return schema;
}

export function outboxChannel(schema: string): string {
  return `outbox_${schema}`;
}

/**
 * The outbox, inbox and ordering-park tables every service needs, in the service's own schema
 * (taken from the DataSource options). Every service lists this migration with its own.
 */
export class MessagingTables1764072000000 implements MigrationInterface {
  readonly name = 'MessagingTables1764072000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    const s = schemaOf(queryRunner);
    await queryRunner.query(`
      CREATE TABLE "${s}".outbox (
        id            bigserial PRIMARY KEY,
        message_id    uuid        NOT NULL,
        routing_key   text        NOT NULL,
        portal_id     bigint      NOT NULL,
        ordering_key  text        NOT NULL,
        body          text        NOT NULL,
        headers       jsonb       NOT NULL DEFAULT '{}',
        created_at    timestamptz NOT NULL DEFAULT now(),
        available_at  timestamptz NOT NULL DEFAULT now(),
        attempts      integer     NOT NULL DEFAULT 0,
        last_error    text
      )`);
    await queryRunner.query(`CREATE INDEX outbox_available_idx ON "${s}".outbox (available_at, id)`);
    await queryRunner.query(`
      CREATE FUNCTION "${s}".notify_outbox() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        PERFORM pg_notify('${outboxChannel(s)}', '');
        RETURN NULL;
      END $$`);
    await queryRunner.query(`
      CREATE TRIGGER outbox_notify AFTER INSERT ON "${s}".outbox
      FOR EACH STATEMENT EXECUTE FUNCTION "${s}".notify_outbox()`);
    await queryRunner.query(`
      CREATE TABLE "${s}".inbox (
        consumer      text        NOT NULL,
        message_id    text        NOT NULL,
        processed_at  timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (consumer, message_id)
      )`);
    await queryRunner.query(`CREATE INDEX inbox_processed_at_idx ON "${s}".inbox (processed_at)`);
    await queryRunner.query(`
      CREATE TABLE "${s}".ordering_park (
        seq           bigserial   PRIMARY KEY,
        consumer      text        NOT NULL,
        ordering_key  text        NOT NULL,
        message_id    text        NOT NULL,
        tier          integer     NOT NULL,
        parked_at     timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT ordering_park_message_uq UNIQUE (consumer, message_id)
      )`);
    await queryRunner.query(
      `CREATE INDEX ordering_park_key_idx ON "${s}".ordering_park (consumer, ordering_key, seq)`,
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    const s = schemaOf(queryRunner);
    await queryRunner.query(`DROP TABLE "${s}".ordering_park`);
    await queryRunner.query(`DROP TABLE "${s}".inbox`);
    await queryRunner.query(`DROP TABLE "${s}".outbox`);
    await queryRunner.query(`DROP FUNCTION "${s}".notify_outbox()`);
  }
}

/**
 * The outbox rows whose publish failed (an unroutable key, a nack), found fast: the relay holds the later rows of
 * their ordering key behind them.
 */
export class OutboxFailedRows1764900000000 implements MigrationInterface {
  readonly name = 'OutboxFailedRows1764900000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    const s = schemaOf(queryRunner);
    await queryRunner.query(
      `CREATE INDEX outbox_failed_idx ON "${s}".outbox (routing_key, ordering_key, id) WHERE attempts > 0`,
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP INDEX "${schemaOf(queryRunner)}".outbox_failed_idx`);
  }
}

/** Every service lists these, oldest first, before its own migrations. */
export const messagingMigrations = [MessagingTables1764072000000, OutboxFailedRows1764900000000];
