import { Module } from '@nestjs/common';
import { HubSpotSignatureVerifier } from './hubspot-signature.verifier.js';
import { HubSpotWebhookEventBatcher } from './hubspot-webhook-event.batcher.js';
import { HubSpotWebhookEventRepository } from './hubspot-webhook-event.repository.js';
import { HubSpotWebhookIngestService } from './hubspot-webhook-ingest.service.js';
import { HubSpotWebhookMetrics } from './hubspot-webhook.metrics.js';
import { HubSpotWebhookRoute } from './hubspot-webhook.route.js';
import { HubSpotWebhookWorker } from './hubspot-webhook.worker.js';

/** `POST /webhooks/hubspot`: signature v3, dedupe, storage; the worker processes stored events in the background. */
@Module({
  providers: [
    HubSpotSignatureVerifier,
    HubSpotWebhookMetrics,
    HubSpotWebhookEventRepository,
    HubSpotWebhookEventBatcher,
    HubSpotWebhookIngestService,
    HubSpotWebhookWorker,
    HubSpotWebhookRoute,
  ],
  exports: [HubSpotSignatureVerifier, HubSpotWebhookMetrics, HubSpotWebhookRoute],
})
export class HubSpotWebhooksModule {}
