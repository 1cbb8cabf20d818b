import { METRICS_REGISTRY } from '@inbox-bridge/service-kit';
import { Inject, Injectable } from '@nestjs/common';
import { Counter, Histogram, type Registry } from 'prom-client';

function counter<L extends string>(
  registry: Registry,
  name: string,
  help: string,
  labelNames: L[],
): Counter<L> {
  const existing = registry.getSingleMetric(name);
  return existing instanceof Counter
    ? existing
    : new Counter({ name, help, labelNames, registers: [registry] });
}

/**
 * `hubspot_requests_total{status}` (HTTP status, `timeout` or `network`), `hubspot_rate_limited_total`,
 * `hubspot_request_duration_seconds`, `hubspot_token_refresh_failures_total{reason}`. No portal label: the
 * number of portals is unbounded; logs carry the portal.
 */
@Injectable()
export class HubSpotMetrics {
  readonly requests: Counter<'status'>;
  readonly rateLimited: Counter<'scope'>;
  readonly tokenRefreshFailures: Counter<'reason'>;
  readonly portalsDisconnected: Counter;
  readonly duration: Histogram;

  constructor(@Inject(METRICS_REGISTRY) registry: Registry) {
    this.requests = counter(registry, 'hubspot_requests_total', 'HubSpot API attempts, by outcome', [
      'status',
    ]);
    this.rateLimited = counter(
      registry,
      'hubspot_rate_limited_total',
      'HubSpot 429 answers (policy or rolling window)',
      ['scope'],
    );
    this.tokenRefreshFailures = counter(
      registry,
      'hubspot_token_refresh_failures_total',
      'OAuth refreshes that failed, by reason',
      ['reason'],
    );
    this.portalsDisconnected = counter(
      registry,
      'hubspot_portals_disconnected_total',
      'Portals marked disconnected because HubSpot rejected their refresh token',
      [],
    );
    const existing = registry.getSingleMetric('hubspot_request_duration_seconds');
    this.duration =
      existing instanceof Histogram
        ? existing
        : new Histogram({
            name: 'hubspot_request_duration_seconds',
            help: 'Duration of one HubSpot API attempt',
            buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
            registers: [registry],
          });
  }
}
