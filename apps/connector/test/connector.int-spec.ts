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
  // The suite's environments name none of the public origins and secrets production (NODE_ENV's default) requires;
  // its credentials are sealed for this suite's transit key.
  loadConfig: (env) =>
    loadConnectorConfig({
      NODE_ENV: 'test',
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
