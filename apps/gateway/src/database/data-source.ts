import { MessagingTables1764072000000 } from '@inbox-bridge/messaging';
import { serviceDatabaseOptions, type DatabaseOptions } from '@inbox-bridge/service-kit';
import type { GatewayConfig } from '../config/gateway.config.js';

/** Every gateway migration, oldest first. Applied by `db:migrate` (a Job), never on app start. */
export const gatewayMigrations = [MessagingTables1764072000000];

/** The gateway's `DatabaseOptions` (schema `DATABASE_SCHEMA`), shared by the app and the migrate command. */
export const gatewayDatabaseOptions = (config: GatewayConfig): DatabaseOptions =>
  serviceDatabaseOptions(config, { migrations: gatewayMigrations, applicationName: 'gateway' });
