import type { Env } from '@inbox-bridge/service-kit';
import type { NestExpressApplication } from '@nestjs/platform-express';
import type { AddressInfo } from 'node:net';
import { loadSandboxConfig } from './config/sandbox.config.js';
import { createSandboxApp } from './sandbox-app.js';

export interface RunningHubSpotSandbox {
  readonly app: NestExpressApplication;
  /** `http://127.0.0.1:<port>`: the emulated HubSpot API origin and the control API origin. */
  readonly url: string;
  close(): Promise<void>;
}

/**
 * Starts the HubSpot sandbox in this process (tests, dev scripts). `env` overrides `process.env`; `port`
 * overrides `PORT` (0 picks a free port). Listens on 127.0.0.1 only.
 */
export async function startHubSpotSandbox(
  env: Env = {},
  options: { port?: number } = {},
): Promise<RunningHubSpotSandbox> {
  const config = loadSandboxConfig({ ...process.env, ...env });
  const app = await createSandboxApp(config);
  await app.listen(options.port ?? config.PORT, '127.0.0.1');
  const { port } = app.getHttpServer().address() as AddressInfo;
  return { app, url: `http://127.0.0.1:${port}`, close: () => app.close() };
}
