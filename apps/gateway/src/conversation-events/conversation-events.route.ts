import { Injectable } from '@nestjs/common';
import { HubSpotSignatureVerifier } from '../webhooks/hubspot-signature.verifier.js';
import { SignedHubSpotRoute, type UnprocessedWebhook } from '../webhooks/signed-hubspot-route.js';
import { ConversationEventMetrics } from './conversation-events.metrics.js';
import { ConversationEventsService, type ConversationEventsResult } from './conversation-events.service.js';

/** The app's Webhooks API target URL (hubspot-api.md §2.6), next to the custom channel's `webhookUrl`. */
export const CONVERSATION_EVENTS_PATH = '/webhooks/hubspot/conversation-events';

/** Conversation events carry the v3 headers as well as v1; only v3 (with its 5-minute window) is trusted. */
@Injectable()
export class ConversationEventsRoute extends SignedHubSpotRoute {
  readonly path = CONVERSATION_EVENTS_PATH;

  constructor(
    verifier: HubSpotSignatureVerifier,
    private readonly events: ConversationEventsService,
    private readonly metrics: ConversationEventMetrics,
  ) {
    super(verifier);
  }

  protected countUnprocessed(outcome: UnprocessedWebhook): void {
    this.metrics.count('other', outcome);
  }

  protected ingest(body: unknown): Promise<ConversationEventsResult> {
    return this.events.ingest(body);
  }
}
