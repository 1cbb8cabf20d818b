import http from 'node:http';
import https from 'node:https';

/** What came back from one HTTP exchange. */
export interface Exchanged {
  readonly status: number;
  readonly retryAfter: string | undefined;
  readonly text: string;
}

/** No answer: the deadline passed (`timeout`) or the connection failed (`network`). */
export class ExchangeFailed extends Error {
  constructor(
    readonly kind: 'timeout' | 'network',
    cause: unknown,
  ) {
    super(`HTTP exchange failed (${kind})`, { cause });
  }
}

export interface ExchangeInit {
  readonly method: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly body?: string | undefined;
  /** For the whole exchange, answer body included. */
  readonly timeoutMs: number;
}

/**
 * One request with a JSON (or no) body over kept-alive sockets, the answer read whole. `node:http` rather than
 * `fetch`: measured here, fetch costs about three times the CPU per call, and every customer message is a call.
 * Redirects are not followed (HubSpot's API answers none).
 */
export class HttpExchange {
  private readonly agents = {
    'http:': new http.Agent({ keepAlive: true, maxSockets: 256 }),
    'https:': new https.Agent({ keepAlive: true, maxSockets: 256 }),
  } as const;

  send(url: URL, init: ExchangeInit): Promise<Exchanged> {
    return new Promise<Exchanged>((resolve, reject) => {
      const signal = AbortSignal.timeout(init.timeoutMs);
      const failed = (error: unknown): void => {
        reject(new ExchangeFailed(signal.aborted ? 'timeout' : 'network', error));
      };
      const secure = url.protocol === 'https:';
      const request = (secure ? https : http).request(
        url,
        {
          method: init.method,
          headers:
            init.body === undefined
              ? init.headers
              : { ...init.headers, 'content-length': String(Buffer.byteLength(init.body)) },
          agent: secure ? this.agents['https:'] : this.agents['http:'],
          signal,
        },
        (response) => {
          const chunks: Buffer[] = [];
          response.on('data', (chunk: Buffer) => chunks.push(chunk));
          response.once('end', () => {
            resolve({
              status: response.statusCode ?? 0,
              retryAfter: response.headers['retry-after'],
              text: Buffer.concat(chunks).toString('utf8'),
            });
          });
          response.once('error', failed);
          response.once('close', () => {
            if (!response.complete) {
              failed(new Error('the connection closed before the answer was complete'));
            }
          });
        },
      );
      request.once('error', failed);
      request.end(init.body);
    });
  }
}
