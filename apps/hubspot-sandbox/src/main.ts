import { failFastOnConfigError } from '@inbox-bridge/service-kit';
import { loadSandboxConfig } from './config/sandbox.config.js';
import { createSandboxApp } from './sandbox-app.js';

const config = failFastOnConfigError(() => loadSandboxConfig(process.env));
const app = await createSandboxApp(config);
await app.listen(config.PORT);
