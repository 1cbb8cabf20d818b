import { createServiceApp, failFastOnConfigError, startServiceApp } from '@inbox-bridge/service-kit';
import { AppModule } from './app.module.js';
import { loadRouterConfig, routerConfigSchema } from './config/router.config.js';

const config = failFastOnConfigError(() => loadRouterConfig(process.env));
const app = await createServiceApp(AppModule.forRoot(config), { config, configSchema: routerConfigSchema });
await startServiceApp(app, { port: config.PORT });
