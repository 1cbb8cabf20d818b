import { createServiceApp, failFastOnConfigError, startServiceApp } from '@inbox-bridge/service-kit';
import { AppModule } from './app.module.js';
import { connectorConfigSchema, loadConnectorConfig } from './config/connector.config.js';

const config = failFastOnConfigError(() => loadConnectorConfig(process.env));
const app = await createServiceApp(AppModule.forRoot(config), {
  config,
  configSchema: connectorConfigSchema,
});
await startServiceApp(app, { port: config.PORT });
