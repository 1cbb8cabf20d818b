import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface SpanSink {
  /** The services' environment to export every span here (OTLP/HTTP JSON, the SDK's default batching). */
  readonly env: Readonly<Record<string, string>>;
  readonly received: () => { requests: number; spans: number };
  close(): Promise<void>;
}

/**
 * A stand-in for an OpenTelemetry collector that counts what it is sent and keeps nothing, so a benchmark with
 * traces on pays for making and exporting spans, not for a collector's work on the same two cores.
 */
export async function startSpanSink(): Promise<SpanSink> {
  let requests = 0;
  let spans = 0;
  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      requests += 1;
      spans += Buffer.concat(chunks).toString('utf8').split('"spanId"').length - 1;
      response.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    env: { OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${port}` },
    received: () => ({ requests, spans }),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => {
          resolve();
        });
      }),
  };
}
