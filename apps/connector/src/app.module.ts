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
      // The message ledger: inbound dedupe keys, reply states, sent reply parts and their message ids (those of dead-lettered replies are
      // never removed by an outcome).
      retainedTables: [
        { table: 'inbound_messages', timeColumn: 'received_at' },
        { table: 'outbound_messages', timeColumn: 'updated_at' },
        { table: 'reply_parts_sent', timeColumn: 'recorded_at' },
        { table: 'reply_message_parts', timeColumn: 'recorded_at' },
      ].map((table) => ({ ...table, retentionMs: config.MESSAGE_LEDGER_RETENTION_MS })),
    });
    return { module: AppModule, imports: [runtime] };
  }
}
