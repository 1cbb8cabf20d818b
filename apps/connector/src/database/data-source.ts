import { messagingMigrations } from '@inbox-bridge/messaging';
import { serviceDatabaseOptions, type CommonConfig, type DatabaseOptions } from '@inbox-bridge/service-kit';
import { ConnectorTables1764180000000 } from './migrations/1764180000000-connector-tables.js';
import { ParkedStatusReports1764183600000 } from './migrations/1764183600000-parked-status-reports.js';
import { ReplyPartsSent1764600000000 } from './migrations/1764600000000-reply-parts-sent.js';
import { InboundReconciliation1764900000000 } from './migrations/1764900000000-inbound-reconciliation.js';
import { LedgerRetention1765000000000 } from './migrations/1765000000000-ledger-retention.js';
import { DeliveryStatusChecks1765100000000 } from './migrations/1765100000000-delivery-status-checks.js';
import { WebhookWatch1765200000000 } from './migrations/1765200000000-webhook-watch.js';
import { ReplyMessageParts1765300000000 } from './migrations/1765300000000-reply-message-parts.js';
import { ChannelAccountAddress1765400000000 } from './migrations/1765400000000-channel-account-address.js';
import { MovedConversations1765500000000 } from './migrations/1765500000000-moved-conversations.js';
import { PendingCredentialsPortal1765600000000 } from './migrations/1765600000000-pending-credentials-portal.js';

/** Every connector migration, oldest first. Applied by `db:migrate` (a Job), never on app start. */
export const connectorMigrations = [
  ...messagingMigrations,
  ConnectorTables1764180000000,
  ParkedStatusReports1764183600000,
  ReplyPartsSent1764600000000,
  InboundReconciliation1764900000000,
  LedgerRetention1765000000000,
  DeliveryStatusChecks1765100000000,
  WebhookWatch1765200000000,
  ReplyMessageParts1765300000000,
  ChannelAccountAddress1765400000000,
  MovedConversations1765500000000,
  PendingCredentialsPortal1765600000000,
];

/** The connector's `DatabaseOptions` (schema `DATABASE_SCHEMA`), shared by the app and the migrate command. */
export const connectorDatabaseOptions = (config: CommonConfig): DatabaseOptions =>
  serviceDatabaseOptions(config, { migrations: connectorMigrations, applicationName: 'connector' });
