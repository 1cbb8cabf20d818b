import { Messaging } from '@inbox-bridge/messaging';
import { DATA_SOURCE, RequestValidationError } from '@inbox-bridge/service-kit';
import { RoutingKeys } from '@inbox-bridge/shared';
import { Inject, Injectable } from '@nestjs/common';
import type { DataSource, EntityManager } from 'typeorm';
import { BridgeAssignmentJournal, schemaOfManager } from './bridge-assignment-journal.js';
import {
  assignedActorOf,
  conversationEventBatchSchema,
  threadStatusOf,
  type ConversationEvent,
} from './conversation-event.schemas.js';
import { ConversationEventMetrics } from './conversation-events.metrics.js';

export interface ConversationEventsResult {
  readonly accepted: number;
  readonly duplicates: number;
}

/**
 * Webhooks API conversation events: an `assignedTo` change becomes `gateway.thread.assignment-changed.v1`,
 * marked as a person's when it is not the echo of the bridge's own assignment; a `status` change becomes
 * `gateway.thread.status-changed.v1`. Deduplicated by event id and
 * published through the outbox in one transaction; other event types are recorded and counted only.
 */
@Injectable()
export class ConversationEventsService {
  constructor(
    @Inject(DATA_SOURCE) private readonly dataSource: DataSource,
    private readonly messaging: Messaging,
    private readonly journal: BridgeAssignmentJournal,
    private readonly metrics: ConversationEventMetrics,
  ) {}

  async ingest(body: unknown): Promise<ConversationEventsResult> {
    const parsed = conversationEventBatchSchema.safeParse(body);
    if (!parsed.success) {
      this.metrics.count('other', 'invalid');
      throw new RequestValidationError(
        parsed.error.issues.map((issue) => ({
          field: issue.path.length === 0 ? '(body)' : issue.path.join('.'),
          message: issue.message,
        })),
      );
    }
    const events = [...parsed.data].sort((a, b) => a.occurredAt - b.occurredAt);
    const outcomes = await this.dataSource.transaction(async (manager) => {
      const results: ('accepted' | 'duplicate')[] = [];
      for (const event of events) {
        results.push(await this.handle(manager, event));
      }
      return results;
    });
    events.forEach((event, i) => {
      this.metrics.count(event.subscriptionType, outcomes[i] ?? 'accepted');
    });
    const duplicates = outcomes.filter((outcome) => outcome === 'duplicate').length;
    return { accepted: outcomes.length - duplicates, duplicates };
  }

  private async handle(manager: EntityManager, event: ConversationEvent): Promise<'accepted' | 'duplicate'> {
    const portalId = String(event.portalId);
    const threadId = String(event.objectId);
    const inserted: unknown[] = await manager.query(
      `INSERT INTO "${schemaOfManager(manager)}".conversation_events
         (portal_id, event_id, subscription_type, thread_id, occurred_at)
       VALUES ($1, $2, $3, $4, to_timestamp($5 / 1000.0))
       ON CONFLICT (portal_id, event_id) DO NOTHING
       RETURNING 1`,
      [portalId, String(event.eventId), event.subscriptionType, threadId, event.occurredAt],
    );
    if (inserted.length === 0) {
      return 'duplicate';
    }
    const assignedActorId = assignedActorOf(event);
    if (assignedActorId !== undefined) {
      const byBridge = await this.journal.isBridgeAssignment(manager, portalId, threadId, assignedActorId);
      await this.messaging.outbox.publish(
        manager,
        RoutingKeys.GatewayThreadAssignmentChangedV1,
        { hubspotThreadId: threadId, assignedActorId, byAgent: !byBridge },
        { portalId: Number(portalId) },
      );
    }
    const status = threadStatusOf(event);
    if (status !== undefined) {
      await this.messaging.outbox.publish(
        manager,
        RoutingKeys.GatewayThreadStatusChangedV1,
        { hubspotThreadId: threadId, status, occurredAt: new Date(event.occurredAt).toISOString() },
        { portalId: Number(portalId) },
      );
    }
    return 'accepted';
  }
}
