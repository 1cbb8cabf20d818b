import { createServiceApp, failFastOnConfigError, startServiceApp } from '@inbox-bridge/service-kit';
import { AppModule } from './app.module.js';
import { gatewayConfigSchema, loadGatewayConfig } from './config/gateway.config.js';
import { installBodyParseErrorHandler } from './webhooks/body-parse-error.handler.js';

const config = failFastOnConfigError(() => loadGatewayConfig(process.env));
const app = await createServiceApp(AppModule.forRoot(config), { config, configSchema: gatewayConfigSchema });
installBodyParseErrorHandler(app);
await startServiceApp(app, { port: config.PORT });
