import { hybridServiceSuite } from '@inbox-bridge/service-kit';
import * as testing from '@inbox-bridge/testing';
import { afterAll, beforeAll, describe, it } from '@jest/globals';
import { AppModule } from '../src/app.module.js';
import { loadGatewayConfig } from '../src/config/gateway.config.js';
import { gatewayDatabaseOptions } from '../src/database/data-source.js';

const suite = hybridServiceSuite({
  serviceName: 'gateway',
  defaultPort: 3000,
  // The suite's environments name no HubSpot secret, which production (NODE_ENV's default) requires.
  loadConfig: (env) =>
    loadGatewayConfig({ HUBSPOT_CLIENT_SECRET: 'hybrid-suite-secret', NODE_ENV: 'test', ...env }),
  appModule: (config) => AppModule.forRoot(config),
  databaseOptions: gatewayDatabaseOptions,
  testing,
});

describe('gateway: one process serving HTTP and consuming messages', () => {
  beforeAll(() => suite.start());
  afterAll(() => suite.dispose());
  it.each(suite.cases)('$name', ({ run }) => run());
});
