import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Received {
  readonly url: string;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly rawBody: string;
}

/** A local webhook receiver whose answers are scripted per request: a status, or a delay before 200. */
export class Receiver {
  readonly requests: Received[] = [];
  script: ({ status: number } | { delayMs: number })[] = [];
  /** Requests received and not answered yet, and the most there ever were at once. */
  private open = 0;
  mostOpenAtOnce = 0;
  private server!: Server;
  url = '';

  async start(): Promise<void> {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => {
        chunks.push(chunk);
      });
      req.on('end', () => {
        this.requests.push({
          url: `${this.url.split('/hook')[0]}${req.url}`,
          headers: req.headers,
          rawBody: Buffer.concat(chunks).toString('utf8'),
        });
        this.open += 1;
        this.mostOpenAtOnce = Math.max(this.mostOpenAtOnce, this.open);
        res.once('close', () => {
          this.open -= 1;
        });
        const step = this.script.shift() ?? { status: 200 };
        if ('delayMs' in step) {
          setTimeout(() => res.writeHead(200).end(), step.delayMs);
        } else {
          res.writeHead(step.status).end();
        }
      });
    });
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/hook?secret=a%2Ab`;
  }

  stop(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((resolve) =>
      this.server.close(() => {
        resolve();
      }),
    );
  }
}
