import { failFastOnConfigError } from '@inbox-bridge/service-kit';
import { NestFactory } from '@nestjs/core';
import { AppModule } from '../app.module.js';
import { loadGatewayConfig } from '../config/gateway.config.js';
import { ChannelRegistrationService } from './channel/channel-registration.service.js';

/**
 * `npm run register-channel -w @inbox-bridge/gateway`: creates or updates the app's custom channel and
 * prints `{ channelId, outcome }`. Running it twice changes nothing.
 */
const config = failFastOnConfigError(() => loadGatewayConfig(process.env));
const app = await NestFactory.createApplicationContext(AppModule.forRoot(config));
try {
  const { channelId, outcome } = await app.get(ChannelRegistrationService).register();
  process.stdout.write(`${JSON.stringify({ channelId, outcome })}\n`);
} catch (error) {
  process.stderr.write(
    `channel registration failed: ${error instanceof Error ? error.message : String(error)}\n`,
  );
  process.exitCode = 1;
} finally {
  await app.close();
}
