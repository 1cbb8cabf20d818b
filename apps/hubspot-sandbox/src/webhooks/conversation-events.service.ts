import { Injectable, type OnApplicationShutdown } from '@nestjs/common';
import type {
  ConversationSubscriptionType,
  ConversationWebhookEvent,
  WebhookSubscription,
} from '../control/control.types.js';
import { AppStore, type SandboxApp } from '../store/app.store.js';
import { IdGenerator } from '../store/ids.js';
import type { Thread } from '../store/message.store.js';
import { TokenStore } from '../store/token.store.js';
import { WebhookDispatcher } from './webhook-dispatcher.service.js';

type PendingEvent = Omit<ConversationWebhookEvent, 'attemptNumber'>;

interface EventDetails {
  readonly propertyName?: WebhookSubscription['propertyName'];
  readonly propertyValue?: string;
  readonly messageId?: string;
  readonly messageType?: 'MESSAGE' | 'COMMENT';
}

/** The app needs this scope to receive conversation events (§2.6). */
const REQUIRED_SCOPE = 'conversations.read';

/**
 * Webhooks API conversation events (§2.6): for every app installed in the portal with `conversations.read`
 * and a matching active subscription, events are batched per app and portal (those of one tick, up to the
 * app's `maxEventsPerRequest`) and POSTed as a JSON array to the app's target URL with the v1 signature and
 * the v3 headers; retried like custom-channel webhooks, each retry with its `attemptNumber`.
 */
@Injectable()
export class ConversationEvents implements OnApplicationShutdown {
  private readonly pending = new Map<string, { app: SandboxApp; portalId: number; events: PendingEvent[] }>();
  private flushTimer: NodeJS.Immediate | undefined;

  constructor(
    private readonly apps: AppStore,
    private readonly tokens: TokenStore,
    private readonly dispatcher: WebhookDispatcher,
    private readonly ids: IdGenerator,
  ) {}

  threadCreated(thread: Thread): void {
    this.emit(thread, 'conversation.creation');
  }

  /** An archive (HubSpot deletes archived threads after 30 days): `conversation.deletion`. */
  threadArchived(thread: Thread): void {
    this.emit(thread, 'conversation.deletion');
    this.emit(thread, 'conversation.propertyChange', { propertyName: 'isArchived', propertyValue: 'true' });
  }

  /** A GDPR delete of the contact's conversation. */
  threadPrivacyDeleted(thread: Thread): void {
    this.emit(thread, 'conversation.privacyDeletion');
  }

  threadRestored(thread: Thread): void {
    this.emit(thread, 'conversation.propertyChange', { propertyName: 'isArchived', propertyValue: 'false' });
  }

  /** `propertyValue` is the new assignee's actor id (`A-<userId>`), or empty when unassigned (assumption). */
  assigneeChanged(thread: Thread, actorId: string | undefined): void {
    this.emit(thread, 'conversation.propertyChange', {
      propertyName: 'assignedTo',
      propertyValue: actorId ?? '',
    });
  }

  statusChanged(thread: Thread, status: 'OPEN' | 'CLOSED'): void {
    this.emit(thread, 'conversation.propertyChange', { propertyName: 'status', propertyValue: status });
  }

  newMessage(thread: Thread, messageId: string): void {
    this.emit(thread, 'conversation.newMessage', { messageId, messageType: 'MESSAGE' });
  }

  reset(): void {
    this.cancelFlush();
    this.pending.clear();
  }

  onApplicationShutdown(): void {
    this.cancelFlush();
  }

  private emit(
    thread: Thread,
    subscriptionType: ConversationSubscriptionType,
    details: EventDetails = {},
  ): void {
    const occurredAt = Date.now();
    for (const app of this.apps.list()) {
      const subscription = app.webhooks?.subscriptions.find(
        (candidate) =>
          candidate.active &&
          candidate.subscriptionType === subscriptionType &&
          (subscriptionType !== 'conversation.propertyChange' ||
            candidate.propertyName === details.propertyName),
      );
      if (
        subscription === undefined ||
        !this.tokens.isInstalled(app.appId, thread.portalId, REQUIRED_SCOPE)
      ) {
        continue;
      }
      const key = `${app.appId}:${thread.portalId}`;
      const batch = this.pending.get(key) ?? { app, portalId: thread.portalId, events: [] };
      batch.events.push({
        // Never reused, not even after a reset: receivers deduplicate on (portalId, eventId) for months.
        eventId: this.ids.nextUnique(),
        subscriptionId: subscription.id,
        portalId: thread.portalId,
        appId: app.appId,
        occurredAt,
        subscriptionType,
        objectId: Number(thread.id),
        ...details,
      });
      this.pending.set(key, batch);
    }
    if (this.pending.size > 0 && this.flushTimer === undefined) {
      this.flushTimer = setImmediate(() => {
        this.flushTimer = undefined;
        this.flush();
      });
    }
  }

  private flush(): void {
    for (const { app, portalId, events } of this.pending.values()) {
      const settings = app.webhooks;
      if (settings === undefined) {
        continue;
      }
      for (let start = 0; start < events.length; start += settings.maxEventsPerRequest) {
        const chunk = events.slice(start, start + settings.maxEventsPerRequest);
        this.dispatcher.dispatch({
          kind: 'WEBHOOKS_API',
          eventType: [...new Set(chunk.map((event) => event.subscriptionType))].join(','),
          url: settings.targetUrl,
          clientSecret: app.clientSecret,
          portalId,
          appId: app.appId,
          render: (attempt) => JSON.stringify(chunk.map((event) => withAttemptNumber(event, attempt - 1))),
        });
      }
    }
    this.pending.clear();
  }

  private cancelFlush(): void {
    if (this.flushTimer !== undefined) {
      clearImmediate(this.flushTimer);
      this.flushTimer = undefined;
    }
  }
}

/** HubSpot's field order, `attemptNumber` (0 on the first delivery) after `subscriptionType`. */
function withAttemptNumber(event: PendingEvent, attemptNumber: number): ConversationWebhookEvent {
  const { eventId, subscriptionId, portalId, appId, occurredAt, subscriptionType, ...rest } = event;
  return { eventId, subscriptionId, portalId, appId, occurredAt, subscriptionType, attemptNumber, ...rest };
}
