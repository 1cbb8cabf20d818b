import { schemaOf } from '@inbox-bridge/messaging';
import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The router's state: channel accounts and their rules, the roster with each agent's open-conversation count,
 * the conversations it routes (with their durable timer), who last handled each customer, and the audit trail.
 * Every table is keyed by portal first: no query can reach another portal's rows without naming it.
 */
export class RoutingTables1764172800000 implements MigrationInterface {
  readonly name = 'RoutingTables1764172800000';

  async up(queryRunner: QueryRunner): Promise<void> {
    const s = schemaOf(queryRunner);
    await queryRunner.query(`
      CREATE TABLE "${s}".channel_accounts (
        portal_id           bigint      NOT NULL,
        channel_account_id  text        NOT NULL,
        inbox_id            text        NOT NULL,
        name                text        NOT NULL,
        provider            text        NOT NULL,
        active              boolean     NOT NULL DEFAULT true,
        authorized          boolean     NOT NULL DEFAULT true,
        rules               jsonb,
        rules_updated_at    timestamptz,
        created_at          timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (portal_id, channel_account_id)
      )`);
    await queryRunner.query(`
      CREATE TABLE "${s}".agents (
        portal_id         bigint      NOT NULL,
        user_id           text        NOT NULL,
        owner_id          text,
        name              text,
        email             text,
        availability      text        NOT NULL,
        team_ids          text[]      NOT NULL DEFAULT '{}',
        in_roster         boolean     NOT NULL DEFAULT true,
        open_count        integer     NOT NULL DEFAULT 0 CHECK (open_count >= 0),
        last_assigned_at  timestamptz,
        last_assigned_seq bigint,
        PRIMARY KEY (portal_id, user_id)
      )`);
    // Orders round robin: the pool member assigned least recently goes next. A sequence is not transactional,
    // so concurrent decisions never wait on a shared cursor row.
    await queryRunner.query(`CREATE SEQUENCE "${s}".agent_assignment_seq`);
    await queryRunner.query(`CREATE INDEX agents_owner_idx ON "${s}".agents (portal_id, owner_id)`);
    await queryRunner.query(`CREATE INDEX agents_teams_idx ON "${s}".agents USING gin (team_ids)`);
    // In the candidate orders (fewest open; round robin), so picking the first free agent stops early.
    await queryRunner.query(
      `CREATE INDEX agents_load_idx ON "${s}".agents (portal_id, open_count, last_assigned_seq NULLS FIRST, user_id COLLATE "C")`,
    );
    await queryRunner.query(
      `CREATE INDEX agents_turn_idx ON "${s}".agents (portal_id, last_assigned_seq NULLS FIRST, user_id COLLATE "C")`,
    );
    await queryRunner.query(`
      CREATE TABLE "${s}".teams (
        portal_id  bigint NOT NULL,
        team_id    text   NOT NULL,
        name       text   NOT NULL,
        PRIMARY KEY (portal_id, team_id)
      )`);
    await queryRunner.query(`
      CREATE TABLE "${s}".conversations (
        portal_id             bigint      NOT NULL,
        hubspot_thread_id     text        NOT NULL,
        channel_account_id    text,
        conversation_key      text,
        contact_id            text,
        contact_owner_id      text,
        started_at            timestamptz,
        status                text        NOT NULL,
        assignee_user_id      text,
        counted_user_id       text,
        pending_decision_id   uuid,
        excluded_user_ids     text[]      NOT NULL DEFAULT '{}',
        waiting_since         timestamptz,
        waiting_reason        text,
        last_customer_message_at timestamptz,
        last_agent_reply_at   timestamptz,
        due_at                timestamptz,
        due_kind              text,
        updated_at            timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (portal_id, hubspot_thread_id)
      )`);
    await queryRunner.query(
      `CREATE INDEX conversations_waiting_idx ON "${s}".conversations (portal_id, waiting_since) WHERE status = 'waiting'`,
    );
    await queryRunner.query(
      `CREATE INDEX conversations_due_idx ON "${s}".conversations (due_at) WHERE due_at IS NOT NULL`,
    );
    await queryRunner.query(`
      CREATE TABLE "${s}".customer_handlers (
        portal_id           bigint      NOT NULL,
        channel_account_id  text        NOT NULL,
        conversation_key    text        NOT NULL,
        user_id             text        NOT NULL,
        handled_at          timestamptz NOT NULL,
        PRIMARY KEY (portal_id, channel_account_id, conversation_key)
      )`);
    await queryRunner.query(`
      CREATE TABLE "${s}".routing_audit (
        id                  bigserial   PRIMARY KEY,
        portal_id           bigint      NOT NULL,
        hubspot_thread_id   text        NOT NULL,
        channel_account_id  text,
        action              text        NOT NULL,
        user_id             text,
        decision_id         uuid,
        reason              text        NOT NULL,
        recorded_at         timestamptz NOT NULL DEFAULT now()
      )`);
    await queryRunner.query(
      `CREATE INDEX routing_audit_thread_idx ON "${s}".routing_audit (portal_id, hubspot_thread_id, id)`,
    );
    await queryRunner.query(
      `CREATE UNIQUE INDEX routing_audit_decision_uq ON "${s}".routing_audit (decision_id) WHERE action = 'assign'`,
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    const s = schemaOf(queryRunner);
    for (const table of [
      'routing_audit',
      'customer_handlers',
      'conversations',
      'teams',
      'agents',
      'channel_accounts',
    ]) {
      await queryRunner.query(`DROP TABLE "${s}".${table}`);
    }
    await queryRunner.query(`DROP SEQUENCE "${s}".agent_assignment_seq`);
  }
}
