import { Injectable } from '@nestjs/common';
import { HubSpotSignatureVerifier } from './hubspot-signature.verifier.js';
import { HubSpotWebhookIngestService, type IngestOutcome } from './hubspot-webhook-ingest.service.js';
import { HubSpotWebhookMetrics } from './hubspot-webhook.metrics.js';
import { SignedHubSpotRoute, type UnprocessedWebhook } from './signed-hubspot-route.js';

export const HUBSPOT_WEBHOOK_PATH = '/webhooks/hubspot';

/** HubSpot's custom-channel webhooks: verified, stored and published before the 200 is sent. */
@Injectable()
export class HubSpotWebhookRoute extends SignedHubSpotRoute {
  readonly path = HUBSPOT_WEBHOOK_PATH;

  constructor(
    verifier: HubSpotSignatureVerifier,
    private readonly service: HubSpotWebhookIngestService,
    private readonly metrics: HubSpotWebhookMetrics,
  ) {
    super(verifier);
  }

  protected countUnprocessed(outcome: UnprocessedWebhook): void {
    this.metrics.count('other', outcome);
  }

  /** `{ status }` for the one event HubSpot sends; `{ events: [{ status }, …] }` for an array. */
  protected async ingest(
    body: unknown,
  ): Promise<{ status: IngestOutcome } | { events: { status: IngestOutcome }[] }> {
    const statuses = (await this.service.ingest(body)).map(({ outcome }) => ({ status: outcome }));
    return Array.isArray(body) ? { events: statuses } : (statuses[0] ?? { status: 'unrecognized' });
  }
}
