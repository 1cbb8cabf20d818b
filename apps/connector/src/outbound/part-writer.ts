import { APP_CONFIG, createDataSource } from '@inbox-bridge/service-kit';
import { Inject, Injectable, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import type { DataSource } from 'typeorm';
import type { ConnectorConfig } from '../config/connector.config.js';
import { connectorDatabaseOptions } from '../database/data-source.js';

/** Two connections: a write that waits for a slow one (the database restarting) does not hold up the others. */
const PART_WRITER_POOL_SIZE = 2;

/**
 * The pool the reply parts a provider accepted are written through (`SendProgressStore`), apart from the one the
 * consumers' transactions share: those hold their connections while they send, and a part's write queued behind
 * them widens the window in which a killed process sends the part again. Closed after the messaging drain, with
 * the main pool.
 */
@Injectable()
export class PartWriterPool implements OnModuleInit, OnApplicationShutdown {
  readonly dataSource: DataSource;

  constructor(@Inject(APP_CONFIG) config: ConnectorConfig) {
    this.dataSource = createDataSource({
      ...connectorDatabaseOptions(config),
      poolSize: PART_WRITER_POOL_SIZE,
      applicationName: 'connector-parts',
    });
  }

  async onModuleInit(): Promise<void> {
    await this.dataSource.initialize();
  }

  async onApplicationShutdown(): Promise<void> {
    if (this.dataSource.isInitialized) {
      await this.dataSource.destroy();
    }
  }
}
