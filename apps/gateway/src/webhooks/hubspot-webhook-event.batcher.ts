import { DATA_SOURCE } from '@inbox-bridge/service-kit';
import { Inject, Injectable } from '@nestjs/common';
import type { DataSource } from 'typeorm';
import { HubSpotWebhookEventRepository, type NewWebhookEvent } from './hubspot-webhook-event.repository.js';

/**
 * Statements storing webhooks at once. Each holds one pooled connection for one commit; the rest of the pool
 * stays for the worker, the outbox relay and the consumers.
 */
const CONCURRENT_INSERTS = 4;
/** Events stored by one statement at most. */
const MAX_EVENTS_PER_INSERT = 500;

interface PendingEvent {
  readonly event: NewWebhookEvent;
  readonly resolve: (inserted: boolean) => void;
  readonly reject: (error: unknown) => void;
}

/**
 * Stores webhook events durably, grouping the requests that arrive while earlier inserts are in flight into
 * one multi-row INSERT (one round trip and one commit for all of them). An idle gateway stores each event at
 * once, alone: grouping adds no wait, it only replaces queueing for a connection. Each caller is answered
 * only after its own event is committed. If a grouped insert fails, its events are stored one by one, so an
 * event PostgreSQL refuses fails alone.
 */
@Injectable()
export class HubSpotWebhookEventBatcher {
  private readonly queue: PendingEvent[] = [];
  private inFlight = 0;

  constructor(
    @Inject(DATA_SOURCE) private readonly dataSource: DataSource,
    private readonly events: HubSpotWebhookEventRepository,
  ) {}

  /** `false` when an event with the same portal and dedupe key is already stored. */
  store(event: NewWebhookEvent): Promise<boolean> {
    return new Promise<boolean>((resolve, reject) => {
      this.queue.push({ event, resolve, reject });
      this.drain();
    });
  }

  private drain(): void {
    while (this.inFlight < CONCURRENT_INSERTS && this.queue.length > 0) {
      const batch = this.queue.splice(0, MAX_EVENTS_PER_INSERT);
      this.inFlight += 1;
      void this.insert(batch).finally(() => {
        this.inFlight -= 1;
        this.drain();
      });
    }
  }

  private async insert(batch: readonly PendingEvent[]): Promise<void> {
    try {
      const inserted = await this.events.insertAllIfNew(
        this.dataSource.manager,
        batch.map((pending) => pending.event),
      );
      batch.forEach((pending, index) => {
        pending.resolve(inserted[index] === true);
      });
    } catch (error) {
      if (batch.length === 1) {
        batch[0]?.reject(error);
        return;
      }
      for (const pending of batch) {
        try {
          pending.resolve(await this.events.insertIfNew(this.dataSource.manager, pending.event));
        } catch (single) {
          pending.reject(single);
        }
      }
    }
  }
}
