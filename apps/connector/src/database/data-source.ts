import { MessagingTables1764072000000 } from '@inbox-bridge/messaging';
import { serviceDatabaseOptions, type DatabaseOptions } from '@inbox-bridge/service-kit';
import type { ConnectorConfig } from '../config/connector.config.js';

/** Every connector migration, oldest first. Applied by `db:migrate` (a Job), never on app start. */
export const connectorMigrations = [MessagingTables1764072000000];

/** The connector's `DatabaseOptions` (schema `DATABASE_SCHEMA`), shared by the app and the migrate command. */
export const connectorDatabaseOptions = (config: ConnectorConfig): DatabaseOptions =>
  serviceDatabaseOptions(config, { migrations: connectorMigrations, applicationName: 'connector' });
