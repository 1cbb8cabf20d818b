import { Injectable } from '@nestjs/common';
import { z } from 'zod';
import { toPublicMessage } from '../api/message.service.js';
import { HubSpotError, type HubSpotErrorDetail } from '../common/hubspot-error.js';
import { detail, invalidInput, parseStrict } from '../common/validation.js';
import { assertQuery, forwardPage, queryList } from '../crm/crm-objects.js';
import { CrmService } from '../crm/crm.service.js';
import { IdGenerator } from '../store/ids.js';
import { MessageStore, type Thread, type ThreadActivity } from '../store/message.store.js';
import { PortalStore, type SandboxInbox } from '../store/portal.store.js';
import { ConversationEvents } from '../webhooks/conversation-events.service.js';

export const threadUpdateSchema = z.strictObject({
  status: z.enum(['OPEN', 'CLOSED']).optional(),
  archived: z.literal(false).optional(),
});
export const assigneeSchema = z.strictObject({ actorId: z.string() });
export const actorBatchSchema = z.strictObject({ inputs: z.array(z.string()).min(1).max(100) });

const THREAD_QUERY = [
  'inboxId',
  'associatedContactId',
  'associatedTicketId',
  'association',
  'threadStatus',
  'latestMessageTimestampAfter',
  'archived',
  'property',
  'sort',
  'limit',
  'after',
];
const SORTS = ['id', '-id', 'latestMessageTimestamp', '-latestMessageTimestamp'];

/** Conversations API (§5.2) over the threads and messages the custom-channel endpoints create. */
@Injectable()
export class ConversationsService {
  constructor(
    private readonly portals: PortalStore,
    private readonly messages: MessageStore,
    private readonly crm: CrmService,
    private readonly ids: IdGenerator,
    private readonly events: ConversationEvents,
  ) {}

  inboxes(portalId: number): SandboxInbox[] {
    return this.portals.get(portalId)?.inboxes ?? [];
  }

  inbox(portalId: number, inboxId: string): SandboxInbox {
    const inbox = this.inboxes(portalId).find((candidate) => candidate.id === inboxId);
    if (inbox === undefined) {
      throw HubSpotError.notFound(`Inbox ${inboxId} not found`);
    }
    return inbox;
  }

  listThreads(portalId: number, query: Record<string, unknown>) {
    assertQuery(query, THREAD_QUERY, { limit: { min: 1, max: 500 } });
    const errors: HubSpotErrorDetail[] = [];
    const inboxIds = queryList(query.inboxId);
    const digits = (name: string, values: string[]) => {
      if (values.some((value) => !/^\d{1,10}$/.test(value))) {
        errors.push(
          detail(
            `Invalid value for query parameter "${name}": expected an integer`,
            'INVALID_TYPE',
            'query',
            name,
          ),
        );
      }
    };
    digits('inboxId', inboxIds);
    digits('associatedContactId', queryList(query.associatedContactId));
    digits('associatedTicketId', queryList(query.associatedTicketId));
    const enumParam = (name: string, allowed: string[]) => {
      const value = query[name];
      if (value !== undefined && (typeof value !== 'string' || !allowed.includes(value))) {
        errors.push(
          detail(
            `Invalid value for query parameter "${name}": expected one of ${allowed.join(', ')}`,
            'INVALID_ENUM_VALUE',
            'query',
            name,
          ),
        );
      }
    };
    enumParam('threadStatus', ['OPEN', 'CLOSED']);
    enumParam('association', ['TICKET']);
    enumParam('sort', SORTS);
    const after = query.latestMessageTimestampAfter;
    if (after !== undefined && (typeof after !== 'string' || Number.isNaN(Date.parse(after)))) {
      errors.push(
        detail(
          'Invalid value for query parameter "latestMessageTimestampAfter": expected an ISO 8601 date-time',
          'INVALID_TYPE',
          'query',
          'latestMessageTimestampAfter',
        ),
      );
    }
    const sort = typeof query.sort === 'string' ? query.sort : 'id';
    if (sort.endsWith('latestMessageTimestamp') && after === undefined) {
      errors.push(
        detail(
          'Missing required query parameter "latestMessageTimestampAfter" when sorting by latestMessageTimestamp',
          'MISSING_REQUIRED_FIELD',
          'query',
          'latestMessageTimestampAfter',
        ),
      );
    }
    if (errors.length > 0) {
      throw invalidInput(errors);
    }
    const archived = query.archived === 'true';
    const threads = this.messages
      .portalThreads(portalId)
      .filter((thread) => (thread.archived ?? false) === archived)
      .filter((thread) => inboxIds.length === 0 || inboxIds.includes(thread.inboxId))
      .filter(
        (thread) =>
          query.associatedContactId === undefined || thread.associatedContactId === query.associatedContactId,
      )
      .filter(
        (thread) =>
          query.associatedTicketId === undefined || thread.associatedTicketId === query.associatedTicketId,
      )
      .filter((thread) => query.association === undefined || thread.associatedTicketId !== undefined)
      .filter((thread) => query.threadStatus === undefined || thread.status === query.threadStatus)
      .filter(
        (thread) =>
          typeof after !== 'string' ||
          Date.parse(this.timestamps(thread).latestMessageTimestamp) > Date.parse(after),
      );
    const key = (thread: Thread) =>
      sort.endsWith('id') ? Number(thread.id) : Date.parse(this.timestamps(thread).latestMessageTimestamp);
    threads.sort((left, right) => (sort.startsWith('-') ? key(right) - key(left) : key(left) - key(right)));
    const page = forwardPage(threads, query, '/conversations/v3/conversations/threads', 500);
    return { ...page, results: page.results.map((thread) => this.toPublicThread(thread)) };
  }

