import { messagingMigrations } from '@inbox-bridge/messaging';
import { serviceDatabaseOptions, type CommonConfig, type DatabaseOptions } from '@inbox-bridge/service-kit';
import { accountsEntities, accountsMigrations } from '../accounts/accounts.wiring.js';
import { ConversationEvents1764244800000 } from '../conversation-events/conversation-events.migration.js';
import { platformEntities, platformMigrations } from '../platform/platform.wiring.js';
import { HubSpotWebhookEventEntity } from '../webhooks/hubspot-webhook-event.entity.js';
import { HubSpotWebhookEvents1764158400000 } from './migrations/1764158400000-hubspot-webhook-events.js';
import { RecordRetention1765000000000 } from './migrations/1765000000000-record-retention.js';
import { WebhookTraceHeaders1765200000000 } from './migrations/1765200000000-webhook-trace-headers.js';
import { BridgeAssignmentIntents1765400000000 } from './migrations/1765400000000-bridge-assignment-intents.js';
import { ForgottenMessages1765500000000 } from './migrations/1765500000000-forgotten-messages.js';

/** Every gateway migration (TypeORM runs them by timestamp). Applied by `db:migrate` (a Job), never on app start. */
export const gatewayMigrations = [
  ...messagingMigrations,
  HubSpotWebhookEvents1764158400000,
  ConversationEvents1764244800000,
  ...platformMigrations,
  ...accountsMigrations,
  RecordRetention1765000000000,
  WebhookTraceHeaders1765200000000,
  BridgeAssignmentIntents1765400000000,
  ForgottenMessages1765500000000,
];

/** Every gateway TypeORM entity. */
export const gatewayEntities = [HubSpotWebhookEventEntity, ...platformEntities, ...accountsEntities];

/** The gateway's `DatabaseOptions` (schema `DATABASE_SCHEMA`), shared by the app and the migrate command. */
export const gatewayDatabaseOptions = (config: CommonConfig): DatabaseOptions =>
  serviceDatabaseOptions(config, {
    migrations: gatewayMigrations,
    entities: gatewayEntities,
    applicationName: 'gateway',
  });
