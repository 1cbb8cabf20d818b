import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import { HubSpotWebhookEventEntity } from './hubspot-webhook-event.entity.js';

export interface NewWebhookEvent {
  readonly portalId: number;
  readonly dedupeKey: string;
  readonly eventType: string;
  /** The parsed JSON body as received. */
  readonly payload: unknown;
}

/** The only place that touches TypeORM for webhook events; runs in the caller's transaction. */
@Injectable()
export class HubSpotWebhookEventRepository {
  /** Inserts the event; `false` when an event with the same portal and dedupe key was already stored. */
  async insertIfNew(manager: EntityManager, event: NewWebhookEvent): Promise<boolean> {
    const result = await manager
      .createQueryBuilder()
      .insert()
      .into(HubSpotWebhookEventEntity)
      .values({
        portalId: String(event.portalId),
        dedupeKey: event.dedupeKey,
        eventType: event.eventType,
        payload: () => ':payload::jsonb',
      })
      .setParameter('payload', JSON.stringify(event.payload))
      .orIgnore()
      .returning(['id'])
      .execute();
    return Array.isArray(result.raw) && result.raw.length > 0;
  }
}