  thread(portalId: number, threadId: string, includeArchived = false): Thread {
    const thread = this.messages.thread(threadId);
    if (thread?.portalId !== portalId || ((thread.archived ?? false) && !includeArchived)) {
      throw HubSpotError.notFound(`Thread ${threadId} not found`);
    }
    return thread;
  }

  updateThread(portalId: number, threadId: string, actor: string, body: unknown): Thread {
    const input = parseStrict(threadUpdateSchema, body);
    const thread = this.thread(portalId, threadId, input.archived === false);
    if (input.archived === false && thread.archived === true) {
      thread.archived = false;
      this.events.threadRestored(thread);
    }
    if (input.status !== undefined && input.status !== thread.status) {
      this.setStatus(thread, input.status, actor);
    }
    return thread;
  }

  setStatus(thread: Thread, status: 'OPEN' | 'CLOSED', actor: string): void {
    const now = new Date().toISOString();
    thread.status = status;
    if (status === 'CLOSED') {
      thread.closedAt = now;
    } else {
      delete thread.closedAt;
    }
    this.messages.saveActivity({
      type: 'THREAD_STATUS_CHANGE',
      id: this.activityId(),
      conversationsThreadId: thread.id,
      createdAt: now,
      createdBy: actor,
      newStatus: status,
    });
    this.events.statusChanged(thread, status);
  }

  archiveThread(portalId: number, threadId: string): void {
    const thread = this.thread(portalId, threadId);
    thread.archived = true;
    this.events.threadArchived(thread);
  }

  /**
   * A GDPR deletion of the contact's conversation: the thread goes with its messages and activities (also an
   * archived one), and `conversation.privacyDeletion` goes to subscribed apps.
   */
  privacyDeleteThread(portalId: number, threadId: string): void {
    const thread = this.thread(portalId, threadId, true);
    this.messages.deleteThread(thread);
    this.events.threadPrivacyDeleted(thread);
  }

  /** `A-<userId>` of a user of the portal who is active and has a seat (strict reading of §9.8). */
  assign(portalId: number, threadId: string, actor: string, body: unknown): Thread {
    const input = parseStrict(assigneeSchema, body);
    const thread = this.thread(portalId, threadId);
    const match = /^A-(\d+)$/.exec(input.actorId);
    if (match === null) {
      throw invalidInput([
        detail(
          `Invalid value for field "actorId": "${input.actorId}" is not an agent actor id (expected A-<userId>)`,
          'INVALID_VALUE',
          'body',
          'actorId',
        ),
      ]);
    }
    const userId = Number(match[1]);
    const problem = {
      NO_USER: `user ${userId} does not exist in portal ${portalId}`,
      INACTIVE: `user ${userId} is deactivated`,
      NO_SEAT: `user ${userId} has no seat with access to this inbox`,
      OK: undefined,
    }[this.crm.assignableUser(portalId, userId)];
    if (problem !== undefined) {
      throw invalidInput([
        detail(`Invalid value for field "actorId": ${problem}`, 'INVALID_VALUE', 'body', 'actorId'),
      ]);
    }
    this.setAssignee(thread, input.actorId, actor);
    return thread;
  }

  unassign(portalId: number, threadId: string, actor: string): void {
    const thread = this.thread(portalId, threadId);
    if (thread.assignedTo !== undefined) {
      this.setAssignee(thread, undefined, actor);
    }
  }

