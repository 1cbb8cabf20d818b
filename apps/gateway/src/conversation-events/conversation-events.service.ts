import { Messaging } from '@inbox-bridge/messaging';
import { DATA_SOURCE, GroupCommit } from '@inbox-bridge/service-kit';
import { RoutingKeys } from '@inbox-bridge/shared';
import { Inject, Injectable, Logger } from '@nestjs/common';
import type { DataSource, EntityManager } from 'typeorm';
import { BridgeAssignmentJournal, schemaOfManager } from './bridge-assignment-journal.js';
import {
  assignedActorOf,
  conversationEventSchema,
  threadStatusOf,
  type ConversationEvent,
} from './conversation-event.schemas.js';
import { ConversationEventMetrics } from './conversation-events.metrics.js';
import { forgetThread } from './thread-deletion.js';

type Outcome = 'accepted' | 'duplicate';

/** The Webhooks API's thread deletions: by a person in HubSpot, or a GDPR deletion of the contact's data. */
const DELETIONS: Readonly<Record<string, { readonly privacy: boolean } | undefined>> = {
  'conversation.deletion': { privacy: false },
  'conversation.privacyDeletion': { privacy: true },
};

export interface ConversationEventsResult {
  readonly accepted: number;
  readonly duplicates: number;
  /** Events of a shape the bridge does not know: logged and counted, not stored (HubSpot would retry a 4xx). */
  readonly unrecognized: number;
}

/**
 * Webhooks API conversation events: an `assignedTo` change becomes `gateway.thread.assignment-changed.v1`,
 * marked as a person's when it is not the echo of the bridge's own assignment; a `status` change becomes
 * `gateway.thread.status-changed.v1`; a `conversation.deletion` or `conversation.privacyDeletion` forgets the thread
 * ({@link forgetThread}) and becomes `gateway.thread.deleted.v1`. Deduplicated by event id and
 * published through the outbox in one transaction; other event types are recorded and counted only. HubSpot
 * sends a JSON array; one event object is taken too, and an event of an unknown shape is logged, not refused.
 */
@Injectable()
export class ConversationEventsService {
  private readonly logger = new Logger('ConversationEvents');
  /** Concurrent webhooks share one transaction and one outbox INSERT ({@link GroupCommit}). */
  private readonly intake: GroupCommit<readonly ConversationEvent[], Outcome[]>;

  constructor(
    @Inject(DATA_SOURCE) dataSource: DataSource,
    private readonly messaging: Messaging,
    private readonly journal: BridgeAssignmentJournal,
    private readonly metrics: ConversationEventMetrics,
  ) {
    this.intake = new GroupCommit(dataSource, {
      store: (manager, batches) =>
        messaging.outbox.collecting(manager, async () => {
          const outcomes: Outcome[][] = [];
          for (const events of batches) {
            const results: Outcome[] = [];
            for (const event of events) {
              results.push(await this.handle(manager, event));
            }
            outcomes.push(results);
          }
          return outcomes;
        }),
      // One group at a time: two groups holding the same redelivered events in another order would deadlock.
      concurrency: 1,
      maxGroupSize: 100,
    });
  }

  async ingest(body: unknown): Promise<ConversationEventsResult> {
    const events: ConversationEvent[] = [];
    let unrecognized = 0;
    for (const [index, delivered] of (Array.isArray(body) ? body : [body]).entries()) {
      const parsed = conversationEventSchema.safeParse(delivered);
      if (parsed.success) {
        events.push(parsed.data);
        continue;
      }
      unrecognized += 1;
      this.metrics.count('other', 'invalid');
      this.logger.warn(
        {
          index,
          problems: parsed.error.issues
            .slice(0, 10)
            .map(
              (issue) => `${issue.path.length === 0 ? '(event)' : issue.path.join('.')}: ${issue.message}`,
            ),
        },
        'signed conversation event of an unknown shape: answered 200 (HubSpot would retry a 4xx), not processed',
      );
    }
    events.sort((a, b) => a.occurredAt - b.occurredAt);
    const outcomes = events.length === 0 ? [] : await this.intake.submit(events);
    events.forEach((event, i) => {
      this.metrics.count(event.subscriptionType, outcomes[i] ?? 'accepted');
    });
    const duplicates = outcomes.filter((outcome) => outcome === 'duplicate').length;
    return { accepted: outcomes.length - duplicates, duplicates, unrecognized };
  }

  private async handle(manager: EntityManager, event: ConversationEvent): Promise<Outcome> {
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
    const deletion = DELETIONS[event.subscriptionType];
    if (deletion !== undefined) {
      const conversations = await forgetThread(manager, portalId, threadId);
      await this.messaging.outbox.publish(
        manager,
        RoutingKeys.GatewayThreadDeletedV1,
        { hubspotThreadId: threadId, privacy: deletion.privacy, conversations: [...conversations] },
        { portalId: Number(portalId) },
      );
      return 'accepted';
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
