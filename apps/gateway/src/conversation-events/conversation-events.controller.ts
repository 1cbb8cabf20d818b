import { DomainError } from '@inbox-bridge/service-kit';
import {
  Body,
  Controller,
  HttpCode,
  Injectable,
  Post,
  UseGuards,
  type CanActivate,
  type ExecutionContext,
} from '@nestjs/common';
import type { Request } from 'express';
import { HubSpotSignatureVerifier } from '../webhooks/hubspot-signature.verifier.js';
import { ConversationEventMetrics } from './conversation-events.metrics.js';
import { ConversationEventsService, type ConversationEventsResult } from './conversation-events.service.js';

/** The app's Webhooks API target URL (hubspot-api.md §2.6), next to the custom channel's `webhookUrl`. */
export const CONVERSATION_EVENTS_PATH = '/webhooks/hubspot/conversation-events';

class InvalidConversationEventSignatureError extends DomainError<'HUBSPOT_SIGNATURE_INVALID'> {
  constructor() {
    super('HUBSPOT_SIGNATURE_INVALID', 'The HubSpot request signature is missing, stale or invalid.', {
      httpStatus: 401,
    });
  }
}

/** Conversation events carry the v3 headers as well as v1; only v3 (with its 5-minute window) is trusted. */
@Injectable()
class ConversationEventSignatureGuard implements CanActivate {
  constructor(
    private readonly verifier: HubSpotSignatureVerifier,
    private readonly metrics: ConversationEventMetrics,
  ) {}

  canActivate(context: ExecutionContext): boolean {
    const request = context.switchToHttp().getRequest<Request & { rawBody?: Buffer }>();
    if (this.verifier.verify(request) !== 'valid') {
      this.metrics.count('other', 'unauthorized');
      throw new InvalidConversationEventSignatureError();
    }
    return true;
  }
}

@Controller()
export class ConversationEventsController {
  constructor(private readonly events: ConversationEventsService) {}

  @Post(CONVERSATION_EVENTS_PATH)
  @HttpCode(200)
  @UseGuards(ConversationEventSignatureGuard)
  receive(@Body() body: unknown): Promise<ConversationEventsResult> {
    return this.events.ingest(body);
  }
}

export const conversationEventGuards = [ConversationEventSignatureGuard];
