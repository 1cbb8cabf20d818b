import { ServiceRuntimeModule } from '@inbox-bridge/service-kit';
import { Module, type DynamicModule } from '@nestjs/common';
import type { ConnectorConfig } from './config/connector.config.js';
import { ConnectorModule } from './connector.module.js';
import { connectorDatabaseOptions } from './database/data-source.js';
import { connectorConsumerGroups } from './messaging/consumer-groups.js';

@Module({})
export class AppModule {
  static forRoot(config: ConnectorConfig): DynamicModule {
    const runtime = ServiceRuntimeModule.forRoot({
      serviceName: 'connector',
      config,
      database: connectorDatabaseOptions(config),
      consumerGroups: connectorConsumerGroups,
      imports: [ConnectorModule],
    });
    return { module: AppModule, imports: [runtime] };
  }
}
