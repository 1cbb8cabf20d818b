import { endSpanWith } from '@inbox-bridge/messaging';
import { Injectable, type OnApplicationShutdown } from '@nestjs/common';
import {
  context,
  propagation,
  ROOT_CONTEXT,
  SpanKind,
  SpanStatusCode,
  trace,
  type Attributes,
} from '@opentelemetry/api';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { registerInstrumentations } from '@opentelemetry/instrumentation';
import { PgInstrumentation } from '@opentelemetry/instrumentation-pg';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BatchSpanProcessor, NodeTracerProvider } from '@opentelemetry/sdk-trace-node';
import type { IncomingHttpHeaders } from 'node:http';

let provider: NodeTracerProvider | undefined;
let unregisterInstrumentations: (() => void) | undefined;

/**
 * Starts exporting traces over OTLP/HTTP when the standard `OTEL_EXPORTER_OTLP_ENDPOINT` (or
 * `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`) is set, as `serviceName` (or `OTEL_SERVICE_NAME`); otherwise does nothing
 * and the OpenTelemetry API stays a no-op. Spans: each HTTP request the service serves, each message a consumer
 * handles (continuing the trace of the code that published it, through the outbox), each HubSpot and provider
 * call made meanwhile, and each SQL statement run inside one of those (its text, never its parameters: pollers
 * and relays outside a trace make none). The exporter reads the other `OTEL_EXPORTER_OTLP_*` variables itself
 * (headers, timeout). Call it before the first `DataSource` is created: `pg` is instrumented when TypeORM loads it.
 */
export function startTracing(serviceName: string, env: NodeJS.ProcessEnv = process.env): boolean {
  if (provider !== undefined) {
    return true;
  }
  const base = env['OTEL_EXPORTER_OTLP_ENDPOINT'];
  // As the OTLP specification has it: the signal's own endpoint as given, the base one with `/v1/traces`.
  const url =
    env['OTEL_EXPORTER_OTLP_TRACES_ENDPOINT'] || (base ? `${base.replace(/\/+$/, '')}/v1/traces` : undefined);
  if (url === undefined) {
    return false;
  }
  provider = new NodeTracerProvider({
    resource: resourceFromAttributes({ 'service.name': env['OTEL_SERVICE_NAME'] ?? serviceName }),
    spanProcessors: [new BatchSpanProcessor(new OTLPTraceExporter({ url }))],
  });
  // Registers the AsyncLocalStorage context manager and the W3C trace-context propagator.
  provider.register();
  unregisterInstrumentations = registerInstrumentations({
    tracerProvider: provider,
    instrumentations: [new PgInstrumentation({ requireParentSpan: true })],
  });
  return true;
}

export function isTracing(): boolean {
  return provider !== undefined;
}

/** Sends the spans not exported yet (on shutdown, after the drain). */
export async function stopTracing(): Promise<void> {
  const running = provider;
  provider = undefined;
  unregisterInstrumentations?.();
  unregisterInstrumentations = undefined;
  await running?.shutdown();
}

/** Flushes the spans when the application shuts down (ServiceRuntimeModule provides it). */
@Injectable()
export class TracingFlush implements OnApplicationShutdown {
  async onApplicationShutdown(): Promise<void> {
    await stopTracing();
  }
}

const headerGetter = {
  keys: (carrier: IncomingHttpHeaders) => Object.keys(carrier),
  get: (carrier: IncomingHttpHeaders, key: string) => {
    const value = carrier[key];
    return Array.isArray(value) ? value[0] : value;
  },
};

/**
 * Runs the handling of one HTTP request in a SERVER span (continuing a caller's `traceparent` if it sent one).
 * `work` calls `end` with the response's status, and the route pattern when it was only known later (Express).
 */
export function inServerSpan(
  request: { readonly method: string; readonly route?: string; readonly headers: IncomingHttpHeaders },
  work: (end: (status: number, route?: string) => void) => void,
): void {
  const parent = propagation.extract(ROOT_CONTEXT, request.headers, headerGetter);
  const span = trace.getTracer('@inbox-bridge/service-kit').startSpan(
    request.route === undefined ? request.method : `${request.method} ${request.route}`,
    {
      kind: SpanKind.SERVER,
      attributes: {
        'http.request.method': request.method,
        ...(request.route === undefined ? {} : { 'http.route': request.route }),
      },
    },
    parent,
  );
  context.with(trace.setSpan(parent, span), () => {
    work((status, route) => {
      if (route !== undefined) {
        span.updateName(`${request.method} ${route}`);
        span.setAttribute('http.route', route);
      }
      span.setAttribute('http.response.status_code', status);
      if (status >= 500) {
        span.setStatus({ code: SpanStatusCode.ERROR });
      }
      span.end();
    });
  });
}

/** Express middleware: every request handled in a SERVER span named by its route pattern. */
export function traceRequests(
  req: { method: string; headers: IncomingHttpHeaders; route?: { path?: unknown } },
  res: { statusCode: number; once(event: 'finish' | 'close', listener: () => void): unknown },
  next: () => void,
): void {
  inServerSpan({ method: req.method, headers: req.headers }, (end) => {
    let ended = false;
    const finish = (): void => {
      if (!ended) {
        ended = true;
        const route = req.route?.path;
        end(res.statusCode, typeof route === 'string' ? route : 'unmatched');
      }
    };
    res.once('finish', finish);
    res.once('close', finish);
    next();
  });
}

/**
 * Runs an outgoing call (HubSpot, a provider) in a CLIENT span of the current trace. Name and attributes must not
 * carry secrets: a Telegram URL holds the bot token, so callers give the host, not the URL.
 */
export function inClientSpan<T>(
  name: string,
  attributes: Attributes,
  work: () => Promise<T>,
  statusOf?: (value: T) => number,
): Promise<T> {
  return trace
    .getTracer('@inbox-bridge/service-kit')
    .startActiveSpan(name, { kind: SpanKind.CLIENT, attributes }, (span) =>
      endSpanWith(span, work, statusOf),
    );
}
