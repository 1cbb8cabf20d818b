import { startServiceApp } from '@inbox-bridge/service-kit';
import * as testing from '@inbox-bridge/testing';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { loadGatewayConfig } from '../src/config/gateway.config.js';
import { createGatewayApp } from '../src/gateway-app.js';

export interface RunningGateway {
  readonly app: NestExpressApplication;
  readonly baseUrl: string;
  readonly webhookUrl: string;
}

/** The gateway as main.ts builds it, on port 0, against a test schema and vhost. */
export async function startGateway(
  db: testing.TestDatabase,
  vhost: testing.TestVhost,
  env: { readonly HUBSPOT_CLIENT_SECRET: string; readonly PUBLIC_BASE_URL?: string },
): Promise<RunningGateway> {
  const config = loadGatewayConfig({
    NODE_ENV: 'test',
    DATABASE_URL: testing.testDatabaseUrl,
    DATABASE_SCHEMA: db.schema,
    AMQP_URL: vhost.url,
    ENCRYPTION_KEYS: `k1:${randomBytes(32).toString('base64')}`,
    ENCRYPTION_ACTIVE_KEY_ID: 'k1',
    LOG_LEVEL: 'error',
    ...env,
  });
  const app = await createGatewayApp(config);
  await startServiceApp(app, { port: 0, host: '127.0.0.1' });
  const { port } = app.getHttpServer().address() as AddressInfo;
  const baseUrl = `http://127.0.0.1:${port}`;
  return { app, baseUrl, webhookUrl: `${baseUrl}/webhooks/hubspot` };
}
