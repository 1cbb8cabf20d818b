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

@Injectable()
export class MessageStore {
  private readonly messages = new Map<string, StoredMessage>();
  private readonly threads = new Map<string, Thread>();
  private readonly activities: ThreadActivity[] = [];

  saveActivity(activity: ThreadActivity): ThreadActivity {
    this.activities.push(activity);
    return activity;
  }

  threadActivities(threadId: string): ThreadActivity[] {
    return this.activities.filter((activity) => activity.conversationsThreadId === threadId);
  }

  portalMessages(portalId: number): StoredMessage[] {
    return [...this.messages.values()].filter((message) => message.portalId === portalId);
  }

  saveMessage(message: StoredMessage): StoredMessage {
    this.messages.set(message.id, message);
    return message;
  }

  message(id: string): StoredMessage | undefined {
    return this.messages.get(id);
  }

  byIdempotencyId(channelAccountId: string, idempotencyId: string): StoredMessage | undefined {
    return [...this.messages.values()].find(
      (message) =>
        message.channelAccountId === channelAccountId && message.integrationIdempotencyId === idempotencyId,
    );
  }

  threadMessages(threadId: string): StoredMessage[] {
    return [...this.messages.values()].filter((message) => message.conversationsThreadId === threadId);
  }

  saveThread(thread: Thread): Thread {
    this.threads.set(thread.id, thread);
    return thread;
  }

  thread(id: string): Thread | undefined {
    return this.threads.get(id);
  }

  findThread(predicate: (thread: Thread) => boolean): Thread | undefined {
    return [...this.threads.values()].find(predicate);
  }

  portalThreads(portalId: number): Thread[] {
    return [...this.threads.values()].filter((thread) => thread.portalId === portalId);
  }

  reset(): void {
    this.messages.clear();
    this.threads.clear();
    this.activities.length = 0;
  }
}
