import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import type { IncomingHttpHeaders } from 'node:http';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface ReceivedRequest {
  readonly path: string;
  readonly headers: IncomingHttpHeaders;
  readonly body: Buffer;
}

/** An HTTPS server on 127.0.0.1 with a throwaway self-signed certificate (its PEM is the CA to trust). */
export class HttpsReceiver {
  readonly requests: ReceivedRequest[] = [];
  /** Status and body answered to the next requests; default 200 `{}`. */
  respond: (request: ReceivedRequest) => {
    status: number;
    body: string;
    headers?: Record<string, string>;
  } = () => ({
    status: 200,
    body: '{}',
  });
  caFile = '';
  url = '';
  private server: Server | undefined;
  private dir = '';

  async start(): Promise<void> {
    this.dir = await mkdtemp(join(tmpdir(), 'connector-tls-'));
    const key = join(this.dir, 'key.pem');
    this.caFile = join(this.dir, 'cert.pem');
    await run('openssl', [
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-days',
      '1',
      '-keyout',
      key,
      '-out',
      this.caFile,
      '-subj',
      '/CN=127.0.0.1',
      '-addext',
      'subjectAltName=IP:127.0.0.1,DNS:localhost',
    ]);
    this.server = createServer(
      { key: await readFile(key), cert: await readFile(this.caFile) },
      (request, response) => {
        const chunks: Buffer[] = [];
        request.on('data', (chunk: Buffer) => chunks.push(chunk));
        request.on('end', () => {
          const received = {
            path: request.url ?? '/',
            headers: request.headers,
            body: Buffer.concat(chunks),
          };
          this.requests.push(received);
          const answer = this.respond(received);
          response
            .writeHead(answer.status, { 'content-type': 'application/json', ...answer.headers })
            .end(answer.body);
        });
      },
    );
    const server = this.server;
    await new Promise<void>((resolve) => {
      server.listen(0, '127.0.0.1', resolve);
    });
    this.url = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
  }

  async stop(): Promise<void> {
    const server = this.server;
    if (server !== undefined) {
      server.closeAllConnections();
      await new Promise<void>((resolve) => {
        server.close(() => {
          resolve();
        });
      });
    }
    await rm(this.dir, { recursive: true, force: true });
  }
}
