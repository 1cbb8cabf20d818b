import { Injectable } from '@nestjs/common';
import type { DeliveryIdentifier } from './channel-account.store.js';

export interface Participant {
  readonly actorId?: string;
  readonly deliveryIdentifier: DeliveryIdentifier;
  readonly name?: string;
}

export type StatusType = 'FAILED' | 'READ' | 'RECEIVED' | 'SENT';

export interface StoredMessage {
  readonly id: string;
  readonly portalId: number;
  readonly channelId: string;
  readonly channelAccountId: string;
  readonly conversationsThreadId: string;
  readonly direction: 'INCOMING' | 'OUTGOING';
  readonly text: string;
  readonly richText?: string;
  readonly senders: Participant[];
  readonly recipients: Participant[];
  readonly attachments: Record<string, unknown>[];
  readonly createdAt: string;
  updatedAt: string;
  readonly createdBy: string;
  readonly clientType: 'HUBSPOT' | 'INTEGRATION';
  readonly integrationAppId?: number;
  readonly inReplyToId?: string;
  readonly integrationIdempotencyId?: string;
  status: { statusType: StatusType; failureDetails?: { errorMessage: string } };
}

export interface Thread {
  readonly id: string;
  readonly portalId: number;
  readonly channelId: string;
  readonly channelAccountId: string;
  readonly inboxId: string;
  /** The integration's id, or the one HubSpot generated under `DELIVERY_IDENTIFIER` threading. */
  readonly integrationThreadId: string;
  /** Under `DELIVERY_IDENTIFIER` threading: the sorted external participants' identifiers. */
  readonly participantKey?: string;
  status: 'OPEN' | 'CLOSED';
  readonly createdAt: string;
  closedAt?: string;
  archived?: boolean;
  /** `A-<userId>` of the assigned rep, if any (Conversations API, §5.2). */
  assignedTo?: string;
  associatedContactId?: string;
  /** Help-desk inboxes create a ticket per conversation (§5.4). */
  associatedTicketId?: string;
}

/** Non-MESSAGE entries of a thread's timeline (§5.2 message union). */
export type ThreadActivity =
  | {
      readonly type: 'ASSIGNMENT';
      readonly id: string;
      readonly conversationsThreadId: string;
      readonly createdAt: string;
      readonly createdBy: string;
      readonly assignedFrom?: string;
      readonly assignedTo?: string;
    }
  | {
      readonly type: 'THREAD_STATUS_CHANGE';
      readonly id: string;
      readonly conversationsThreadId: string;
      readonly createdAt: string;
      readonly createdBy: string;
      readonly newStatus: 'OPEN' | 'CLOSED';
    };

/** Appends `item` to the list under `key`. */
function push<K, V>(index: Map<K, V[]>, key: K, item: V): void {
  const list = index.get(key);
  if (list === undefined) {
    index.set(key, [item]);
  } else {
    list.push(item);
  }
}

const pairKey = (left: string, right: string): string => `${left}\u0000${right}`;

/**
 * Messages, threads and timeline activities, indexed for every lookup the publish path and the readers make, so
 * no request costs time proportional to what is stored (benchmarks publish hundreds of thousands of messages).
 */
@Injectable()
export class MessageStore {
  private readonly messages = new Map<string, StoredMessage>();
  private readonly threads = new Map<string, Thread>();
  private readonly messagesByThread = new Map<string, StoredMessage[]>();
  private readonly messagesByPortal = new Map<number, StoredMessage[]>();
  private readonly messagesByIdempotencyId = new Map<string, StoredMessage>();
  private readonly threadsByPortal = new Map<number, Thread[]>();
  private readonly threadsByIntegrationId = new Map<string, Thread>();
  private readonly threadsByParticipants = new Map<string, Thread[]>();
  private readonly activitiesByThread = new Map<string, ThreadActivity[]>();

  saveActivity(activity: ThreadActivity): ThreadActivity {
    push(this.activitiesByThread, activity.conversationsThreadId, activity);
    return activity;
  }

  threadActivities(threadId: string): ThreadActivity[] {
    return [...(this.activitiesByThread.get(threadId) ?? [])];
  }

  portalMessages(portalId: number): StoredMessage[] {
    return [...(this.messagesByPortal.get(portalId) ?? [])];
  }

  /** Stores a new message (messages are never re-saved: their status and `updatedAt` change in place). */
  saveMessage(message: StoredMessage): StoredMessage {
    this.messages.set(message.id, message);
    push(this.messagesByThread, message.conversationsThreadId, message);
    push(this.messagesByPortal, message.portalId, message);
    if (message.integrationIdempotencyId !== undefined) {
      this.messagesByIdempotencyId.set(
        pairKey(message.channelAccountId, message.integrationIdempotencyId),
        message,
      );
    }
    return message;
  }

