import { createServiceApp } from '@inbox-bridge/service-kit';
import type { NestExpressApplication } from '@nestjs/platform-express';
import 'reflect-metadata';
import { AppModule } from './app.module.js';
import { HubSpotErrorFilter } from './common/hubspot-error.filter.js';
import { sandboxConfigSchema, type SandboxConfig } from './config/sandbox.config.js';

/** The sandbox app, not yet listening (main.ts and the integration tests both start it this way). */
export async function createSandboxApp(config: SandboxConfig): Promise<NestExpressApplication> {
  const app = await createServiceApp(AppModule.forRoot(config), {
    config,
    configSchema: sandboxConfigSchema,
  });
  if (!config.SANDBOX_REQUEST_LOGS) {
    app.useLogger(['fatal', 'error', 'warn']);
  }
  // Registered after service-kit's problem+json filter, so it wins: unknown paths answer HubSpot's 404 too.
  app.useGlobalFilters(new HubSpotErrorFilter());
  return app;
}
