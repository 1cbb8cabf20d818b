import { createServiceApp, failFastOnConfigError, startServiceApp } from '@inbox-bridge/service-kit';
import { AppModule } from './app.module.js';
import { gatewayConfigSchema, loadGatewayConfig } from './config/gateway.config.js';

const config = failFastOnConfigError(() => loadGatewayConfig(process.env));
const app = await createServiceApp(AppModule.forRoot(config), { config, configSchema: gatewayConfigSchema });
await startServiceApp(app, { port: config.PORT });
