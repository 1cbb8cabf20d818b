import { Inject, Injectable, type NestMiddleware } from '@nestjs/common';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { Counter, Histogram, Registry } from 'prom-client';
import { METRICS_REGISTRY } from './metrics.tokens.js';

const KNOWN_METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']);
export const UNMATCHED_ROUTE = 'unmatched';

/**
 * Nest mounts `forRoutes(ALL)` middleware as catch-all Express routes, so a request no controller matched
 * still carries one of these as `req.route`.
 */
const MIDDLEWARE_CATCH_ALL_PATHS = new Set([
  '{/*splat}',
  '/{*splat}',
  '{*splat}',
  '*',
  '/*',
  '(.*)',
  '/(.*)',
]);

/** The Express route pattern (`/portals/:id`), never the raw URL, so label values stay bounded. */
export function routeLabel(req: IncomingMessage): string {
  const route: unknown = (req as IncomingMessage & { route?: unknown }).route;
  if (
    typeof route === 'object' &&
    route !== null &&
    'path' in route &&
    typeof route.path === 'string' &&
    !MIDDLEWARE_CATCH_ALL_PATHS.has(route.path)
  ) {
    return route.path;
  }
  return UNMATCHED_ROUTE;
}

/** The HTTP request series; one instance per registry (a provider, not the middleware, which Nest may instantiate separately). */
@Injectable()
export class HttpMetrics {
  readonly requests: Counter<'method' | 'route' | 'status'>;
  readonly duration: Histogram<'method' | 'route' | 'status'>;

  constructor(@Inject(METRICS_REGISTRY) registry: Registry) {
    this.requests = new Counter({
      name: 'http_requests_total',
      help: 'HTTP requests handled, by method, route pattern and status code.',
      labelNames: ['method', 'route', 'status'],
      registers: [registry],
    });
    this.duration = new Histogram({
      name: 'http_request_duration_seconds',
      help: 'HTTP request duration in seconds, by method, route pattern and status code.',
      labelNames: ['method', 'route', 'status'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers: [registry],
    });
  }
}

@Injectable()
export class HttpMetricsMiddleware implements NestMiddleware<IncomingMessage, ServerResponse> {
  constructor(private readonly metrics: HttpMetrics) {}

  use(req: IncomingMessage, res: ServerResponse, next: () => void): void {
    const started = process.hrtime.bigint();
    res.once('finish', () => {
      const method = req.method?.toUpperCase() ?? 'OTHER';
      const labels = {
        method: KNOWN_METHODS.has(method) ? method : 'OTHER',
        route: routeLabel(req),
        status: String(res.statusCode),
      };
      this.metrics.requests.inc(labels);
      this.metrics.duration.observe(labels, Number(process.hrtime.bigint() - started) / 1e9);
    });
    next();
  }
}
