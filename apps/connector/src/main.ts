import { failFastOnConfigError, startServiceApp } from '@inbox-bridge/service-kit';
import { loadConnectorConfig } from './config/connector.config.js';
import { createConnectorApp } from './connector-app.js';

const config = failFastOnConfigError(() => loadConnectorConfig(process.env));
const app = await createConnectorApp(config);
await startServiceApp(app, { port: config.PORT });
