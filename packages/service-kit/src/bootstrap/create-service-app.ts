import { Logger as NestLogger, type Type } from '@nestjs/common';
import { NestFactory, type IEntryNestModule } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { Logger } from 'nestjs-pino';
import type { z } from 'zod';
import { redactConfig } from '../config/redact-config.js';
import { ProblemDetailsFilter } from '../errors/problem-details.filter.js';
import { DrainState } from '../health/drain-state.js';
import { answerAfterRequestBody } from '../http/answer-after-body.js';
import { refuseUnstorableText } from '../http/json-body.js';
import { isTracing, traceRequests } from '../tracing/tracing.js';
import { DrainAwareExpressAdapter } from './drain-aware-express-adapter.js';

export interface CreateServiceAppOptions<TConfig extends object> {
  /** The validated config; with `configSchema` it is logged once at boot, secrets redacted. */
  readonly config: TConfig;
  readonly configSchema?: z.ZodObject;
  /** JSON and urlencoded body size limit; default `1mb`. */
  readonly bodyLimit?: string;
}

/**
 * Creates the HTTP app with the conventions every service shares: pino logger (when `LoggingModule` is
 * imported), raw bodies kept for signature checks, problem+json errors, body limits, shutdown hooks on
 * SIGTERM/SIGINT, and draining as the first shutdown step. The caller connects microservices and listens.
 */
export async function createServiceApp<TConfig extends object>(
  appModule: IEntryNestModule,
  options: CreateServiceAppOptions<TConfig>,
): Promise<NestExpressApplication> {
  const adapter = new DrainAwareExpressAdapter();
  // NestApplicationOptions is declared as a class of plain fields; an object literal is the documented usage.
  // eslint-disable-next-line @typescript-eslint/no-unsafe-class-instance-assignment
  const app = await NestFactory.create<NestExpressApplication>(appModule, adapter, {
    bufferLogs: true,
    rawBody: true,
    // Bootstrap errors reject (so main.ts decides how to report and exit) instead of process.exit(1).
    abortOnError: false,
  });

  const logger = tryGet(app, Logger);
  if (logger === undefined) {
    app.flushLogs();
  } else {
    app.useLogger(logger);
  }

  const drainState = tryGet(app, DrainState);
  if (drainState !== undefined) {
    adapter.onBeforeClose(() => {
      drainState.startDraining();
    });
  }

  if (isTracing()) {
    app.use(traceRequests);
  }
  app.use(answerAfterRequestBody);
  const bodyLimit = options.bodyLimit ?? '1mb';
  app.useBodyParser('json', { limit: bodyLimit, reviver: refuseUnstorableText });
  app.useBodyParser('urlencoded', { limit: bodyLimit, extended: true });
  app.disable('x-powered-by');
  app.useGlobalFilters(new ProblemDetailsFilter());
  // Exit 0 after a clean drain (instead of re-raising the signal), which also lets pino flush.
  app.enableShutdownHooks(['SIGTERM', 'SIGINT'], { useProcessExit: true });
  exitIfShutdownHangs(drainDeadlineOf(options.config));

  if (options.configSchema !== undefined) {
    new NestLogger('Config').log(
      { config: redactConfig(options.config, options.configSchema) },
      'configuration loaded',
    );
  }
  return app;
}

const SHUTDOWN_MARGIN_MS = 15_000;

function drainDeadlineOf(config: object | undefined): number {
  const value = (config as { SHUTDOWN_DRAIN_TIMEOUT_MS?: unknown } | undefined)?.SHUTDOWN_DRAIN_TIMEOUT_MS;
  return typeof value === 'number' && value > 0 ? value : 20_000;
}

let shutdownLimitMs: number | undefined;

/**
 * A close that waits on a connection nobody answers any more (a broker or database gone without a FIN) would
 * keep a stopping process alive forever: past the drain deadline and a margin, it exits with 1 and says so.
 */
function exitIfShutdownHangs(drainDeadlineMs: number): void {
  const armed = shutdownLimitMs !== undefined;
  shutdownLimitMs = Math.max(shutdownLimitMs ?? 0, drainDeadlineMs + SHUTDOWN_MARGIN_MS);
  if (armed) {
    return;
  }
  const arm = (signal: NodeJS.Signals): void => {
    const limitMs = shutdownLimitMs ?? drainDeadlineMs + SHUTDOWN_MARGIN_MS;
    setTimeout(() => {
      new NestLogger('Shutdown').error(
        { signal, limitMs },
        'shutdown did not finish in time (a connection that no longer answers?); exiting',
      );
      process.exit(1);
    }, limitMs).unref();
  };
  process.once('SIGTERM', arm);
  process.once('SIGINT', arm);
}

function tryGet<T>(app: NestExpressApplication, token: Type<T>): T | undefined {
  try {
    return app.get(token, { strict: false });
  } catch {
    return undefined;
  }
}
