import {
  Global,
  Inject,
  Injectable,
  Module,
  type DynamicModule,
  type FactoryProvider,
  type ModuleMetadata,
  type OnApplicationShutdown,
} from '@nestjs/common';
import { DataSource } from 'typeorm';
import { createDataSource, type DatabaseOptions } from './data-source.js';
import { DatabaseReadinessCheck } from './database-readiness.check.js';
import { DATA_SOURCE } from './database.tokens.js';

/**
 * Destroys the DataSource in `onApplicationShutdown`: after `beforeApplicationShutdown` and the dispose step
 * where the messaging drain runs, so in-flight handlers can still commit.
 */
@Injectable()
export class DataSourceCloser implements OnApplicationShutdown {
  constructor(@Inject(DATA_SOURCE) private readonly dataSource: DataSource) {}

  async onApplicationShutdown(): Promise<void> {
    if (this.dataSource.isInitialized) {
      await this.dataSource.destroy();
    }
  }
}

export interface DatabaseModuleAsyncOptions extends Pick<ModuleMetadata, 'imports'> {
  readonly inject?: FactoryProvider['inject'];
  readonly useFactory: (...args: never[]) => DatabaseOptions | Promise<DatabaseOptions>;
}

@Global()
@Module({})
export class DatabaseModule {
  static forRoot(options: DatabaseOptions): DynamicModule {
    return DatabaseModule.forRootAsync({ useFactory: () => options });
  }

  /** Typically `{ inject: [APP_CONFIG], useFactory: (config: MyConfig) => ({ url: config.DATABASE_URL, … }) }`. */
  static forRootAsync(options: DatabaseModuleAsyncOptions): DynamicModule {
    return {
      module: DatabaseModule,
      imports: options.imports ?? [],
      providers: [
        {
          provide: DATA_SOURCE,
          inject: options.inject ?? [],
          useFactory: async (...args: never[]): Promise<DataSource> => {
            const dataSource = createDataSource(await options.useFactory(...args));
            await dataSource.initialize();
            return dataSource;
          },
        },
        { provide: DataSource, useExisting: DATA_SOURCE },
        DataSourceCloser,
        DatabaseReadinessCheck,
      ],
      exports: [DATA_SOURCE, DataSource, DatabaseReadinessCheck],
    };
  }
}
