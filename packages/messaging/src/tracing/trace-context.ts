import {
  context,
  propagation,
  ROOT_CONTEXT,
  SpanKind,
  SpanStatusCode,
  trace,
  type Attributes,
  type Context,
  type Span,
  type TextMapGetter,
} from '@opentelemetry/api';

const tracer = () => trace.getTracer('@inbox-bridge/messaging');

/** AMQP header values are strings here (what `currentTraceHeaders` wrote), but a hostile publisher may send anything. */
const headerGetter: TextMapGetter<Record<string, unknown>> = {
  keys: (carrier) => Object.keys(carrier),
  get: (carrier, key) => {
    const value = carrier[key];
    return typeof value === 'string' ? value : undefined;
  },
};

/**
 * The W3C trace context of the code running now (`traceparent`, `tracestate`), for a message's headers: the
 * outbox stores it with the row, because the relay publishes later in a context of its own. Empty while no
 * OpenTelemetry SDK is registered (the API is then a no-op).
 */
export function currentTraceHeaders(): Record<string, string> {
  const carrier: Record<string, string> = {};
  propagation.inject(context.active(), carrier);
  return carrier;
}

/** The trace a piece of work belongs to, taken where it is queued to run later with others (a shared commit). */
export type TraceContext = Context;

export function activeTraceContext(): TraceContext {
  return context.active();
}

/** Runs `work` in the trace it was queued from, so what it publishes joins that trace. */
export function inTraceContext<T>(traceContext: TraceContext, work: () => T): T {
  return context.with(traceContext, work);
}

/**
 * Runs a consumer's handler in a CONSUMER span continuing the trace its message carries (the request or message
 * that published it), so what the handler does and publishes joins that trace.
 */
export function inConsumeSpan<T>(
  headers: Record<string, unknown> | undefined,
  name: string,
  attributes: Attributes,
  work: () => Promise<T>,
): Promise<T> {
  const parent = propagation.extract(ROOT_CONTEXT, headers ?? {}, headerGetter);
  return tracer().startActiveSpan(name, { kind: SpanKind.CONSUMER, attributes }, parent, (span) =>
    endSpanWith(span, work),
  );
}

/**
 * Runs `work` as the span's, then ends it: an error marks it failed with the message; `statusOf` gives an HTTP
 * status to record (5xx marks it failed).
 */
export async function endSpanWith<T>(
  span: Span,
  work: () => Promise<T>,
  statusOf?: (value: T) => number,
): Promise<T> {
  try {
    const value = await work();
    const status = statusOf?.(value);
    if (status !== undefined) {
      span.setAttribute('http.response.status_code', status);
      if (status >= 500) {
        span.setStatus({ code: SpanStatusCode.ERROR });
      }
    }
    return value;
  } catch (error) {
    span.setStatus({
      code: SpanStatusCode.ERROR,
      message: error instanceof Error ? error.message : String(error),
    });
    throw error;
  } finally {
    span.end();
  }
}
