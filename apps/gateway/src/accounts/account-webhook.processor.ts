import { Injectable } from '@nestjs/common';
import type { ClaimedWebhookEvent } from '../webhooks/hubspot-webhook-event.repository.js';
import type { WebhookEffect, WebhookEventProcessor } from '../webhooks/hubspot-webhook.processing.js';
import type { HubSpotWebhookEvent } from '../webhooks/hubspot-webhook.schemas.js';
import { AccountEventsProcessor } from './account-events.processor.js';
import { OutboundMessageProcessor } from './outbound-message.processor.js';

/** `WEBHOOK_EVENT_PROCESSOR`: account lifecycle events and reps' replies. */
@Injectable()
export class AccountWebhookProcessor implements WebhookEventProcessor {
  constructor(
    private readonly accountEvents: AccountEventsProcessor,
    private readonly outbound: OutboundMessageProcessor,
  ) {}

  async prepare(event: HubSpotWebhookEvent, stored: ClaimedWebhookEvent): Promise<WebhookEffect> {
    switch (event.type) {
      case 'CHANNEL_ACCOUNT_CREATED':
      case 'CHANNEL_ACCOUNT_UPDATED':
        return this.accountEvents.prepareSync(event, stored);
      case 'CHANNEL_ACCOUNT_PURGED':
        return this.accountEvents.preparePurge(event);
      case 'OUTGOING_CHANNEL_MESSAGE_CREATED':
        return this.outbound.prepare(event, stored);
    }
  }
}
