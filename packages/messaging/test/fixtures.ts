import {
  exampleProviderMessageReceivedV1,
  RoutingKeys,
  type AnyMessageEnvelope,
  type RoutingKey,
} from '@inbox-bridge/shared';
import {
  createTestDatabase,
  createTestVhost,
  type TestDatabase,
  type TestVhost,
} from '@inbox-bridge/testing';
import { connect, type ChannelModel } from 'amqplib';
import { randomUUID } from 'node:crypto';
import { Registry } from 'prom-client';
import type { MigrationInterface, QueryRunner } from 'typeorm';
import {
  Messaging,
  messagingMigrations,
  schemaOf,
  type ConsumerGroupSpec,
  type MessageContext,
  type MessagingOptions,
} from '../src/index.js';

export class TestEffects1764072000001 implements MigrationInterface {
  readonly name = 'TestEffects1764072000001';
  async up(queryRunner: QueryRunner): Promise<void> {
    const s = schemaOf(queryRunner);
    await queryRunner.query(`
      CREATE TABLE "${s}".effects (
        id bigserial PRIMARY KEY,
        consumer text NOT NULL,
        message_id text NOT NULL,
        ordering_key text,
        seq integer,
        attempt integer NOT NULL,
        txid bigint NOT NULL DEFAULT txid_current(),
        handled_at timestamptz NOT NULL DEFAULT clock_timestamp()
      )`);
    await queryRunner.query(`CREATE TABLE "${s}".notes (id bigserial PRIMARY KEY, text text NOT NULL)`);
  }
  async down(): Promise<void> {}
}

export interface Effect {
  consumer: string;
  message_id: string;
  ordering_key: string | null;
  seq: number | null;
  attempt: number;
}

export type TestHandler = (envelope: AnyMessageEnvelope, context: MessageContext) => Promise<void>;

/** Records the effect of handling a message inside the message's transaction. */
export async function recordEffect(context: MessageContext, consumer: string): Promise<void> {
  const payload = context.envelope.payload as { conversationKey?: string; text?: string };
  await context.manager.query(
    `INSERT INTO effects (consumer, message_id, ordering_key, seq, attempt) VALUES ($1, $2, $3, $4, $5)`,
    [
      consumer,
      context.envelope.messageId,
      payload.conversationKey ?? null,
      Number(payload.text ?? 'NaN') || null,
      context.attempt,
    ],
  );
}

export interface TestBed {
  readonly db: TestDatabase;
  readonly vhost: TestVhost;
  readonly services: Messaging[];
  startService(options: {
    groups?: ConsumerGroupSpec[];
    handlers?: Partial<Record<RoutingKey, TestHandler>>;
    amqpUrl?: string;
    overrides?: Partial<MessagingOptions>;
  }): Promise<Messaging>;
  effects(): Promise<Effect[]>;
  raw(): Promise<ChannelModel>;
  dispose(): Promise<void>;
}

export async function createTestBed(prefix: string): Promise<TestBed> {
  const [db, vhost] = await Promise.all([
    createTestDatabase(prefix, [...messagingMigrations, TestEffects1764072000001], { poolSize: 20 }),
    createTestVhost(prefix),
  ]);
  const services: Messaging[] = [];
  const rawConnections: ChannelModel[] = [];
  return {
    db,
    vhost,
    services,
    async startService({ groups = [], handlers = {}, amqpUrl, overrides = {} }) {
      const messaging = new Messaging({
        serviceName: `test-${services.length}`,
        amqpUrl: amqpUrl ?? vhost.url,
        dataSource: db.dataSource,
        databaseUrl: db.url,
        schema: db.schema,
        consumerGroups: groups,
        registry: new Registry(),
        prefetch: 20,
        drainTimeoutMs: 10_000,
        relay: { pollIntervalMs: 200 },
        reconnect: { initialDelayMs: 50, maxDelayMs: 500 },
        ...(process.env['DEBUG_MESSAGING'] ? { logger: consoleLogger } : {}),
        ...overrides,
      });
      services.push(messaging);
      await messaging.start();
      messaging.startConsumers((type) => handlers[type as RoutingKey]);
      return messaging;
    },
    effects() {
      return db.dataSource.query(
        `SELECT consumer, message_id, ordering_key, seq, attempt FROM "${db.schema}".effects ORDER BY id`,
      );
    },
    async raw() {
      const connection = await connect(vhost.url);
      rawConnections.push(connection);
      return connection;
    },
    async dispose() {
      await Promise.all(services.map((s) => s.stop().catch(() => undefined)));
      await Promise.all(rawConnections.map((c) => c.close().catch(() => undefined)));
      await db.dispose();
      await vhost.dispose();
    },
  };
}

/** Writes a message through the outbox in its own transaction, with a domain row, as a service would. */
export async function publishThroughOutbox(
  bed: TestBed,
  messaging: Messaging,
  payload: { conversationKey: string; text: string; channelAccountId?: string },
  portalId = 101,
): Promise<string> {
  return bed.db.dataSource.transaction(async (manager) => {
    await manager.query(`INSERT INTO "${bed.db.schema}".notes (text) VALUES ($1)`, [payload.text]);
    const envelope = await messaging.outbox.publish(
      manager,
      RoutingKeys.ProviderMessageReceivedV1,
      receivedPayload(payload),
      { portalId },
    );
    return envelope.messageId;
  });
}

export function receivedPayload(p: { conversationKey: string; text: string; channelAccountId?: string }) {
  return exampleProviderMessageReceivedV1({
    channelAccountId: p.channelAccountId ?? 'ca-1',
    conversationKey: p.conversationKey,
    providerMessageId: randomUUID(),
    text: p.text,
    attachments: [],
  });
}

const consoleLogger = {
  debug: (m: string, f?: Record<string, unknown>) => {
    console.debug(m, f ?? '');
  },
  info: (m: string, f?: Record<string, unknown>) => {
    console.info(m, f ?? '');
  },
  warn: (m: string, f?: Record<string, unknown>) => {
    console.warn(m, f ?? '');
  },
  error: (m: string, f?: Record<string, unknown>) => {
    console.error(m, f ?? '');
  },
};
