import { Module } from '@nestjs/common';
import { HubSpotSignatureGuard } from './hubspot-signature.guard.js';
import { HubSpotSignatureVerifier } from './hubspot-signature.verifier.js';
import { HubSpotWebhookEventBatcher } from './hubspot-webhook-event.batcher.js';
import { HubSpotWebhookEventRepository } from './hubspot-webhook-event.repository.js';
import { HubSpotWebhookIngestService } from './hubspot-webhook-ingest.service.js';
import { HubSpotWebhookController } from './hubspot-webhook.controller.js';
import { HubSpotWebhookMetrics } from './hubspot-webhook.metrics.js';
import { HubSpotWebhookWorker } from './hubspot-webhook.worker.js';

/** `POST /webhooks/hubspot`: signature v3, dedupe, storage; the worker processes stored events in the background. */
@Module({
  controllers: [HubSpotWebhookController],
  providers: [
    HubSpotSignatureVerifier,
    HubSpotSignatureGuard,
    HubSpotWebhookMetrics,
    HubSpotWebhookEventRepository,
    HubSpotWebhookEventBatcher,
    HubSpotWebhookIngestService,
    HubSpotWebhookWorker,
  ],
  exports: [HubSpotSignatureVerifier, HubSpotWebhookMetrics],
})
export class HubSpotWebhooksModule {}
