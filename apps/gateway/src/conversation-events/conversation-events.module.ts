import { Global, Module } from '@nestjs/common';
import { HubSpotSignatureVerifier } from '../webhooks/hubspot-signature.verifier.js';
import { BridgeAssignmentJournal } from './bridge-assignment-journal.js';
import { ConversationEventMetrics } from './conversation-events.metrics.js';
import { ConversationEventsRoute } from './conversation-events.route.js';
import { ConversationEventsService } from './conversation-events.service.js';

/**
 * `POST /webhooks/hubspot/conversation-events`: HubSpot's Webhooks API conversation events. Exports the
 * assignment journal, which the code applying the router's assignments records into.
 */
@Global()
@Module({
  providers: [
    HubSpotSignatureVerifier,
    BridgeAssignmentJournal,
    ConversationEventMetrics,
    ConversationEventsService,
    ConversationEventsRoute,
  ],
  exports: [BridgeAssignmentJournal, ConversationEventsRoute],
})
export class ConversationEventsModule {}
