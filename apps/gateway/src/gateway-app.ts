import { createServiceApp, installRawHttpRoutes } from '@inbox-bridge/service-kit';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { AppModule } from './app.module.js';
import { gatewayConfigSchema, type GatewayConfig } from './config/gateway.config.js';
import { ConversationEventsRoute } from './conversation-events/conversation-events.route.js';
import { HubSpotWebhookRoute } from './webhooks/hubspot-webhook.route.js';

/** The gateway exactly as main.ts runs it (tests start it through here too, so nothing is left out). */
export async function createGatewayApp(config: GatewayConfig): Promise<NestExpressApplication> {
  const app = await createServiceApp(AppModule.forRoot(config), {
    config,
    configSchema: gatewayConfigSchema,
  });
  installRawHttpRoutes(app, [
    app.get(HubSpotWebhookRoute, { strict: false }),
    app.get(ConversationEventsRoute, { strict: false }),
  ]);
  return app;
}
