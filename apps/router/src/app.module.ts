import { ServiceRuntimeModule } from '@inbox-bridge/service-kit';
import { Module, type DynamicModule } from '@nestjs/common';
import type { RouterConfig } from './config/router.config.js';
import { routerDatabaseOptions } from './database/data-source.js';
import { routerConsumerGroups } from './messaging/consumer-groups.js';

@Module({})
export class AppModule {
  static forRoot(config: RouterConfig): DynamicModule {
    const runtime = ServiceRuntimeModule.forRoot({
      serviceName: 'router',
      config,
      database: routerDatabaseOptions(config),
      consumerGroups: routerConsumerGroups,
    });
    return { module: AppModule, imports: [runtime] };
  }
}
