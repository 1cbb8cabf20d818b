import { startOtlpReceiver, type OtlpReceiver } from '@inbox-bridge/testing';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Controller, Get, Module, Param } from '@nestjs/common';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { createServiceApp, startTracing, stopTracing } from '../src/index.js';
import { baseUrl } from './support.js';

@Controller('things')
class ThingsController {
  @Get(':id')
  get(@Param('id') id: string): { id: string } {
    return { id };
  }
}

@Module({ controllers: [ThingsController] })
class TracedAppModule {}

describe('traces exported over OTLP/HTTP when OTEL_EXPORTER_OTLP_ENDPOINT is set (a real HTTP collector)', () => {
  let collector: OtlpReceiver;
  let app: NestExpressApplication;
  let url: string;

  beforeAll(async () => {
    collector = await startOtlpReceiver();
    expect(startTracing('sk-traced', { OTEL_EXPORTER_OTLP_ENDPOINT: collector.url })).toBe(true);
    app = await createServiceApp(TracedAppModule, { config: {} });
    await app.listen(0, '127.0.0.1');
    url = baseUrl(app.getHttpServer());
  });

  afterAll(async () => {
    await app.close().catch(() => undefined);
    await stopTracing();
    await collector.close();
  });

  it('a request is a SERVER span named by its route pattern, continuing the caller’s traceparent, sent as the service', async () => {
    const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
    const response = await fetch(`${url}/things/42`, {
      headers: { traceparent: `00-${traceId}-00f067aa0ba902b7-01` },
    });
    expect(response.status).toBe(200);
    await stopTracing();

    const served = collector.spans.find((span) => span.traceId === traceId);
    expect(served).toMatchObject({
      service: 'sk-traced',
      name: 'GET /things/:id',
      parentSpanId: '00f067aa0ba902b7',
      kind: 2,
    });
    expect(served?.attributes).toEqual(
      expect.arrayContaining([{ key: 'http.response.status_code', value: { intValue: 200 } }]),
    );
  });
});
