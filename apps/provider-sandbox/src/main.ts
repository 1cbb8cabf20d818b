import { createServiceApp, failFastOnConfigError } from '@inbox-bridge/service-kit';
import { AppModule } from './app.module.js';
import { loadSandboxConfig, sandboxConfigSchema } from './config/sandbox.config.js';

const config = failFastOnConfigError(() => loadSandboxConfig(process.env));
const app = await createServiceApp(AppModule.forRoot(config), {
  config,
  configSchema: sandboxConfigSchema,
  bodyLimit: '2mb',
});
if (!config.SANDBOX_REQUEST_LOGS) {
  app.useLogger(['fatal', 'error', 'warn']);
}
await app.listen(config.PORT);
