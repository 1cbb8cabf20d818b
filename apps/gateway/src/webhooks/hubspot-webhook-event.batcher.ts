import { DATA_SOURCE, GroupCommit } from '@inbox-bridge/service-kit';
import { Inject, Injectable } from '@nestjs/common';
import type { DataSource } from 'typeorm';
import { HubSpotWebhookEventRepository, type NewWebhookEvent } from './hubspot-webhook-event.repository.js';

/**
 * Stores webhook events durably, the requests that arrive while earlier inserts are in flight grouped into one
 * multi-row INSERT (one round trip and one commit for all of them; {@link GroupCommit}). Each caller is answered
 * only after its own event is committed; an event PostgreSQL refuses fails alone.
 */
@Injectable()
export class HubSpotWebhookEventBatcher {
  private readonly groups: GroupCommit<NewWebhookEvent, boolean>;

  constructor(@Inject(DATA_SOURCE) dataSource: DataSource, events: HubSpotWebhookEventRepository) {
    this.groups = new GroupCommit(dataSource, {
      store: (manager, group) => events.insertAllIfNew(manager, group),
      // Each holds one pooled connection; the rest of the pool stays for the worker, the relay and the consumers.
      concurrency: 4,
      maxGroupSize: 500,
      transaction: false,
    });
  }

  /** `false` when an event with the same portal and dedupe key is already stored. */
  store(event: NewWebhookEvent): Promise<boolean> {
    return this.groups.submit(event);
  }
}
