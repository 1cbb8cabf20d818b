import { Messaging, currentTraceHeaders } from '@inbox-bridge/messaging';
import { DATA_SOURCE, RequestValidationError, parseBody } from '@inbox-bridge/service-kit';
import { RoutingKeys } from '@inbox-bridge/shared';
import { Inject, Injectable, Logger } from '@nestjs/common';
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

/** `unrecognized`: signed by HubSpot but of a shape the bridge does not know; logged and counted, not stored. */
export type IngestOutcome = 'accepted' | 'duplicate' | 'ignored' | 'unrecognized';

export interface IngestResult {
  readonly outcome: IngestOutcome;
  /** The routing key published, when the event type is mapped to a contract yet. */
  readonly published?: string;
}

type ParsedDelivery =
  | { readonly kind: 'event'; readonly event: HubSpotWebhookEvent }
  | { readonly kind: 'ignored' }
  | { readonly kind: 'unrecognized'; readonly eventType?: string; readonly problems: readonly string[] };

/**
 * Stores a verified HubSpot webhook (the purge with its outbox row, in one transaction) so the caller
 * answers only after it is durable, and a redelivery (same dedupe key) is recognised and changes nothing.
 * HubSpot sends one event object per delivery; an array of them is taken too (hubspot-api.md §7.4). Nothing
 * signed is refused with a 4xx, which HubSpot would redeliver for a day (§2.3): an event of an unknown type is
 * ignored, one of an unknown shape logged with what did not match (§7.4), both counted.
 */
@Injectable()
export class HubSpotWebhookIngestService {
  private readonly logger = new Logger('HubSpotWebhookIngest');

  constructor(
    @Inject(DATA_SOURCE) private readonly dataSource: DataSource,
    private readonly messaging: Messaging,
    private readonly events: HubSpotWebhookEventRepository,
    private readonly batcher: HubSpotWebhookEventBatcher,
    private readonly metrics: HubSpotWebhookMetrics,
    private readonly worker: HubSpotWebhookWorker,
    @Inject(CHANNEL_ACCOUNT_DIRECTORY) private readonly accounts: ChannelAccountDirectory,
  ) {}

  /** The delivery's events (one, or each of an array, in order), each stored or recognised on its own. */
  async ingest(body: unknown): Promise<IngestResult[]> {
    const results: IngestResult[] = [];
    for (const delivered of Array.isArray(body) ? body : [body]) {
      results.push(await this.ingestEvent(delivered));
    }
    return results;
  }

  private async ingestEvent(body: unknown): Promise<IngestResult> {
    const parsed = this.parse(body);
    if (parsed.kind === 'ignored') {
      return { outcome: 'ignored' };
    }
    if (parsed.kind === 'unrecognized') {
      this.logger.warn(
        {
          eventType: parsed.eventType,
          problems: parsed.problems,
          fields: typeof body === 'object' && body !== null ? Object.keys(body).slice(0, 50) : typeof body,
        },
        'signed HubSpot webhook of an unknown shape: answered 200 (HubSpot would retry a 4xx) and not processed',
      );
      return { outcome: 'unrecognized' };
    }
    const { event } = parsed;
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
    const result: IngestResult & { readonly outcome: 'accepted' | 'duplicate' } =
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

  /** The typed event, a type we do not handle (counted, logged), or a shape we do not know (counted). */
  private parse(body: unknown): ParsedDelivery {
    if (typeof body !== 'object' || body === null || Array.isArray(body)) {
      this.metrics.count('other', 'invalid');
      return { kind: 'unrecognized', problems: ['(event): expected a JSON object'] };
    }
    const type: unknown = (body as Record<string, unknown>)['type'];
    if (typeof type !== 'string') {
      this.metrics.count('other', 'invalid');
      return { kind: 'unrecognized', problems: ['type: expected the event type as a string'] };
    }
    if (!isKnownWebhookType(type)) {
      this.metrics.count(type, 'ignored');
      this.logger.log(
        { eventType: type.slice(0, 100) },
        'HubSpot webhook of a type the bridge does not handle',
      );
      return { kind: 'ignored' };
    }
    try {
      return { kind: 'event', event: parseBody(hubspotWebhookSchemas[type], body) };
    } catch (error) {
      if (!(error instanceof RequestValidationError)) {
        throw error;
      }
      this.metrics.count(type, 'invalid');
      return {
        kind: 'unrecognized',
        eventType: type,
        problems: error.errors.map((problem) => `${problem.field}: ${problem.message}`),
      };
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
