import {
  AmqpTransportStrategy,
  Messaging,
  type ConsumerGroupSpec,
  type MessagingLogger,
} from '@inbox-bridge/messaging';
import {
  Global,
  Injectable,
  Logger,
  Module,
  type DynamicModule,
  type INestApplication,
  type ModuleMetadata,
} from '@nestjs/common';
import type { Server } from 'node:http';
import { Registry } from 'prom-client';
import { DataSource } from 'typeorm';
import type { CommonConfig } from '../config/common-config.js';
import { ConfigModule } from '../config/config.module.js';
import type { DatabaseOptions } from '../database/data-source.js';
import { DatabaseReadinessCheck } from '../database/database-readiness.check.js';
import { DatabaseModule } from '../database/database.module.js';
import { DATA_SOURCE } from '../database/database.tokens.js';
import { TablePruner, type RetainedTable } from '../database/table-pruner.js';
import { HealthModule } from '../health/health.module.js';
import type { ReadinessCheck } from '../health/readiness-check.js';
import { answerUnparsableRequests } from '../http/client-error.js';
import { LoggingModule } from '../logging/logging.module.js';
import { MetricsModule } from '../metrics/metrics.module.js';
import { METRICS_REGISTRY } from '../metrics/metrics.tokens.js';
import { startTracing, TracingFlush } from '../tracing/tracing.js';

/** Adapts the Nest logger (pino once `LoggingModule` is in place) to the narrow port messaging logs through. */
export function nestMessagingLogger(context = 'Messaging'): MessagingLogger {
  const logger = new Logger(context);
  return {
    debug: (message, fields) => {
      logger.debug({ ...fields }, message);
    },
    info: (message, fields) => {
      logger.log({ ...fields }, message);
    },
    warn: (message, fields) => {
      logger.warn({ ...fields }, message);
    },
    error: (message, fields) => {
      logger.error({ ...fields }, message);
    },
  };
}

/** The `DatabaseOptions` of a service: its schema and pool from config, its own migrations and entities. */
export function serviceDatabaseOptions(
  config: CommonConfig,
  options: Pick<DatabaseOptions, 'migrations' | 'entities' | 'applicationName'>,
): DatabaseOptions {
  return {
    url: config.DATABASE_URL,
    schema: config.DATABASE_SCHEMA,
    poolSize: config.DATABASE_POOL_SIZE,
    ...options,
  };
}

/** Readiness: connected to RabbitMQ, every consumer group consuming, not draining. */
@Injectable()
export class MessagingReadinessCheck implements ReadinessCheck {
  readonly name = 'messaging';

  constructor(private readonly messaging: Messaging) {}

  check(): Promise<void> {
    return this.messaging.readinessCheck().check();
  }
}

export interface ServiceRuntimeOptions {
  /** Log `service` field, metrics `service` label, AMQP connection name and outbox app id. */
  readonly serviceName: string;
  /** The service's validated config (`commonConfigSchema` extended); provided under `APP_CONFIG`. */
  readonly config: CommonConfig;
  /** Schema, pool, migrations and entities; migrations are listed here but never run on start. */
  readonly database: DatabaseOptions;
  /** The queues this service consumes; handlers are `@ConsumeMessage` methods of its controllers. */
  readonly consumerGroups: readonly ConsumerGroupSpec[];
  /** The service's feature modules. */
  readonly imports?: ModuleMetadata['imports'];
  /** Tables that grow with traffic, pruned past their retention every hour ({@link TablePruner}). */
  readonly retainedTables?: readonly RetainedTable[];
}

/**
 * Everything a hybrid service (HTTP + RabbitMQ in one process) shares: config, JSON logs, metrics,
 * the DataSource, health with database and messaging readiness, and one `Messaging` runtime built from
 * config (global, so any module can inject it). Start it with `startServiceApp`.
 */
@Global()
@Module({})
export class ServiceRuntimeModule {
  static forRoot(options: ServiceRuntimeOptions): DynamicModule {
    const { config, serviceName } = options;
    startTracing(serviceName);
    return {
      module: ServiceRuntimeModule,
      imports: [
        ConfigModule.forRoot(config),
        LoggingModule.forRoot({ serviceName, level: config.LOG_LEVEL }),
        MetricsModule.forRoot({ serviceName }),
        DatabaseModule.forRoot(options.database),
        HealthModule.forRoot({ checks: [DatabaseReadinessCheck, MessagingReadinessCheck] }),
        ...(options.imports ?? []),
      ],
      providers: [
        TracingFlush,
        {
          provide: Messaging,
          inject: [DATA_SOURCE, METRICS_REGISTRY],
          useFactory: (dataSource: DataSource, registry: Registry): Messaging =>
            new Messaging({
              serviceName,
              amqpUrl: config.AMQP_URL,
              dataSource,
              databaseUrl: config.DATABASE_URL,
              schema: config.DATABASE_SCHEMA,
              consumerGroups: options.consumerGroups,
              prefetch: config.AMQP_PREFETCH,
              drainTimeoutMs: config.SHUTDOWN_DRAIN_TIMEOUT_MS,
              registry,
              logger: nestMessagingLogger(),
            }),
        },
        {
          provide: TablePruner,
          inject: [DATA_SOURCE],
          useFactory: (dataSource: DataSource): TablePruner =>
            new TablePruner({
              dataSource,
              schema: config.DATABASE_SCHEMA,
              tables: options.retainedTables ?? [],
            }),
        },
      ],
      exports: [Messaging, TablePruner],
    };
  }
}

export interface StartServiceAppOptions {
  readonly port: number;
  /** All interfaces when omitted. */
  readonly host?: string;
}

/**
 * Attaches the service's `Messaging` as a Nest microservice (handlers from `@ConsumeMessage`, original
 * errors kept for the retry/dead-letter decision), starts it and listens. Call after `createServiceApp`,
 * whose global filters the microservice inherits. `messaging.start()` does not wait
 * for the broker: it retries in the background and readiness reports it. A request Node's HTTP parser refuses
 * (a URL or a header over its limit, broken framing) gets a problem body too, not a reset.
 *
 * Shutdown (`app.close()` or SIGTERM): readiness turns to draining, the microservice's close drains
 * messaging (consumers, outbox relay flush, connection), then the DataSource closes.
 */
export async function startServiceApp(
  app: INestApplication,
  options: StartServiceAppOptions,
): Promise<Messaging> {
  const messaging = app.get(Messaging, { strict: false });
  // Nest builds a hybrid microservice's handlers inside connectMicroservice(), so a filter added afterwards
  // with useGlobalFilters() is ignored (Nest warns "registration must occur before initialization").
  // Inheriting the app's config instead applies its global ProblemDetailsFilter, which rethrows non-HTTP
  // errors untouched: the handler's own error class reaches messaging's retry/dead-letter decision.
  app.connectMicroservice({ strategy: new AmqpTransportStrategy(messaging) }, { inheritAppConfig: true });
  await messaging.start();
  await app.startAllMicroservices();
  answerUnparsableRequests(app.getHttpServer() as Server);
  await (options.host === undefined ? app.listen(options.port) : app.listen(options.port, options.host));
  return messaging;
}
