import { exampleGatewayMessagePublishedV1, RoutingKeys } from '@inbox-bridge/shared';
import { expectEventually } from '@inbox-bridge/testing';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { context, SpanKind, trace } from '@opentelemetry/api';
import { InMemorySpanExporter, NodeTracerProvider, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-node';
import { createTestBed, publishThroughOutbox, recordEffect, type TestBed } from './fixtures.js';

const received = RoutingKeys.ProviderMessageReceivedV1;
const published = RoutingKeys.GatewayMessagePublishedV1;

describe('traces across the bus (an OpenTelemetry SDK registered, as OTEL_EXPORTER_OTLP_ENDPOINT does)', () => {
  const exporter = new InMemorySpanExporter();
  let bed: TestBed;

  beforeAll(() => {
    new NodeTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] }).register();
  });

  afterAll(async () => {
    await bed.dispose();
  });

  it('a message continues the trace of the code that published it, through the outbox and a second hop', async () => {
    bed = await createTestBed('tracing');
    const handledIn: Record<string, string | undefined> = {};
    const messaging = await bed.startService({
      groups: [
        { name: 'test.first', routingKeys: [received] },
        { name: 'test.second', routingKeys: [published] },
      ],
      handlers: {
        [received]: async (envelope, ctx) => {
          handledIn[received] = trace.getActiveSpan()?.spanContext().traceId;
          await recordEffect(ctx, 'first');
          await ctx.publish(published, {
            ...exampleGatewayMessagePublishedV1(),
            providerMessageId: (envelope.payload as { providerMessageId: string }).providerMessageId,
          });
        },
        [published]: async (_envelope, ctx) => {
          handledIn[published] = trace.getActiveSpan()?.spanContext().traceId;
          await recordEffect(ctx, 'second');
        },
      },
    });

    // What a webhook's request span would be.
    const request = trace
      .getTracer('test')
      .startSpan('POST /webhooks/telegram/{id}', { kind: SpanKind.SERVER });
    await context.with(trace.setSpan(context.active(), request), () =>
      publishThroughOutbox(bed, messaging, { conversationKey: 'k', text: 'traced' }),
    );
    request.end();

    await expectEventually(() => {
      expect(handledIn[published]).toBeDefined();
    });
    const traceId = request.spanContext().traceId;
    expect(handledIn).toEqual({ [received]: traceId, [published]: traceId });
    // A process span ends after its handler, once the transaction commits.
    const spans = await expectEventually(() => {
      const finished = exporter.getFinishedSpans();
      expect(finished.map((span) => span.name)).toContain(`${published} process`);
      return finished;
    });
    const first = spans.find((span) => span.name === `${received} process`);
    const second = spans.find((span) => span.name === `${published} process`);
    expect(first).toMatchObject({ kind: SpanKind.CONSUMER });
    expect(first?.parentSpanContext?.spanId).toBe(request.spanContext().spanId);
    expect(second?.parentSpanContext?.spanId).toBe(first?.spanContext().spanId);
    expect(first?.attributes).toMatchObject({
      'messaging.system': 'rabbitmq',
      'messaging.destination.name': 'test.first',
      'inbox_bridge.portal_id': 101,
    });
  });
});
