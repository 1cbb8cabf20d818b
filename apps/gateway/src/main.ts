import { failFastOnConfigError, startServiceApp } from '@inbox-bridge/service-kit';
import { loadGatewayConfig } from './config/gateway.config.js';
import { createGatewayApp } from './gateway-app.js';

const config = failFastOnConfigError(() => loadGatewayConfig(process.env));
const app = await createGatewayApp(config);
await startServiceApp(app, { port: config.PORT });
