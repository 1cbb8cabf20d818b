import {
  ConsumeMessage,
  listDeadLetters,
  messagingMigrations,
  PermanentError,
  TransientError,
  type MessageContext,
} from '@inbox-bridge/messaging';
import { exampleProviderMessageReceivedV1, RoutingKeys, type MessageEnvelope } from '@inbox-bridge/shared';
import {
  createTestDatabase,
  createTestVhost,
  expectEventually,
  type TestDatabase,
  type TestVhost,
} from '@inbox-bridge/testing';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Controller, Module } from '@nestjs/common';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { connect } from 'amqplib';
import { randomUUID } from 'node:crypto';
import { createServiceApp } from '../src/bootstrap/create-service-app.js';
import {
  serviceDatabaseOptions,
  ServiceRuntimeModule,
  startServiceApp,
} from '../src/bootstrap/service-runtime.module.js';
import { commonConfigSchema } from '../src/config/common-config.js';
import { loadConfig } from '../src/config/load-config.js';
import { testEncryptionEnv } from './support.js';

type Received = MessageEnvelope<typeof RoutingKeys.ProviderMessageReceivedV1>;

const handled: { text: string | undefined; attempt: number }[] = [];

@Controller()
class CustomerMessagesController {
  @ConsumeMessage(RoutingKeys.ProviderMessageReceivedV1)
  async onReceived(envelope: Received, context: MessageContext): Promise<void> {
    const text = envelope.payload.text;
    if (text === 'unknown account') {
      throw new PermanentError('channel account 4815162342 is not connected', 'UNKNOWN_CHANNEL_ACCOUNT');
    }
    if (text === 'flaky' && context.attempt === 1) {
      throw new TransientError('HubSpot answered 503');
    }
    await context.manager.query('SELECT 1');
    handled.push({ text, attempt: context.attempt });
  }
}

@Module({ controllers: [CustomerMessagesController] })
class CustomerMessagesModule {}

describe('@ConsumeMessage handlers in a Nest service', () => {
  let db: TestDatabase;
  let vhost: TestVhost;
  let app: NestExpressApplication;

  beforeAll(async () => {
    [db, vhost] = await Promise.all([
      createTestDatabase('kit_handlers', messagingMigrations),
      createTestVhost('kit_handlers'),
    ]);
    const config = loadConfig(commonConfigSchema, {
      PORT: '3999',
      DATABASE_URL: db.url,
      DATABASE_SCHEMA: db.schema,
      AMQP_URL: vhost.url,
      LOG_LEVEL: 'warn',
      ...testEncryptionEnv(),
    });
    app = await createServiceApp(
      ServiceRuntimeModule.forRoot({
        serviceName: 'kit-handlers',
        config,
        database: serviceDatabaseOptions(config, { migrations: messagingMigrations }),
        consumerGroups: [
          {
            name: 'kit.inbound',
            routingKeys: [RoutingKeys.ProviderMessageReceivedV1],
            retryDelaysMs: [300],
          },
        ],
        imports: [CustomerMessagesModule],
      }),
      { config, configSchema: commonConfigSchema },
    );
    const messaging = await startServiceApp(app, { port: 0, host: '127.0.0.1' });
    await expectEventually(() => messaging.status().consumerGroups['kit.inbound']?.consuming === true);
  });

  afterAll(async () => {
    await app.close();
    await db.dispose();
    await vhost.dispose();
  });

  async function publish(text: string): Promise<void> {
    const connection = await connect(vhost.url);
    const channel = await connection.createConfirmChannel();
    const envelope = {
      messageId: randomUUID(),
      correlationId: randomUUID(),
      causationId: null,
      occurredAt: new Date().toISOString(),
      portalId: 42,
      type: RoutingKeys.ProviderMessageReceivedV1,
      payload: exampleProviderMessageReceivedV1({ text, providerMessageId: randomUUID() }),
    };
    channel.publish('inbox-bridge.events', envelope.type, Buffer.from(JSON.stringify(envelope)), {
      persistent: true,
      messageId: envelope.messageId,
    });
    await channel.waitForConfirms();
    await connection.close();
  }

  it('dispatches by message type, retries the handler’s transient errors and dead-letters its permanent ones', async () => {
    await publish('hello');
    await publish('flaky');
    await publish('unknown account');

    await expectEventually(() => {
      expect(handled).toEqual(
        expect.arrayContaining([
          { text: 'hello', attempt: 1 },
          { text: 'flaky', attempt: 2 },
        ]),
      );
    });
    const connection = await connect(vhost.url);
    const letters = await expectEventually(async () => {
      const channel = await connection.createChannel();
      const found = await listDeadLetters(channel, 'kit.inbound');
      await channel.close();
      expect(found).toHaveLength(1);
      return found;
    });
    await connection.close();
    // The handler's own error class survived Nest's exception layer: dead-lettered at once, not retried.
    expect(letters[0]).toMatchObject({ errorClass: 'permanent', attempts: 1 });
    expect(letters[0]?.error).toContain('channel account 4815162342 is not connected');
    expect(handled.filter((h) => h.text === 'unknown account')).toEqual([]);
  });
});
