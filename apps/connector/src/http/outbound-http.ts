import { inClientSpan } from '@inbox-bridge/service-kit';
import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import http, { type IncomingHttpHeaders, type IncomingMessage } from 'node:http';
import https from 'node:https';
import { isIP, type LookupFunction } from 'node:net';
import { pipeline, Readable, Transform, type TransformCallback } from 'node:stream';
import { rootCertificates } from 'node:tls';
import { isAllowedHost, isPublicAddress, SsrfBlockedError } from './ssrf-guard.js';

export interface HttpRequest {
  readonly method: 'GET' | 'POST' | 'PUT' | 'DELETE' | 'HEAD';
  readonly url: string;
  readonly headers?: Readonly<Record<string, string>>;
  /** A buffer/string, or a stream (sent chunked). */
  readonly body?: Buffer | string | Readable;
  /** Overall budget until the response headers arrive, and idle budget while the body streams. */
  readonly timeoutMs?: number;
  /** Follow up to this many redirects (GET only), dropping `Authorization` on each hop. Default 0. */
  readonly maxRedirects?: number;
}

export interface HttpResponse {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  /** The body as it arrives; read it exactly once (or call `text`/`json`/`discard`). */
  readonly body: IncomingMessage;
  text(maxBytes?: number): Promise<string>;
  json<T = unknown>(maxBytes?: number): Promise<T>;
  discard(): void;
}

/** A network-level failure (connection refused, reset, timeout): always worth retrying. */
export class HttpTransportError extends Error {
  override readonly name = 'HttpTransportError';
  constructor(
    message: string,
    readonly code: string,
  ) {
    super(message);
  }
}

/** The body exceeded the allowed size. */
export class BodyTooLargeError extends Error {
  override readonly name = 'BodyTooLargeError';
  constructor(readonly limitBytes: number) {
    super(`body exceeds ${limitBytes} bytes`);
  }
}

const DEFAULT_TEXT_LIMIT = 1024 * 1024;

/** Counts bytes through a stream and fails it once more than `limitBytes` went by (never buffers). */
export function byteLimit(limitBytes: number): Transform {
  let seen = 0;
  return new Transform({
    transform(chunk: Buffer, _encoding, callback: TransformCallback) {
      seen += chunk.length;
      if (seen > limitBytes) {
        callback(new BodyTooLargeError(limitBytes));
        return;
      }
      callback(null, chunk);
    },
  });
}

/** `body` piped through `byteLimit`, errors of either side ending both. */
export function limitedStream(body: Readable, limitBytes: number): Readable {
  const limiter = byteLimit(limitBytes);
  pipeline(body, limiter, () => {
    /* errors surface on the limiter, which the consumer reads */
  });
  return limiter;
}

async function readAll(body: Readable, maxBytes: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body) {
    const buffer = chunk as Buffer;
    size += buffer.length;
    if (size > maxBytes) {
      body.destroy();
      throw new BodyTooLargeError(maxBytes);
    }
    chunks.push(buffer);
  }
  return Buffer.concat(chunks);
}

/**
 * Every call the connector makes to a provider or a customer-supplied URL. Redirects are not followed unless
 * asked, and the SSRF guard runs on the address actually connected to: IP literals are checked before
 * connecting, names are checked inside the socket's DNS lookup (so a rebinding answer cannot slip past).
 * Hosts in `allowedHosts` skip the guard (the local sandbox in development).
 */
export class OutboundHttp {
  private readonly httpAgent = new http.Agent({ keepAlive: true, maxSockets: 50 });
  private readonly httpsAgent: https.Agent;

  constructor(
    private readonly allowedHosts: readonly string[],
    private readonly defaultTimeoutMs: number,
    extraCa?: string,
  ) {
    this.httpsAgent = new https.Agent({
      keepAlive: true,
      maxSockets: 50,
      ...(extraCa === undefined ? {} : { ca: [...rootCertificates, extraCa] }),
    });
  }

  /** Throws `SsrfBlockedError` when `url` may not be called (scheme, or a literal/resolved private address). */
  async assertCallable(url: string): Promise<void> {
    const target = new URL(url);
    if (target.protocol !== 'https:' && target.protocol !== 'http:') {
      throw new SsrfBlockedError(target.hostname, `scheme ${target.protocol} is not allowed`);
    }
    if (isAllowedHost(target.hostname, this.allowedHosts)) {
      return;
    }
    const host = target.hostname.replace(/^\[|\]$/g, '');
    if (isIP(host) !== 0) {
      if (!isPublicAddress(host)) {
        throw new SsrfBlockedError(host, 'not a public address');
      }
      return;
    }
    const addresses = await new Promise<LookupAddress[]>((resolve, reject) => {
      dnsLookup(host, { all: true }, (error, found) => {
        if (error) {
          reject(new HttpTransportError(`cannot resolve ${host}`, error.code ?? 'ENOTFOUND'));
        } else {
          resolve(found);
        }
      });
    });
    const privateOne = addresses.find((entry) => !isPublicAddress(entry.address));
    if (privateOne !== undefined) {
      throw new SsrfBlockedError(host, `resolves to non-public address ${privateOne.address}`);
    }
  }

