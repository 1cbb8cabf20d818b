import { Injectable } from '@nestjs/common';
import { HubSpotSignatureVerifier } from './hubspot-signature.verifier.js';
import { HubSpotWebhookIngestService, type IngestOutcome } from './hubspot-webhook-ingest.service.js';
import { HubSpotWebhookMetrics } from './hubspot-webhook.metrics.js';
import { SignedHubSpotRoute, type RefusedWebhook } from './signed-hubspot-route.js';

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

  protected countRefused(outcome: RefusedWebhook): void {
    this.metrics.count('other', outcome);
  }

  protected async ingest(body: unknown): Promise<{ status: IngestOutcome }> {
    const { outcome } = await this.service.ingest(body);
    return { status: outcome };
  }
}
