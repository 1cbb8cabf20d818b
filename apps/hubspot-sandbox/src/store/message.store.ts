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
}

@Injectable()
export class MessageStore {
  private readonly messages = new Map<string, StoredMessage>();
  private readonly threads = new Map<string, Thread>();

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
  }
}
