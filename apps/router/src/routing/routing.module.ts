import { Messaging, OutboxWriter } from '@inbox-bridge/messaging';
import { APP_CONFIG, SettingsLinkSigner, parseAdminTokens } from '@inbox-bridge/service-kit';
import { Module, type DynamicModule } from '@nestjs/common';
import { ADMIN_TOKENS, SETTINGS_LINK_SIGNER } from '../admin/admin-auth.guard.js';
import { RoutingAdminController } from '../admin/routing-admin.controller.js';
import { RoutingAdminService } from '../admin/routing-admin.service.js';
import { SettingsPageController } from '../admin/settings-page.controller.js';
import type { RouterConfig } from '../config/router.config.js';
import { ROUTER_CLOCK, systemClock, type Clock } from './clock.js';
import { RoutingEventsController } from './routing-events.controller.js';
import {
  RoutingTimerPoller,
  TIMER_POLLER_SETTINGS,
  type TimerPollerSettings,
} from './routing-timer.poller.js';
import { RoutingMetrics } from './routing.metrics.js';
import { RoutingRepository } from './routing.repository.js';
import { ROUTING_SETTINGS, RoutingService, type RoutingSettings } from './routing.service.js';

export interface RoutingModuleOptions {
  /** Tests replace the clock to move time forward. */
  readonly clock?: Clock;
}

/** Routing decisions from the gateway's events, the timer poller, the admin API and the settings page. */
@Module({})
export class RoutingModule {
  static forRoot(options: RoutingModuleOptions = {}): DynamicModule {
    return {
      module: RoutingModule,
      controllers: [RoutingEventsController, RoutingAdminController, SettingsPageController],
      providers: [
        RoutingRepository,
        RoutingMetrics,
        RoutingService,
        RoutingTimerPoller,
        RoutingAdminService,
        { provide: ROUTER_CLOCK, useValue: options.clock ?? systemClock },
        {
          provide: OutboxWriter,
          inject: [Messaging],
          useFactory: (messaging: Messaging) => messaging.outbox,
        },
        {
          provide: ROUTING_SETTINGS,
          inject: [APP_CONFIG],
          useFactory: (config: RouterConfig): RoutingSettings => ({
            retryDelayMs: config.ROUTER_ASSIGNMENT_RETRY_DELAY_MS,
          }),
        },
        {
          provide: TIMER_POLLER_SETTINGS,
          inject: [APP_CONFIG],
          useFactory: (config: RouterConfig): TimerPollerSettings => ({
            intervalMs: config.ROUTER_TIMER_POLL_INTERVAL_MS,
            batchSize: config.ROUTER_BATCH_SIZE,
            databaseUrl: config.DATABASE_URL,
            schema: config.DATABASE_SCHEMA,
          }),
        },
        {
          provide: SETTINGS_LINK_SIGNER,
          inject: [APP_CONFIG],
          useFactory: (config: RouterConfig) =>
            config.SETTINGS_LINK_SECRET === '' ? null : new SettingsLinkSigner(config.SETTINGS_LINK_SECRET),
        },
        {
          provide: ADMIN_TOKENS,
          inject: [APP_CONFIG],
          useFactory: (config: RouterConfig) => parseAdminTokens(config.ADMIN_TOKENS),
        },
      ],
      exports: [RoutingService, RoutingTimerPoller],
    };
  }
}
