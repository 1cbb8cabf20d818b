import { Messaging, currentTraceHeaders } from '@inbox-bridge/messaging';
import { DATA_SOURCE, RequestValidationError, parseBody } from '@inbox-bridge/service-kit';
import { RoutingKeys } from '@inbox-bridge/shared';
import { Inject, Injectable } from '@nestjs/common';
import type { DataSource, EntityManager } from 'typeorm';
import {
  CHANNEL_ACCOUNT_DIRECTORY,
  type ChannelAccountDirectory,
} from '../accounts/channel-account-directory.js';
import { HubSpotWebhookEventBatcher } from './hubspot-webhook-event.batcher.js';
import { HubSpotWebhookEventRepository } from './hubspot-webhook-event.repository.js';
import { HubSpotWebhookMetrics } from './hubspot-webhook.metrics.js';
import {
  dedupeKeyOf,
  hubspotWebhookSchemas,
  isKnownWebhookType,
  orderingKeyOf,
  type ChannelAccountPurgedEvent,
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
 * Stores a verified HubSpot webhook (the purge with its outbox row, in one transaction) so the caller
 * answers only after it is durable, and a redelivery (same dedupe key) is recognised and changes nothing.
 */
@Injectable()
export class HubSpotWebhookIngestService {
  constructor(
    @Inject(DATA_SOURCE) private readonly dataSource: DataSource,
    private readonly messaging: Messaging,
    private readonly events: HubSpotWebhookEventRepository,
    private readonly batcher: HubSpotWebhookEventBatcher,
    private readonly metrics: HubSpotWebhookMetrics,
    private readonly worker: HubSpotWebhookWorker,
    @Inject(CHANNEL_ACCOUNT_DIRECTORY) private readonly accounts: ChannelAccountDirectory,
  ) {}

  async ingest(body: unknown): Promise<IngestResult> {
    const event = this.parse(body);
    if (event === undefined) {
      return { outcome: 'ignored' };
    }
    const stored = {
      portalId: event.portalId,
      dedupeKey: dedupeKeyOf(event),
      eventType: event.type,
      orderingKey: orderingKeyOf(event),
      payload: body,
      traceHeaders: currentTraceHeaders(),
    };
    // Only the purge publishes with the event; everything else is stored by one autocommitted INSERT,
    // shared with the requests arriving at the same time (one round trip).
    const result: IngestResult =
      event.type === 'CHANNEL_ACCOUNT_PURGED'
        ? await this.dataSource.transaction(async (manager) => {
            if (!(await this.events.insertIfNew(manager, stored))) {
              return { outcome: 'duplicate' } as const;
            }
            // Another portal's account is not purged anywhere: the worker records the event as skipped.
            const owner = await this.accounts.portalOf(manager, event.channelAccountId);
            if (owner !== undefined && owner !== String(event.portalId)) {
              return { outcome: 'accepted' } as const;
            }
            return { outcome: 'accepted', published: await this.publishPurge(manager, event) } as const;
          })
        : { outcome: (await this.batcher.store(stored)) ? 'accepted' : 'duplicate' };
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
   * {@link HubSpotWebhookWorker} from the stored event, so this request stays a single short statement.
   */
  private async publishPurge(manager: EntityManager, event: ChannelAccountPurgedEvent): Promise<string> {
    const envelope = await this.messaging.outbox.publish(
      manager,
      RoutingKeys.GatewayChannelAccountPurgedV1,
      { channelAccountId: event.channelAccountId },
      { portalId: event.portalId },
    );
    return envelope.type;
  }
}
