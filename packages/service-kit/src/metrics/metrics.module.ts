import {
  Global,
  Module,
  RequestMethod,
  type DynamicModule,
  type MiddlewareConsumer,
  type NestModule,
} from '@nestjs/common';
import { collectDefaultMetrics, Registry } from 'prom-client';
import { HttpMetrics, HttpMetricsMiddleware } from './http-metrics.js';
import { MetricsController } from './metrics.controller.js';
import { METRICS_REGISTRY } from './metrics.tokens.js';

export interface MetricsModuleOptions {
  readonly serviceName: string;
  /** Node runtime metrics (event-loop lag, heap, GC); on by default. */
  readonly defaultMetrics?: boolean;
}

export function createMetricsRegistry(options: MetricsModuleOptions): Registry {
  const registry = new Registry();
  registry.setDefaultLabels({ service: options.serviceName });
  if (options.defaultMetrics ?? true) {
    collectDefaultMetrics({ register: registry });
  }
  return registry;
}

/** One prom-client registry (`METRICS_REGISTRY`), `GET /metrics`, and HTTP request metrics. */
@Global()
@Module({})
export class MetricsModule implements NestModule {
  static forRoot(options: MetricsModuleOptions): DynamicModule {
    return {
      module: MetricsModule,
      controllers: [MetricsController],
      providers: [
        { provide: METRICS_REGISTRY, useFactory: () => createMetricsRegistry(options) },
        HttpMetrics,
      ],
      exports: [METRICS_REGISTRY],
    };
  }

  configure(consumer: MiddlewareConsumer): void {
    consumer.apply(HttpMetricsMiddleware).forRoutes({ path: '{/*splat}', method: RequestMethod.ALL });
  }
}