  message(id: string): StoredMessage | undefined {
    return this.messages.get(id);
  }

  byIdempotencyId(channelAccountId: string, idempotencyId: string): StoredMessage | undefined {
    return this.messagesByIdempotencyId.get(pairKey(channelAccountId, idempotencyId));
  }

  threadMessages(threadId: string): StoredMessage[] {
    return [...(this.messagesByThread.get(threadId) ?? [])];
  }

  /** The newest message of each direction and overall, without copying the thread's history. */
  latestMessages(threadId: string): {
    latest?: StoredMessage;
    incoming?: StoredMessage;
    outgoing?: StoredMessage;
  } {
    const history = this.messagesByThread.get(threadId) ?? [];
    const result: { latest?: StoredMessage; incoming?: StoredMessage; outgoing?: StoredMessage } = {};
    for (const message of history) {
      const at = Date.parse(message.createdAt);
      const later = (current: StoredMessage | undefined) =>
        current === undefined || Date.parse(current.createdAt) <= at;
      if (later(result.latest)) {
        result.latest = message;
      }
      if (message.direction === 'INCOMING' && later(result.incoming)) {
        result.incoming = message;
      }
      if (message.direction === 'OUTGOING' && later(result.outgoing)) {
        result.outgoing = message;
      }
    }
    return result;
  }

  /** Stores a new thread (threads are never re-saved: status, assignee and archive change in place). */
  saveThread(thread: Thread): Thread {
    this.threads.set(thread.id, thread);
    push(this.threadsByPortal, thread.portalId, thread);
    const integrationKey = pairKey(thread.channelAccountId, thread.integrationThreadId);
    if (!this.threadsByIntegrationId.has(integrationKey)) {
      this.threadsByIntegrationId.set(integrationKey, thread);
    }
    if (thread.participantKey !== undefined) {
      push(this.threadsByParticipants, pairKey(thread.channelAccountId, thread.participantKey), thread);
    }
    return thread;
  }

  thread(id: string): Thread | undefined {
    return this.threads.get(id);
  }

  /** The thread of a channel account with this `integrationThreadId` (the first one, if several). */
  threadByIntegrationId(channelAccountId: string, integrationThreadId: string): Thread | undefined {
    return this.threadsByIntegrationId.get(pairKey(channelAccountId, integrationThreadId));
  }

  /** The open thread of a channel account with these external participants (`DELIVERY_IDENTIFIER` threading). */
  openThreadByParticipants(channelAccountId: string, participantKey: string): Thread | undefined {
    return this.threadsByParticipants
      .get(pairKey(channelAccountId, participantKey))
      ?.find((thread) => thread.status === 'OPEN');
  }

  /** Removes a thread with its messages and activities from every index (a GDPR deletion). */
  deleteThread(thread: Thread): void {
    const without = <T>(list: T[] | undefined, drop: (item: T) => boolean) => {
      if (list !== undefined) {
        list.splice(0, list.length, ...list.filter((item) => !drop(item)));
      }
    };
    for (const message of this.messagesByThread.get(thread.id) ?? []) {
      this.messages.delete(message.id);
      if (message.integrationIdempotencyId !== undefined) {
        this.messagesByIdempotencyId.delete(
          pairKey(message.channelAccountId, message.integrationIdempotencyId),
        );
      }
    }
    without(
      this.messagesByPortal.get(thread.portalId),
      (message) => message.conversationsThreadId === thread.id,
    );
    this.messagesByThread.delete(thread.id);
    this.activitiesByThread.delete(thread.id);
    this.threads.delete(thread.id);
    without(this.threadsByPortal.get(thread.portalId), (candidate) => candidate.id === thread.id);
    const integrationKey = pairKey(thread.channelAccountId, thread.integrationThreadId);
    if (this.threadsByIntegrationId.get(integrationKey) === thread) {
      this.threadsByIntegrationId.delete(integrationKey);
    }
    if (thread.participantKey !== undefined) {
      without(
        this.threadsByParticipants.get(pairKey(thread.channelAccountId, thread.participantKey)),
        (candidate) => candidate.id === thread.id,
      );
    }
  }

  portalThreads(portalId: number): Thread[] {
    return [...(this.threadsByPortal.get(portalId) ?? [])];
  }

  reset(): void {
    for (const index of [
      this.messages,
      this.threads,
      this.messagesByThread,
      this.messagesByPortal,
      this.messagesByIdempotencyId,
      this.threadsByPortal,
      this.threadsByIntegrationId,
      this.threadsByParticipants,
      this.activitiesByThread,
    ]) {
      index.clear();
    }
  }
}
