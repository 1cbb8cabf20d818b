import { Module } from '@nestjs/common';
import { HubSpotSignatureGuard } from './hubspot-signature.guard.js';
import { HubSpotSignatureVerifier } from './hubspot-signature.verifier.js';
import { HubSpotWebhookEventRepository } from './hubspot-webhook-event.repository.js';
import { HubSpotWebhookIngestService } from './hubspot-webhook-ingest.service.js';
import { HubSpotWebhookController } from './hubspot-webhook.controller.js';
import { HubSpotWebhookMetrics } from './hubspot-webhook.metrics.js';

/** `POST /webhooks/hubspot`: signature v3, dedupe, storage and outbox publication. */
@Module({
  controllers: [HubSpotWebhookController],
  providers: [
    HubSpotSignatureVerifier,
    HubSpotSignatureGuard,
    HubSpotWebhookMetrics,
    HubSpotWebhookEventRepository,
    HubSpotWebhookIngestService,
  ],
  exports: [HubSpotSignatureVerifier, HubSpotWebhookMetrics],
})
export class HubSpotWebhooksModule {}
