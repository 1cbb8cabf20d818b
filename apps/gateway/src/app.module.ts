import { ServiceRuntimeModule } from '@inbox-bridge/service-kit';
import { Module, type DynamicModule } from '@nestjs/common';
import { AccountsModule } from './accounts/accounts.module.js';
import type { GatewayConfig } from './config/gateway.config.js';
import { ASSIGNMENT_INTENT_VALIDITY_MS } from './conversation-events/bridge-assignment-journal.js';
import { ConversationEventsModule } from './conversation-events/conversation-events.module.js';
import { gatewayDatabaseOptions } from './database/data-source.js';
import { gatewayConsumerGroups } from './messaging/consumer-groups.js';
import { PlatformModule } from './platform/platform.module.js';
import { HubSpotWebhooksModule } from './webhooks/hubspot-webhooks.module.js';

@Module({})
export class AppModule {
  static forRoot(config: GatewayConfig): DynamicModule {
    const runtime = ServiceRuntimeModule.forRoot({
      serviceName: 'gateway',
      config,
      database: gatewayDatabaseOptions(config),
      consumerGroups: gatewayConsumerGroups,
      imports: [HubSpotWebhooksModule, ConversationEventsModule, PlatformModule, AccountsModule],
      retainedTables: [
        { table: 'published_messages', timeColumn: 'published_at' },
        { table: 'forgotten_messages', timeColumn: 'published_at' },
        { table: 'outbound_message_statuses', timeColumn: 'updated_at' },
        { table: 'conversation_events', timeColumn: 'received_at' },
        { table: 'bridge_thread_assignments', timeColumn: 'applied_at' },
      ]
        .map((table) => ({ ...table, retentionMs: config.MESSAGE_RECORD_RETENTION_MS }))
        .concat(
          // A bucket's expired grants go when it is next used; a bucket that falls quiet would keep its last ones.
          { table: 'hubspot_rate_grants', timeColumn: 'busy_until', retentionMs: 60_000 },
          {
            table: 'bridge_assignment_intents',
            timeColumn: 'intended_at',
            retentionMs: ASSIGNMENT_INTENT_VALIDITY_MS,
          },
        ),
    });
    return { module: AppModule, imports: [runtime] };
  }
}
