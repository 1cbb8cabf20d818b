import { HealthModule, LoggingModule, MetricsModule } from '@inbox-bridge/service-kit';
import { Module, type DynamicModule } from '@nestjs/common';
import type { SandboxConfig } from './config/sandbox.config.js';
import { SANDBOX_CONFIG } from './config/sandbox.config.js';
import { ControlController } from './control/control.controller.js';
import { CustomerPageController } from './customer/customer-page.controller.js';
import { BotApiController } from './telegram/bot-api.controller.js';
import { BotApiService } from './telegram/bot-api.service.js';
import { CustomerSimulator } from './telegram/customer-simulator.js';
import { TelegramState } from './telegram/telegram.state.js';
import { WebhookDispatcher } from './telegram/webhook-dispatcher.js';
import { MessagingApiController } from './twilio/messaging-api.controller.js';
import { TwilioApiController } from './twilio/twilio-api.controller.js';
import { TwilioControlController } from './twilio/twilio-control.controller.js';
import { TwilioDispatcher } from './twilio/twilio-dispatcher.js';
import { TwilioInbound } from './twilio/twilio-inbound.js';
import { TwilioState } from './twilio/twilio.state.js';

/** The provider sandbox: Telegram Bot API and Twilio Messaging emulators and control API; in memory, no database or broker. */
@Module({})
export class AppModule {
  static forRoot(config: SandboxConfig): DynamicModule {
    return {
      module: AppModule,
      imports: [
        ...(config.SANDBOX_REQUEST_LOGS
          ? [LoggingModule.forRoot({ serviceName: 'provider-sandbox', level: config.LOG_LEVEL })]
          : []),
        MetricsModule.forRoot({ serviceName: 'provider-sandbox' }),
        HealthModule.forRoot(),
      ],
      controllers: [
        ControlController,
        TwilioControlController,
        BotApiController,
        TwilioApiController,
        MessagingApiController,
        CustomerPageController,
      ],
      providers: [
        { provide: SANDBOX_CONFIG, useValue: config },
        TelegramState,
        WebhookDispatcher,
        BotApiService,
        CustomerSimulator,
        TwilioState,
        TwilioDispatcher,
        TwilioInbound,
      ],
    };
  }
}
