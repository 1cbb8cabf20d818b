import { ConfigModule, HealthModule, LoggingModule, MetricsModule } from '@inbox-bridge/service-kit';
import {
  Module,
  RequestMethod,
  type DynamicModule,
  type MiddlewareConsumer,
  type NestModule,
} from '@nestjs/common';
import { ChannelAccountService } from './api/channel-account.service.js';
import { ChannelAccountsController } from './api/channel-accounts.controller.js';
import { ChannelService } from './api/channel.service.js';
import { ChannelsController } from './api/channels.controller.js';
import { MessageService } from './api/message.service.js';
import { MessagesController } from './api/messages.controller.js';
import type { SandboxConfig } from './config/sandbox.config.js';
import { ControlController } from './control/control.controller.js';
import { SeedService } from './control/seed.service.js';
import { SettingsStore } from './control/settings.store.js';
import {
  ConversationsController,
  ThreadAssigneeController,
} from './conversations/conversations.controller.js';
import { ConversationsService } from './conversations/conversations.service.js';
import {
  ContactsController,
  OwnersController,
  TicketsController,
  UsersController,
} from './crm/crm.controller.js';
import { CrmService } from './crm/crm.service.js';
import { CrmStore } from './crm/crm.store.js';
import { FileStore } from './files/file.store.js';
import { FileHostController, FilesController } from './files/files.controller.js';
import { FilesService } from './files/files.service.js';
import { OAuthController } from './oauth/oauth.controller.js';
import { TokenService } from './oauth/token.service.js';
import { ApiTrafficMiddleware } from './rate-limit/api-traffic.middleware.js';
import { RateLimiter } from './rate-limit/rate-limiter.js';
import { AppStore } from './store/app.store.js';
import { ChannelAccountStore } from './store/channel-account.store.js';
import { ChannelStore } from './store/channel.store.js';
import { IdGenerator } from './store/ids.js';
import { MessageStore } from './store/message.store.js';
import { PortalStore } from './store/portal.store.js';
import { TokenStore } from './store/token.store.js';
import { WebController } from './web/web.controller.js';
import { ConversationEvents } from './webhooks/conversation-events.service.js';
import { CustomChannelEvents } from './webhooks/custom-channel-events.service.js';
import { WebhookDispatcher } from './webhooks/webhook-dispatcher.service.js';

@Module({})
export class AppModule implements NestModule {
  static forRoot(config: SandboxConfig): DynamicModule {
    return {
      module: AppModule,
      imports: [
        ConfigModule.forRoot(config),
        ...(config.SANDBOX_REQUEST_LOGS
          ? [LoggingModule.forRoot({ serviceName: 'hubspot-sandbox', level: config.LOG_LEVEL })]
          : []),
        MetricsModule.forRoot({ serviceName: 'hubspot-sandbox' }),
        HealthModule.forRoot(),
      ],
      controllers: [
        ControlController,
        OAuthController,
        ChannelsController,
        ChannelAccountsController,
        MessagesController,
        ConversationsController,
        ThreadAssigneeController,
        OwnersController,
        UsersController,
        ContactsController,
        TicketsController,
        FilesController,
        FileHostController,
        WebController,
      ],
      providers: [
        IdGenerator,
        PortalStore,
        AppStore,
        ChannelStore,
        ChannelAccountStore,
        MessageStore,
        TokenStore,
        SettingsStore,
        SeedService,
        TokenService,
        RateLimiter,
        WebhookDispatcher,
        CustomChannelEvents,
        ConversationEvents,
        ChannelService,
        ChannelAccountService,
        MessageService,
        CrmStore,
        CrmService,
        ConversationsService,
        FileStore,
        FilesService,
      ],
    };
  }

  configure(consumer: MiddlewareConsumer): void {
    consumer
      .apply(ApiTrafficMiddleware)
      .forRoutes(
        { path: 'conversations/{*splat}', method: RequestMethod.ALL },
        { path: 'oauth/{*splat}', method: RequestMethod.ALL },
        { path: 'crm/{*splat}', method: RequestMethod.ALL },
        { path: 'files/{*splat}', method: RequestMethod.ALL },
      );
  }
}
