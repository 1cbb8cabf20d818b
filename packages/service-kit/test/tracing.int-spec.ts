import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Controller, Get, Module, Param } from '@nestjs/common';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { createServer, type Server } from 'node:http';
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

interface ExportedSpan {
  readonly traceId: string;
  readonly parentSpanId?: string;
  readonly name: string;
  readonly kind: number;
  readonly attributes: { key: string; value: Record<string, unknown> }[];
}

interface ExportRequest {
  resourceSpans: {
    resource: { attributes: { key: string; value: { stringValue?: string } }[] };
    scopeSpans: { spans: ExportedSpan[] }[];
  }[];
}

describe('traces exported over OTLP/HTTP when OTEL_EXPORTER_OTLP_ENDPOINT is set (a real HTTP collector)', () => {
  const received: ExportRequest[] = [];
  let collector: Server;
  let app: NestExpressApplication;
  let url: string;

  beforeAll(async () => {
    collector = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        if (req.url === '/v1/traces') {
          received.push(JSON.parse(Buffer.concat(chunks).toString('utf8')) as ExportRequest);
        }
        res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      });
    });
    await new Promise<void>((resolve) => collector.listen(0, '127.0.0.1', resolve));
    expect(startTracing('sk-traced', { OTEL_EXPORTER_OTLP_ENDPOINT: baseUrl(collector) })).toBe(true);
    app = await createServiceApp(TracedAppModule, { config: {} });
    await app.listen(0, '127.0.0.1');
    url = baseUrl(app.getHttpServer());
  });

  afterAll(async () => {
    await app.close().catch(() => undefined);
    await stopTracing();
    await new Promise((resolve) => collector.close(resolve));
  });

  it('a request is a SERVER span named by its route pattern, continuing the caller’s traceparent, sent as the service', async () => {
    const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
    const response = await fetch(`${url}/things/42`, {
      headers: { traceparent: `00-${traceId}-00f067aa0ba902b7-01` },
    });
    expect(response.status).toBe(200);
    await stopTracing();

    const spans = received.flatMap((request) =>
      request.resourceSpans.flatMap((resource) =>
        resource.scopeSpans.flatMap((scope) => scope.spans.map((span) => ({ resource, span }))),
      ),
    );
    const served = spans.find(({ span }) => span.traceId === traceId);
    expect(served?.span).toMatchObject({
      name: 'GET /things/:id',
      parentSpanId: '00f067aa0ba902b7',
      kind: 2,
    });
    expect(served?.span.attributes).toEqual(
      expect.arrayContaining([{ key: 'http.response.status_code', value: { intValue: 200 } }]),
    );
    expect(served?.resource.resource.attributes).toEqual(
      expect.arrayContaining([{ key: 'service.name', value: { stringValue: 'sk-traced' } }]),
    );
  });
});
