import { generateTransitKeyPair, hybridServiceSuite } from '@inbox-bridge/service-kit';
import * as testing from '@inbox-bridge/testing';
import { afterAll, beforeAll, describe, it } from '@jest/globals';
import { AppModule } from '../src/app.module.js';
import { loadConnectorConfig } from '../src/config/connector.config.js';
import { connectorDatabaseOptions } from '../src/database/data-source.js';

const transitKeys = generateTransitKeyPair('suite');

const suite = hybridServiceSuite({
  serviceName: 'connector',
  defaultPort: 3001,
  // The suite's environments name no media-link secret nor transit key, which production (NODE_ENV's default)
  // requires.
  loadConfig: (env) =>
    loadConnectorConfig({
      MEDIA_LINK_SECRET: 'hybrid-suite-media-link-secret-0123456789',
      CREDENTIALS_TRANSIT_PRIVATE_KEYS: transitKeys.privateKey,
      ...env,
    }),
  appModule: (config) => AppModule.forRoot(config),
  databaseOptions: connectorDatabaseOptions,
  testing,
});

describe('connector: one process serving HTTP and consuming messages', () => {
  beforeAll(() => suite.start());
  afterAll(() => suite.dispose());
  it.each(suite.cases)('$name', ({ run }) => run());
});
