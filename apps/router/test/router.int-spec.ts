import { hybridServiceSuite } from '@inbox-bridge/service-kit';
import * as testing from '@inbox-bridge/testing';
import { afterAll, beforeAll, describe, it } from '@jest/globals';
import { AppModule } from '../src/app.module.js';
import { loadRouterConfig } from '../src/config/router.config.js';
import { routerDatabaseOptions } from '../src/database/data-source.js';

const suite = hybridServiceSuite({
  serviceName: 'router',
  defaultPort: 3002,
  loadConfig: loadRouterConfig,
  appModule: (config) => AppModule.forRoot(config),
  databaseOptions: routerDatabaseOptions,
  testing,
});

describe('router: one process serving HTTP and consuming messages', () => {
  beforeAll(() => suite.start());
  afterAll(() => suite.dispose());
  it.each(suite.cases)('$name', ({ run }) => run());
});
