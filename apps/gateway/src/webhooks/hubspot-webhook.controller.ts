import { Body, Controller, HttpCode, Post, UseGuards } from '@nestjs/common';
import { HubSpotSignatureGuard } from './hubspot-signature.guard.js';
import { HubSpotWebhookIngestService, type IngestOutcome } from './hubspot-webhook-ingest.service.js';

export const HUBSPOT_WEBHOOK_PATH = '/webhooks/hubspot';

/** HubSpot's custom-channel webhooks: verified, stored and published before the 200 is sent. */
@Controller()
export class HubSpotWebhookController {
  constructor(private readonly ingest: HubSpotWebhookIngestService) {}

  @Post(HUBSPOT_WEBHOOK_PATH)
  @HttpCode(200)
  @UseGuards(HubSpotSignatureGuard)
  async receive(@Body() body: unknown): Promise<{ status: IngestOutcome }> {
    const { outcome } = await this.ingest.ingest(body);
    return { status: outcome };
  }
}
