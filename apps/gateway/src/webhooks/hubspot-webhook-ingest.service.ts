import { Messaging } from '@inbox-bridge/messaging';
import { DATA_SOURCE, RequestValidationError, parseBody } from '@inbox-bridge/service-kit';
import { RoutingKeys } from '@inbox-bridge/shared';
import { Inject, Injectable } from '@nestjs/common';
import type { DataSource, EntityManager } from 'typeorm';
import { HubSpotWebhookEventRepository } from './hubspot-webhook-event.repository.js';
import { HubSpotWebhookMetrics } from './hubspot-webhook.metrics.js';
import {
  dedupeKeyOf,
  hubspotWebhookSchemas,
  isKnownWebhookType,
  orderingKeyOf,
  type HubSpotWebhookEvent,
} from './hubspot-webhook.schemas.js';
import { HubSpotWebhookWorker } from './hubspot-webhook.worker.js';

export type IngestOutcome = 'accepted' | 'duplicate' | 'ignored';

export interface IngestResult {
  readonly outcome: IngestOutcome;
  /** The routing key published, when the event type is mapped to a contract yet. */
  readonly published?: string;
}

/**
 * Stores a verified HubSpot webhook and publishes its event through the outbox, in one transaction, so
 * the caller answers only after COMMIT and a redelivery (same dedupe key) publishes nothing again.
 */
@Injectable()
export class HubSpotWebhookIngestService {
  constructor(
    @Inject(DATA_SOURCE) private readonly dataSource: DataSource,
    private readonly messaging: Messaging,
    private readonly events: HubSpotWebhookEventRepository,
    private readonly metrics: HubSpotWebhookMetrics,
    private readonly worker: HubSpotWebhookWorker,
  ) {}

  async ingest(body: unknown): Promise<IngestResult> {
    const event = this.parse(body);
    if (event === undefined) {
      return { outcome: 'ignored' };
    }
    const result = await this.dataSource.transaction(async (manager) => {
      const isNew = await this.events.insertIfNew(manager, {
        portalId: event.portalId,
        dedupeKey: dedupeKeyOf(event),
        eventType: event.type,
        orderingKey: orderingKeyOf(event),
        payload: body,
      });
      if (!isNew) {
        return { outcome: 'duplicate' } as const;
      }
      const published = await this.publish(manager, event);
      return published === undefined
        ? ({ outcome: 'accepted' } as const)
        : ({ outcome: 'accepted', published } as const);
    });
    this.metrics.count(event.type, result.outcome);
    if (result.outcome === 'accepted') {
      this.worker.wake();
    }
    return result;
  }

  /** The typed event, `undefined` for a type we do not handle (answered 200 and counted), or a 400. */
  private parse(body: unknown): HubSpotWebhookEvent | undefined {
    if (typeof body !== 'object' || body === null || Array.isArray(body)) {
      this.metrics.count('other', 'invalid');
      throw new RequestValidationError([{ field: '(body)', message: 'expected one JSON object' }]);
    }
    const type: unknown = (body as Record<string, unknown>)['type'];
    if (typeof type !== 'string') {
      this.metrics.count('other', 'invalid');
      throw new RequestValidationError([{ field: 'type', message: 'expected the event type as a string' }]);
    }
    if (!isKnownWebhookType(type)) {
      this.metrics.count(type, 'ignored');
      return undefined;
    }
    try {
      return parseBody(hubspotWebhookSchemas[type], body);
    } catch (error) {
      this.metrics.count(type, 'invalid');
      throw error;
    }
  }

  /**
   * Only the purge is published here, with the event: it needs nothing but the webhook. Everything else
   * (reading the account back from HubSpot, resolving the reply's conversation and files) is done by
   * {@link HubSpotWebhookWorker} from the stored event, so this request stays a single short transaction.
   */
  private async publish(manager: EntityManager, event: HubSpotWebhookEvent): Promise<string | undefined> {
    switch (event.type) {
      case 'CHANNEL_ACCOUNT_PURGED': {
        const envelope = await this.messaging.outbox.publish(
          manager,
          RoutingKeys.GatewayChannelAccountPurgedV1,
          { channelAccountId: event.channelAccountId },
          { portalId: event.portalId },
        );
        return envelope.type;
      }
      case 'CHANNEL_ACCOUNT_CREATED':
      case 'CHANNEL_ACCOUNT_UPDATED':
      case 'OUTGOING_CHANNEL_MESSAGE_CREATED':
        return undefined;
    }
  }
}
