import { startServiceApp } from '@inbox-bridge/service-kit';
import * as testing from '@inbox-bridge/testing';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { randomBytes } from 'node:crypto';
import { createServer, type AddressInfo } from 'node:net';
import { loadGatewayConfig, type GatewayConfig } from '../../src/config/gateway.config.js';
import { createGatewayApp } from '../../src/gateway-app.js';
import { SANDBOX_APP } from './hubspot-fixture.js';

export interface GatewayUnderTest {
  readonly app: NestExpressApplication;
  readonly baseUrl: string;
  readonly webhookUrl: string;
}

/** The gateway's configuration for a test schema and broker URL, with any extra environment. */
export function testGatewayConfig(
  db: testing.TestDatabase,
  amqpUrl: string,
  env: Readonly<Record<string, string>> = {},
): GatewayConfig {
  return loadGatewayConfig({
    NODE_ENV: 'test',
    DATABASE_URL: testing.testDatabaseUrl,
    DATABASE_SCHEMA: db.schema,
    AMQP_URL: amqpUrl,
    ENCRYPTION_KEYS: `k1:${randomBytes(32).toString('base64')}`,
    ENCRYPTION_ACTIVE_KEY_ID: 'k1',
    LOG_LEVEL: 'error',
    ...env,
  });
}

/** The gateway as main.ts builds it, on port 0, on a test schema and vhost, with any extra environment. */
export async function startGatewayUnderTest(
  db: testing.TestDatabase,
  vhost: testing.TestVhost,
  env: Readonly<Record<string, string>> = {},
  listenPort = 0,
): Promise<GatewayUnderTest> {
  const config = testGatewayConfig(db, vhost.url, env);
  const app = await createGatewayApp(config);
  await startServiceApp(app, { port: listenPort, host: '127.0.0.1' });
  const { port } = app.getHttpServer().address() as AddressInfo;
  const baseUrl = `http://127.0.0.1:${port}`;
  return { app, baseUrl, webhookUrl: `${baseUrl}/webhooks/hubspot` };
}

/** A port free right now, for a gateway whose public URL must be known before it starts. */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => {
    server.close(() => {
      resolve();
    });
  });
  return port;
}

/**
 * The gateway at a public URL known before it starts (the channel registered through it sends HubSpot's
 * webhooks and popup there), talking to the HubSpot sandbox at `hubspotUrl` as the sandbox's app.
 */
export async function startPublicGateway(
  db: testing.TestDatabase,
  vhost: testing.TestVhost,
  hubspotUrl: string,
  env: Readonly<Record<string, string>> = {},
): Promise<GatewayUnderTest> {
  const port = await freePort();
  return startGatewayUnderTest(
    db,
    vhost,
    {
      PUBLIC_BASE_URL: `http://127.0.0.1:${port}`,
      HUBSPOT_API_BASE_URL: hubspotUrl,
      HUBSPOT_CLIENT_SECRET: SANDBOX_APP.clientSecret,
      ...env,
    },
    port,
  );
}
