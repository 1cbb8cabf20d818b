import { Messaging } from '@inbox-bridge/messaging';
import { startServiceApp } from '@inbox-bridge/service-kit';
import * as testing from '@inbox-bridge/testing';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { loadGatewayConfig } from '../../src/config/gateway.config.js';
import { createGatewayApp } from '../../src/gateway-app.js';

export interface PlatformGateway {
  readonly app: NestExpressApplication;
  readonly baseUrl: string;
}

/** One shared key ring, so several gateway replicas of a test read each other's encrypted tokens. */
export const TEST_ENCRYPTION_KEYS = `k1:${randomBytes(32).toString('base64')}`;

/** The gateway as main.ts builds it, on port 0, against a test schema and vhost, with platform settings. */
export async function startPlatformGateway(
  db: testing.TestDatabase,
  vhost: testing.TestVhost,
  env: Readonly<Record<string, string>>,
  port = 0,
): Promise<PlatformGateway> {
  const config = loadGatewayConfig({
    NODE_ENV: 'test',
    DATABASE_URL: testing.testDatabaseUrl,
    DATABASE_SCHEMA: db.schema,
    DATABASE_POOL_SIZE: '4',
    AMQP_URL: vhost.url,
    ENCRYPTION_KEYS: TEST_ENCRYPTION_KEYS,
    ENCRYPTION_ACTIVE_KEY_ID: 'k1',
    LOG_LEVEL: 'error',
    ...env,
  });
  const app = await createGatewayApp(config);
  await startServiceApp(app, { port, host: '127.0.0.1' });
  // Each consumer group declares its queues and bindings once it is connected. A test that publishes before then
  // loses its message for that group whenever another queue (a capture) makes it routable.
  const messaging = app.get(Messaging, { strict: false }).readinessCheck();
  await testing.expectEventually(() => messaging.check(), {
    description: 'every consumer group of the gateway consuming',
  });
  const { port: bound } = app.getHttpServer().address() as AddressInfo;
  return { app, baseUrl: `http://127.0.0.1:${bound}` };
}

/** A port that was free a moment ago (to know PUBLIC_BASE_URL before the gateway starts). */
export async function freePort(): Promise<number> {
  const { createServer } = await import('node:net');
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      server.close(() => {
        resolve(port);
      });
    });
  });
}
