import { correlationContext } from '@inbox-bridge/messaging';
import { Logger, type INestApplication } from '@nestjs/common';
import type { IncomingHttpHeaders, IncomingMessage, Server, ServerResponse } from 'node:http';
import { DomainError } from '../errors/domain-error.js';
import { PROBLEM_CONTENT_TYPE, toProblemDetails } from '../errors/problem-details.js';
import { CORRELATION_ID_HEADER, requestCorrelationId } from '../logging/correlation-id.js';
import { HttpMetrics } from '../metrics/http-metrics.js';
import { inServerSpan } from '../tracing/tracing.js';
import { drainRequestBody } from './drain-request-body.js';

/** What a raw route sees of a request: the bytes as received, for signature checks over the exact body. */
export interface RawHttpRequest {
  readonly method: string;
  /** Path and query exactly as received (what a signature over the URL covers). */
  readonly url: string;
  readonly headers: IncomingHttpHeaders;
  /** Whether the connection is TLS (for the request's own scheme when no public base URL is configured). */
  readonly encrypted: boolean;
  readonly rawBody: Buffer;
  /** The values of the path's `:name` segments, decoded. */
  readonly params: Readonly<Record<string, string>>;
}

export type RawHttpAnswer =
  /** `body` sent as JSON. */
  | { readonly status: number; readonly body: unknown }
  | { readonly status: number; readonly text: string; readonly contentType: string }
  | { readonly status: 204 };

/**
 * One hot endpoint served straight from the Node HTTP server, ahead of Express and the Nest pipeline, with the
 * conventions every route has (correlation id, access log, HTTP metrics, body limit, problem+json errors). For
 * webhooks that must be acknowledged in milliseconds at thousands per second; everything else stays a controller.
 */
export interface RawHttpRoute {
  readonly method: 'POST' | 'PUT';
  /**
   * Matched against the path (the query is ignored, as Express does): literally, except `:name` segments, which
   * match any one non-empty segment and are handed over in `params`.
   */
  readonly path: string;
  readonly bodyLimitBytes: number;
  /** Answers, or throws what `toProblemDetails` maps (a `DomainError`, a `RequestValidationError`). */
  handle(request: RawHttpRequest): Promise<RawHttpAnswer>;
}

export class PayloadTooLargeError extends DomainError<'PAYLOAD_TOO_LARGE'> {
  constructor(limitBytes: number) {
    super('PAYLOAD_TOO_LARGE', `The request body is larger than ${limitBytes} bytes.`, { httpStatus: 413 });
  }
}

/** The client went away before its body arrived: nobody is left to answer. */
class ClientGoneError extends Error {}

export class UnsupportedContentEncodingError extends DomainError<'UNSUPPORTED_CONTENT_ENCODING'> {
  constructor(encoding: string) {
    super(
      'UNSUPPORTED_CONTENT_ENCODING',
      `content-encoding "${encoding.slice(0, 40)}" is not accepted; send the body uncompressed.`,
      { httpStatus: 415 },
    );
  }
}

function pathOf(url: string): string {
  const query = url.indexOf('?');
  return query === -1 ? url : url.slice(0, query);
}

/**
 * The params of `path` (path and query as received) if it matches the route `pattern`, else undefined. Like
 * Express: `/a/b` and `/a/b/` alike, a `:name` segment matches one non-empty segment, percent-decoded.
 */
export function matchRoutePath(pattern: string, url: string): Record<string, string> | undefined {
  const wanted = pattern.split('/');
  const given = pathOf(url).split('/');
  if (given.length === wanted.length + 1 && given.at(-1) === '') {
    given.pop();
  }
  if (given.length !== wanted.length) {
    return undefined;
  }
  const params: Record<string, string> = {};
  for (const [index, segment] of wanted.entries()) {
    const value = given[index] ?? '';
    if (!segment.startsWith(':')) {
      if (value !== segment) {
        return undefined;
      }
      continue;
    }
    if (value === '') {
      return undefined;
    }
    try {
      params[segment.slice(1)] = decodeURIComponent(value);
    } catch {
      return undefined;
    }
  }
  return params;
}

function encodedAnswer(answer: RawHttpAnswer): { contentType: string | undefined; payload: string } {
  if ('text' in answer) {
    return { contentType: answer.contentType, payload: answer.text };
  }
  if ('body' in answer) {
    return { contentType: 'application/json; charset=utf-8', payload: JSON.stringify(answer.body) };
  }
  return { contentType: undefined, payload: '' };
}

