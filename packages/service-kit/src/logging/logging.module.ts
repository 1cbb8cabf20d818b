import {
  Module,
  RequestMethod,
  type DynamicModule,
  type MiddlewareConsumer,
  type NestModule,
} from '@nestjs/common';
import { LoggerModule, type MicroserviceParams } from 'nestjs-pino';
import type { DestinationStream, LevelWithSilent } from 'pino';
import { correlationMiddleware } from './correlation-id.js';
import { createPinoHttpOptions } from './logger-options.js';

export interface LoggingModuleOptions {
  readonly serviceName: string;
  readonly level: LevelWithSilent;
  /** Where JSON lines go; stdout when omitted. Mostly for tests. */
  readonly destination?: DestinationStream;
  /** nestjs-pino's logging context for `@nestjs/microservices` handlers (hybrid apps: `inheritAppConfig`). */
  readonly microservice?: boolean | MicroserviceParams;
}

const ALL_ROUTES = { path: '{/*splat}', method: RequestMethod.ALL };

/**
 * JSON logs through nestjs-pino, with the correlation scope on every line and each HTTP request handled
 * inside `correlationContext.run({ correlationId })`.
 *
 * nestjs-pino keeps one root logger per process (the first configuration wins); a second app in the same
 * process shares it.
 */
@Module({})
export class LoggingModule implements NestModule {
  static forRoot(options: LoggingModuleOptions): DynamicModule {
    const pinoOptions = createPinoHttpOptions(options);
    return {
      module: LoggingModule,
      imports: [
        LoggerModule.forRoot({
          pinoHttp: options.destination === undefined ? pinoOptions : [pinoOptions, options.destination],
          forRoutes: [ALL_ROUTES],
          ...(options.microservice === undefined ? {} : { microservice: options.microservice }),
        }),
      ],
      exports: [LoggerModule],
    };
  }

  configure(consumer: MiddlewareConsumer): void {
    consumer.apply(correlationMiddleware).forRoutes(ALL_ROUTES);
  }
}
