import { ServiceRuntimeModule } from '@inbox-bridge/service-kit';
import { Module, type DynamicModule } from '@nestjs/common';
import type { RouterConfig } from './config/router.config.js';
import { routerDatabaseOptions } from './database/data-source.js';
import { routerConsumerGroups } from './messaging/consumer-groups.js';
import type { Clock } from './routing/clock.js';
import { RoutingModule } from './routing/routing.module.js';

@Module({})
export class AppModule {
  /** `overrides.clock` lets tests move the router's time; main.ts never passes it. */
  static forRoot(config: RouterConfig, overrides: { clock?: Clock } = {}): DynamicModule {
    const runtime = ServiceRuntimeModule.forRoot({
      serviceName: 'router',
      config,
      database: routerDatabaseOptions(config),
      consumerGroups: routerConsumerGroups,
      imports: [RoutingModule.forRoot(overrides.clock === undefined ? {} : { clock: overrides.clock })],
      retainedTables: [
        { table: 'routing_audit', timeColumn: 'recorded_at', retentionMs: config.ROUTING_AUDIT_RETENTION_MS },
      ],
    });
    return { module: AppModule, imports: [runtime] };
  }
}