  /** One request (and the redirects it may follow), in a CLIENT span named by method and host only. */
  request(request: HttpRequest): Promise<HttpResponse> {
    const host = URL.canParse(request.url) ? new URL(request.url).hostname : 'invalid';
    return inClientSpan(
      `${request.method} ${host}`,
      { 'http.request.method': request.method, 'server.address': host },
      () => this.follow(request),
      (response) => response.status,
    );
  }

  private async follow(request: HttpRequest): Promise<HttpResponse> {
    let current = request;
    for (let hop = 0; ; hop += 1) {
      const response = await this.once(current);
      const location = response.headers.location;
      const redirects = request.maxRedirects ?? 0;
      if (response.status >= 300 && response.status < 400 && location !== undefined && hop < redirects) {
        response.discard();
        const { authorization: _dropped, Authorization: _alsoDropped, ...headers } = current.headers ?? {};
        current = { ...current, url: new URL(location, current.url).toString(), headers };
        continue;
      }
      return response;
    }
  }

  private async once(request: HttpRequest): Promise<HttpResponse> {
    const target = new URL(request.url);
    const allowed = isAllowedHost(target.hostname, this.allowedHosts);
    if (target.protocol !== 'https:' && target.protocol !== 'http:') {
      throw new SsrfBlockedError(target.hostname, `scheme ${target.protocol} is not allowed`);
    }
    const literal = target.hostname.replace(/^\[|\]$/g, '');
    if (!allowed && isIP(literal) !== 0 && !isPublicAddress(literal)) {
      throw new SsrfBlockedError(literal, 'not a public address');
    }
    const guardedLookup: LookupFunction = (hostname, options, callback) => {
      dnsLookup(hostname, { ...options, all: true }, (error, addresses) => {
        if (error) {
          callback(error, '', 0);
          return;
        }
        const usable = addresses.filter((entry) => allowed || isPublicAddress(entry.address));
        if (usable.length === 0) {
          callback(new SsrfBlockedError(hostname, 'resolves only to non-public addresses'), '', 0);
          return;
        }
        if (options.all === true) {
          (callback as unknown as (err: null, all: LookupAddress[]) => void)(null, usable);
          return;
        }
        const first = usable[0] as LookupAddress;
        callback(null, first.address, first.family);
      });
    };
    const isHttps = target.protocol === 'https:';
    const timeoutMs = request.timeoutMs ?? this.defaultTimeoutMs;
    const headers: Record<string, string> = { ...request.headers };
    if (typeof request.body === 'string' || Buffer.isBuffer(request.body)) {
      headers['content-length'] = String(Buffer.byteLength(request.body));
    }
    return new Promise<HttpResponse>((resolve, reject) => {
      const outgoing = (isHttps ? https : http).request(
        target,
        {
          method: request.method,
          headers,
          agent: isHttps ? this.httpsAgent : this.httpAgent,
          lookup: guardedLookup,
          timeout: timeoutMs,
        },
        (incoming) => {
          clearTimeout(deadline);
          incoming.setTimeout(timeoutMs, () => {
            incoming.destroy(
              new HttpTransportError(`no data from ${target.host} for ${timeoutMs} ms`, 'ETIMEDOUT'),
            );
          });
          resolve(wrapResponse(incoming));
        },
      );
      const deadline = setTimeout(() => {
        outgoing.destroy(
          new HttpTransportError(`${target.host} did not answer within ${timeoutMs} ms`, 'ETIMEDOUT'),
        );
      }, timeoutMs);
      outgoing.on('timeout', () => {
        outgoing.destroy(
          new HttpTransportError(`${target.host} did not answer within ${timeoutMs} ms`, 'ETIMEDOUT'),
        );
      });
      outgoing.on('error', (error: Error & { code?: string }) => {
        clearTimeout(deadline);
        if (
          error instanceof SsrfBlockedError ||
          error instanceof HttpTransportError ||
          error instanceof BodyTooLargeError
        ) {
          reject(error);
          return;
        }
        const cause = (error as { cause?: unknown }).cause;
        if (cause instanceof SsrfBlockedError) {
          reject(cause);
          return;
        }
        reject(new HttpTransportError(`${target.host}: ${error.message}`, error.code ?? 'ECONNRESET'));
      });
      const body = request.body;
      if (body === undefined) {
        outgoing.end();
      } else if (typeof body === 'string' || Buffer.isBuffer(body)) {
        outgoing.end(body);
      } else {
        body.on('error', (error) => outgoing.destroy(error));
        body.pipe(outgoing);
      }
    });
  }

  /** Nest calls it on shutdown: idle keep-alive sockets would hold the process open. */
  onApplicationShutdown(): void {
    this.httpAgent.destroy();
    this.httpsAgent.destroy();
  }
}

function wrapResponse(incoming: IncomingMessage): HttpResponse {
  return {
    status: incoming.statusCode ?? 0,
    headers: incoming.headers,
    body: incoming,
    text: async (maxBytes = DEFAULT_TEXT_LIMIT) => (await readAll(incoming, maxBytes)).toString('utf8'),
    json: async <T>(maxBytes = DEFAULT_TEXT_LIMIT) =>
      JSON.parse((await readAll(incoming, maxBytes)).toString('utf8')) as T,
    discard: () => {
      incoming.resume();
    },
  };
}
