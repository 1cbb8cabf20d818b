import { createServiceApp, type Env } from '@inbox-bridge/service-kit';
import type { NestExpressApplication } from '@nestjs/platform-express';
import type { AddressInfo } from 'node:net';
import { AppModule } from './app.module.js';
import { loadSandboxConfig, sandboxConfigSchema } from './config/sandbox.config.js';

export interface RunningSandbox {
  readonly app: NestExpressApplication;
  /** `http://127.0.0.1:<port>`: the Telegram API origin and the control API origin. */
  readonly baseUrl: string;
  close(): Promise<void>;
}

/**
 * Starts the sandbox in this process (tests, dev scripts). `env` overrides `process.env`; `port` overrides
 * `PORT` (0 picks a free port).
 */
export async function startProviderSandbox(
  env: Env = {},
  options: { port?: number } = {},
): Promise<RunningSandbox> {
  const config = loadSandboxConfig({ ...process.env, ...env });
  const app = await createServiceApp(AppModule.forRoot(config), { config, bodyLimit: '2mb' });
  if (!config.SANDBOX_REQUEST_LOGS) {
    app.useLogger(['fatal', 'error', 'warn']);
  }
  await app.listen(options.port ?? config.PORT, '127.0.0.1');
  const { port } = app.getHttpServer().address() as AddressInfo;
  return { app, baseUrl: `http://127.0.0.1:${port}`, close: () => app.close() };
}

export { sandboxConfigSchema };