  private setAssignee(thread: Thread, actorId: string | undefined, by: string): void {
    const previous = thread.assignedTo;
    if (actorId === undefined) {
      delete thread.assignedTo;
    } else {
      thread.assignedTo = actorId;
    }
    this.messages.saveActivity({
      type: 'ASSIGNMENT',
      id: this.activityId(),
      conversationsThreadId: thread.id,
      createdAt: new Date().toISOString(),
      createdBy: by,
      ...(previous === undefined ? {} : { assignedFrom: previous }),
      ...(actorId === undefined ? {} : { assignedTo: actorId }),
    });
    this.events.assigneeChanged(thread, actorId);
  }

  /** MESSAGE entries and ASSIGNMENT / THREAD_STATUS_CHANGE entries, oldest first. */
  timeline(thread: Thread): Record<string, unknown>[] {
    const entries: { at: string; body: Record<string, unknown> }[] = [
      ...this.messages.threadMessages(thread.id).map((message) => ({
        at: message.createdAt,
        body: toPublicMessage(message),
      })),
      ...this.messages.threadActivities(thread.id).map((activity) => ({
        at: activity.createdAt,
        body: toPublicActivity(activity),
      })),
    ];
    return entries
      .sort((left, right) => Date.parse(left.at) - Date.parse(right.at))
      .map((entry) => entry.body);
  }

  actor(portalId: number, actorId: string): Record<string, unknown> | undefined {
    const agent = /^A-(\d+)$/.exec(actorId);
    if (agent !== null) {
      const user = this.portals.get(portalId)?.users.find((candidate) => candidate.id === Number(agent[1]));
      if (user === undefined) {
        return undefined;
      }
      const name = [user.firstName, user.lastName].filter(Boolean).join(' ');
      return { type: 'AGENT', id: actorId, name: name === '' ? user.email : name, email: user.email };
    }
    if (/^V-\d+$/.test(actorId)) {
      const participant = this.messages
        .portalMessages(portalId)
        .flatMap((message) => [...message.senders, ...message.recipients])
        .find((candidate) => candidate.actorId === actorId);
      if (participant === undefined) {
        return undefined;
      }
      const identifier = participant.deliveryIdentifier;
      return {
        type: 'VISITOR',
        id: actorId,
        ...(participant.name === undefined ? {} : { name: participant.name }),
        ...(identifier.type === 'HS_EMAIL_ADDRESS' ? { email: identifier.value } : {}),
      };
    }
    return undefined;
  }

  timestamps(thread: Thread): {
    latestMessageTimestamp: string;
    latestMessageSentTimestamp?: string;
    latestMessageReceivedTimestamp?: string;
  } {
    const { latest, incoming, outgoing } = this.messages.latestMessages(thread.id);
    return {
      latestMessageTimestamp: latest?.createdAt ?? thread.createdAt,
      ...(outgoing === undefined ? {} : { latestMessageSentTimestamp: outgoing.createdAt }),
      ...(incoming === undefined ? {} : { latestMessageReceivedTimestamp: incoming.createdAt }),
    };
  }

  toPublicThread(thread: Thread): Record<string, unknown> {
    return {
      id: thread.id,
      createdAt: thread.createdAt,
      status: thread.status,
      ...(thread.closedAt === undefined ? {} : { closedAt: thread.closedAt }),
      originalChannelId: thread.channelId,
      originalChannelAccountId: thread.channelAccountId,
      ...this.timestamps(thread),
      ...(thread.assignedTo === undefined ? {} : { assignedTo: thread.assignedTo }),
      spam: false,
      inboxId: thread.inboxId,
      ...(thread.associatedContactId === undefined
        ? {}
        : { associatedContactId: thread.associatedContactId }),
      archived: thread.archived ?? false,
      ...(thread.associatedTicketId === undefined
        ? {}
        : { threadAssociations: { associatedTicketId: thread.associatedTicketId } }),
    };
  }

  private activityId(): string {
    return String(this.ids.next('thread-activity', 1));
  }
}

export function toPublicInbox(inbox: SandboxInbox): Record<string, unknown> {
  return {
    id: inbox.id,
    name: inbox.name,
    type: inbox.type,
    archived: false,
    createdAt: inbox.createdAt,
    updatedAt: inbox.createdAt,
  };
}

function toPublicActivity(activity: ThreadActivity): Record<string, unknown> {
  return {
    ...activity,
    id: `activity-${activity.id}`,
    archived: false,
    client: { clientType: 'HUBSPOT' },
  };
}