function readBody(req: IncomingMessage, limitBytes: number): Promise<Buffer> {
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > limitBytes) {
    return Promise.reject(new PayloadTooLargeError(limitBytes));
  }
  return new Promise<Buffer>((resolve, reject) => {
    const chunks: Buffer[] = [];
    let length = 0;
    const onData = (chunk: Buffer): void => {
      length += chunk.length;
      if (length > limitBytes) {
        req.off('data', onData);
        reject(new PayloadTooLargeError(limitBytes));
        return;
      }
      chunks.push(chunk);
    };
    req.on('data', onData);
    req.once('end', () => {
      resolve(chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks, length));
    });
    req.once('error', reject);
    req.once('close', () => {
      if (!req.complete) {
        reject(new ClientGoneError('the client closed the connection before sending the whole body'));
      }
    });
  });
}

/**
 * Serves `routes` from the app's HTTP server before Express sees the request; every other request goes to
 * Express untouched. Call after the app is created and before it listens.
 */
export function installRawHttpRoutes(app: INestApplication, routes: readonly RawHttpRoute[]): void {
  const server = app.getHttpServer() as Server;
  const metrics = app.get(HttpMetrics, { strict: false });
  const logger = new Logger('HttpRequest');
  const [express] = server.listeners('request') as ((req: IncomingMessage, res: ServerResponse) => void)[];
  if (express === undefined || server.listeners('request').length !== 1) {
    throw new Error('installRawHttpRoutes expects exactly one request listener (the Express app)');
  }

  const serve = async (
    route: RawHttpRoute,
    params: Record<string, string>,
    req: IncomingMessage,
    res: ServerResponse,
  ): Promise<number | undefined> => {
    const started = process.hrtime.bigint();
    const correlationId = requestCorrelationId(req);
    res.setHeader(CORRELATION_ID_HEADER, correlationId);
    let status: number;
    let payload: string;
    let contentType: string | undefined;
    try {
      const encoding = req.headers['content-encoding'];
      if (encoding !== undefined && encoding.toLowerCase() !== 'identity') {
        throw new UnsupportedContentEncodingError(encoding);
      }
      const rawBody = await readBody(req, route.bodyLimitBytes);
      const answer = await correlationContext.run({ correlationId }, () =>
        route.handle({
          method: req.method ?? route.method,
          url: req.url ?? route.path,
          headers: req.headers,
          encrypted: (req.socket as { encrypted?: boolean }).encrypted === true,
          rawBody,
          params,
        }),
      );
      status = answer.status;
      ({ contentType, payload } = encodedAnswer(answer));
    } catch (error) {
      if (error instanceof ClientGoneError) {
        return undefined;
      }
      const { body, isServerFault } = toProblemDetails(error);
      if (isServerFault) {
        logger.error(error instanceof Error ? error : { thrown: String(error) }, 'request failed');
      }
      status = body.status;
      contentType = PROBLEM_CONTENT_TYPE;
      payload = JSON.stringify({ ...body, correlationId });
      if (error instanceof PayloadTooLargeError) {
        // The rest of the body is read and dropped before the answer; the connection is closed after it.
        res.setHeader('connection', 'close');
        await drainRequestBody(req);
      }
    }
    if (res.destroyed) {
      return undefined;
    }
    if (status === 204) {
      // No content, and no Content-Length either (RFC 9110, 8.6).
      res.writeHead(status);
      res.end();
    } else {
      res.writeHead(status, {
        ...(contentType === undefined ? {} : { 'content-type': contentType }),
        'content-length': Buffer.byteLength(payload),
      });
      res.end(payload);
    }
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    const labels = { method: route.method, route: route.path, status: String(status) };
    metrics.requests.inc(labels);
    metrics.duration.observe(labels, seconds);
    const line = {
      correlationId,
      req: { id: correlationId, method: route.method, url: req.url },
      res: { statusCode: status },
      responseTime: Math.round(seconds * 1000),
    };
    if (status >= 500) {
      logger.error(line, 'request errored');
    } else if (status >= 400) {
      logger.warn(line, 'request completed');
    } else {
      logger.log(line, 'request completed');
    }
    return status;
  };

  server.removeListener('request', express);
  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    let matched: { route: RawHttpRoute; params: Record<string, string> } | undefined;
    for (const route of routes) {
      const params =
        req.url === undefined || route.method !== req.method
          ? undefined
          : matchRoutePath(route.path, req.url);
      if (params !== undefined) {
        matched = { route, params };
        break;
      }
    }
    if (matched === undefined) {
      express(req, res);
      return;
    }
    const { route, params } = matched;
    inServerSpan({ method: route.method, route: route.path, headers: req.headers }, (end) => {
      serve(route, params, req, res).then(
        // 499: the client went away before the answer (nginx's code for it).
        (status) => {
          end(status ?? 499);
        },
        (error: unknown) => {
          logger.error(error instanceof Error ? error : { thrown: String(error) }, 'request failed');
          res.destroy();
          end(500);
        },
      );
    });
  });
}
