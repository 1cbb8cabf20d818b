/* eslint-disable @typescript-eslint/no-explicit-any, @typescript-eslint/no-unsafe-assignment -- test bodies are arbitrary JSON */
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ProviderSandboxClient } from '../src/client/sandbox-client.js';
import { startProviderSandbox, type RunningSandbox } from '../src/sandbox-app.js';

export const TEST_ENV = {
  LOG_LEVEL: 'silent',
  NODE_ENV: 'test',
  TELEGRAM_ALLOW_INSECURE_WEBHOOKS: 'true',
  SANDBOX_TIME_SCALE: '0.01',
  TELEGRAM_WEBHOOK_TIMEOUT_MS: '2000',
} as const;

export interface Harness {
  readonly sandbox: RunningSandbox;
  readonly client: ProviderSandboxClient;
  /** POST/GET a Bot API method; returns HTTP status, headers and parsed body. */
  callApi(token: string, method: string, init?: RequestInit): Promise<ApiResponse>;
  json(token: string, method: string, params: Record<string, unknown>): Promise<ApiResponse>;
}

export interface ApiResponse {
  readonly status: number;
  readonly headers: Headers;
  readonly body: { ok: boolean; result?: any; error_code?: number; description?: string; parameters?: any };
}

export async function startHarness(env: Record<string, string> = {}): Promise<Harness> {
  const sandbox = await startProviderSandbox({ ...TEST_ENV, ...env }, { port: 0 });
  const client = new ProviderSandboxClient(sandbox.baseUrl);
  const callApi = async (token: string, method: string, init?: RequestInit): Promise<ApiResponse> => {
    const response = await fetch(`${sandbox.baseUrl}/bot${token}/${method}`, init);
    const text = await response.text();
    return {
      status: response.status,
      headers: response.headers,
      body: JSON.parse(text) as ApiResponse['body'],
    };
  };
  return {
    sandbox,
    client,
    callApi,
    json: (token, method, params) =>
      callApi(token, method, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify(params),
      }),
  };
}

export interface ReceivedRequest {
  readonly headers: IncomingHttpHeaders;
  readonly body: any;
  readonly status: number;
}

/** A local URL nothing listens on (connection refused). */
export async function closedPortUrl(): Promise<string> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) =>
    server.close(() => {
      resolve();
    }),
  );
  return `http://127.0.0.1:${port}/down`;
}

/** A local webhook receiver (or media host) whose answers a test scripts. */
export class LocalReceiver {
  readonly received: ReceivedRequest[] = [];
  /** Answer with `failStatus` to the first `failures` requests, then 200. */
  failures = 0;
  failStatus = 500;
  retryAfterSeconds?: number;
  /** Never answer the next N POSTs (the sandbox times out). */
  hangs = 0;
  /** Static files for `GET /<name>`: content type and bytes. */
  readonly files = new Map<string, { contentType: string; bytes: Buffer }>();
  private server?: Server;

  async start(): Promise<string> {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        if (req.method === 'GET') {
          const file = this.files.get((req.url ?? '').slice(1));
          if (file === undefined) {
            res.writeHead(404).end();
          } else {
            res.writeHead(200, { 'Content-Type': file.contentType }).end(file.bytes);
          }
          return;
        }
        if (this.hangs > 0) {
          this.hangs -= 1;
          return;
        }
        const failing = this.failures > 0;
        const status = failing ? this.failStatus : 200;
        if (failing) {
          this.failures -= 1;
        }
        const raw = Buffer.concat(chunks).toString('utf8');
        this.received.push({ headers: req.headers, body: raw === '' ? undefined : JSON.parse(raw), status });
        const headers: Record<string, string> =
          failing && this.retryAfterSeconds !== undefined
            ? { 'Retry-After': String(this.retryAfterSeconds) }
            : {};
        res.writeHead(status, headers).end();
      });
    });
    await new Promise<void>((resolve) => this.server?.listen(0, '127.0.0.1', resolve));
    const { port } = this.server.address() as AddressInfo;
    return `http://127.0.0.1:${port}`;
  }

  delivered(): ReceivedRequest[] {
    return this.received.filter((request) => request.status === 200);
  }

  async stop(): Promise<void> {
    const server = this.server;
    if (server === undefined) {
      return;
    }
    server.closeAllConnections();
    await new Promise<void>((resolve) => {
      server.close(() => {
        resolve();
      });
    });
  }
}
