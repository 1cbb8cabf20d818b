import { messagingMigrations } from '@inbox-bridge/messaging';
import { serviceDatabaseOptions, type CommonConfig, type DatabaseOptions } from '@inbox-bridge/service-kit';
import { RoutingTables1764172800000 } from './migrations/1764172800000-routing-tables.js';
import { ThreadStatus1764345600000 } from './migrations/1764345600000-thread-status.js';
import { RoutingAuditRetention1765000000000 } from './migrations/1765000000000-routing-audit-retention.js';

/** Every router migration, oldest first. Applied by `db:migrate` (a Job), never on app start. */
export const routerMigrations = [
  ...messagingMigrations,
  RoutingTables1764172800000,
  ThreadStatus1764345600000,
  RoutingAuditRetention1765000000000,
];

/** The router's `DatabaseOptions` (schema `DATABASE_SCHEMA`), shared by the app and the migrate command. */
export const routerDatabaseOptions = (config: CommonConfig): DatabaseOptions =>
  serviceDatabaseOptions(config, { migrations: routerMigrations, applicationName: 'router' });
