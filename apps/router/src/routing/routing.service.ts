import { CommitBatch, OutboxWriter, type MessageContext } from '@inbox-bridge/messaging';
import { PerTransaction } from '@inbox-bridge/service-kit';
import {
  RoutingKeys,
  type GatewayAssignmentAppliedV1,
  type GatewayAssignmentFailedV1,
  type GatewayConversationStartedV1,
  type GatewayRosterChangedV1,
  type GatewayThreadAssignmentChangedV1,
  type GatewayThreadDeletedV1,
  type GatewayThreadStatusChangedV1,
} from '@inbox-bridge/shared';
import { Inject, Injectable, Optional } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import type { EntityManager } from 'typeorm';
import { isWithinBusinessHours } from './business-hours.js';
import { ROUTER_CLOCK, type Clock } from './clock.js';
import { capacityOf, defaultRoutingRules, type RoutingRules } from './routing-rules.js';
import { RoutingMetrics } from './routing.metrics.js';
import {
  RoutingRepository,
  type AuditEntry,
  type ChannelAccountRow,
  type ConversationRow,
} from './routing.repository.js';

export interface RoutingSettings {
  /** Delay before a request the gateway reported as retryable is sent again. */
  readonly retryDelayMs: number;
}

export const ROUTING_SETTINGS = Symbol('ROUTING_SETTINGS');

interface CustomerMessage {
  readonly portalId: number;
  readonly hubspotThreadId: string;
  readonly at: Date;
}

type Choice =
  | { readonly kind: 'assign'; readonly userId: string; readonly reason: string }
  | { readonly kind: 'wait'; readonly reason: string }
  | { readonly kind: 'unrouted'; readonly reason: string };

/** How many ranked candidates one query returns; a concurrent claim may take some before this one does. */
const CANDIDATE_BATCH = 8;
const CANDIDATE_ROUNDS = 4;
/**
 * Waiting conversations of one channel account a back-fill step tries before it looks past that account
 * (more than one, since sticky and contact-owner rules let a younger one go where an older one cannot).
 */
const BACKFILL_TRIES_PER_ACCOUNT = 10;

/** A conversation no decision is pending for, not in the queue, without a timer. */
const settled = {
  pendingDecisionId: null,
  waitingSince: null,
  waitingReason: null,
  dueAt: null,
  dueKind: null,
} as const;

const minutesText = (minutes: number): string => `${minutes} ${minutes === 1 ? 'minute' : 'minutes'}`;

const userIdOfActor = (actorId: string | null): string | undefined =>
  actorId !== null && actorId.startsWith('A-') ? actorId.slice(2) : undefined;

/**
 * Routing decisions. Every method runs inside the caller's transaction and first locks the conversation row,
 * so two replicas never decide about one conversation at once; agent slots are taken by a conditional UPDATE,
 * so no cap is ever exceeded. Each decision is audited and its command goes through the outbox in the same
 * transaction.
 */
@Injectable()
export class RoutingService {
  private readonly accountsByTransaction = new PerTransaction<ChannelAccountRow | undefined>();
  private readonly customerMessages = new CommitBatch<CustomerMessage>((manager, messages) =>
    this.recordCustomerMessages(manager, messages),
  );

  constructor(
    private readonly repository: RoutingRepository,
    private readonly outbox: OutboxWriter,
    @Inject(ROUTER_CLOCK) private readonly clock: Clock,
    @Inject(ROUTING_SETTINGS) private readonly settings: RoutingSettings,
    @Optional() private readonly metrics?: RoutingMetrics,
  ) {}

  async conversationStarted(
    manager: EntityManager,
    portalId: number,
    started: GatewayConversationStartedV1,
  ): Promise<void> {
    const created = await this.repository.insertConversation(manager, {
      portalId,
      hubspotThreadId: started.hubspotThreadId,
      channelAccountId: started.channelAccountId,
      conversationKey: started.conversationKey,
      contactId: started.contactId ?? null,
      contactOwnerId: started.contactOwnerId ?? null,
      startedAt: new Date(started.startedAt),
    });
    if (created) {
      // The row this transaction just inserted is already locked by it until COMMIT.
      await this.route(
        manager,
        {
          portalId,
          hubspotThreadId: started.hubspotThreadId,
          channelAccountId: started.channelAccountId,
          conversationKey: started.conversationKey,
          contactOwnerId: started.contactOwnerId ?? null,
          status: 'unrouted',
          assigneeUserId: null,
          countedUserId: null,
          pendingDecisionId: null,
          excludedUserIds: [],
          waitingSince: null,
          waitingReason: null,
          lastAgentReplyAt: null,
          dueAt: null,
          dueKind: null,
          closedFromStatus: null,
          statusChangedAt: null,
        },
        { allowWaiting: true },
      );
      return;
    }
    // Already decided (a redelivery under another message id), or a person assigned it first.
    await this.repository.completeConversation(manager, portalId, started.hubspotThreadId, {
      channelAccountId: started.channelAccountId,
      conversationKey: started.conversationKey,
      contactId: started.contactId ?? null,
      startedAt: new Date(started.startedAt),
    });
  }

  /** A person assigned or unassigned the thread in HubSpot: record it and never override it. */
  async assignmentChanged(
    manager: EntityManager,
    portalId: number,
    change: GatewayThreadAssignmentChangedV1,
  ): Promise<void> {
    if (!change.byAgent) {
      return;
    }
    await this.repository.insertManualPlaceholder(manager, portalId, change.hubspotThreadId);
    const conversation = await this.repository.lockConversation(manager, portalId, change.hubspotThreadId);
    if (conversation === undefined) {
      return;
    }
    const userId = userIdOfActor(change.assignedActorId);
    // Told twice (the gateway's refusal names the person's assignment, then HubSpot's own event repeats it).
    if (conversation.status === 'manual' && conversation.assigneeUserId === (userId ?? null)) {
      return;
    }
    if (conversation.status === 'closed') {
      await this.manualWhileClosed(manager, conversation, change.assignedActorId, userId);
      return;
    }
    let countedUserId = conversation.countedUserId;
    if (countedUserId !== null && countedUserId !== userId) {
      await this.repository.releaseSlot(manager, portalId, countedUserId);
      countedUserId = null;
    }
    if (userId !== undefined && countedUserId !== userId) {
      countedUserId = (await this.repository.forceTakeSlot(manager, portalId, userId)) ? userId : null;
    }
    await this.repository.updateConversation(manager, portalId, change.hubspotThreadId, {
      status: 'manual',
      assigneeUserId: userId ?? null,
      countedUserId,
      ...settled,
    });
    await this.audit(manager, {
      portalId,
      hubspotThreadId: change.hubspotThreadId,
      channelAccountId: conversation.channelAccountId,
      action: 'manual',
      userId: userId ?? null,
      reason:
        change.assignedActorId === null
          ? 'unassigned by a person in HubSpot; the router leaves it alone'
          : `assigned by a person in HubSpot to ${change.assignedActorId}; the router leaves it alone`,
      at: this.clock.now(),
    });
    if (conversation.countedUserId !== null && conversation.countedUserId !== userId) {
      await this.signalBackfill(manager, portalId);
    }
  }

  /** A closed thread counts for nobody: the person's choice is remembered and counts when it reopens. */
  private async manualWhileClosed(
    manager: EntityManager,
    conversation: ConversationRow,
    assignedActorId: string | null,
    userId: string | undefined,
  ): Promise<void> {
    const { portalId, hubspotThreadId } = conversation;
    await this.repository.updateConversation(manager, portalId, hubspotThreadId, {
      assigneeUserId: userId ?? null,
      pendingDecisionId: null,
      ...(conversation.closedFromStatus === null ? {} : { closedFromStatus: 'manual' as const }),
    });
    await this.audit(manager, {
      portalId,
      hubspotThreadId,
      channelAccountId: conversation.channelAccountId,
      action: 'manual',
      userId: userId ?? null,
      reason:
        assignedActorId === null
          ? 'unassigned by a person in HubSpot while the thread is closed; the router leaves it alone'
          : `assigned by a person in HubSpot to ${assignedActorId} while the thread is closed; it counts for them if it reopens`,
      at: this.clock.now(),
    });
  }

  async assignmentApplied(
    manager: EntityManager,
    portalId: number,
    applied: GatewayAssignmentAppliedV1,
  ): Promise<void> {
    const conversation = await this.repository.lockConversation(manager, portalId, applied.hubspotThreadId);
    if (conversation === undefined) {
      return;
    }
    const now = this.clock.now();
    if (
      conversation.status === 'closed' &&
      conversation.closedFromStatus === 'pending' &&
      conversation.pendingDecisionId === applied.decisionId
    ) {
      await this.repository.updateConversation(manager, portalId, applied.hubspotThreadId, {
        closedFromStatus: 'assigned',
        pendingDecisionId: null,
      });
      await this.audit(manager, {
        portalId,
        hubspotThreadId: applied.hubspotThreadId,
        channelAccountId: conversation.channelAccountId,
        action: 'applied',
        decisionId: applied.decisionId,
        userId: applied.userId ?? conversation.assigneeUserId,
        reason: `HubSpot assigned the closed thread at ${applied.appliedAt}; it counts for them if it reopens`,
        at: now,
      });
      return;
    }
    if (conversation.status !== 'pending' || conversation.pendingDecisionId !== applied.decisionId) {
      await this.audit(manager, {
        portalId,
        hubspotThreadId: applied.hubspotThreadId,
        channelAccountId: conversation.channelAccountId,
        action: 'stale',
        decisionId: applied.decisionId,
        userId: applied.userId ?? null,
        reason: `the gateway applied decision ${applied.decisionId}, which is no longer current (${conversation.status})`,
        at: now,
      });
      return;
    }
    const rules = await this.rulesOf(manager, conversation);
    const noReplyDue =
      rules.noReplyMinutes === null ? null : new Date(now.getTime() + rules.noReplyMinutes * 60_000);
    await this.repository.updateConversation(manager, portalId, applied.hubspotThreadId, {
      status: 'assigned',
      pendingDecisionId: null,
      dueAt: noReplyDue,
      dueKind: noReplyDue === null ? null : 'no-reply',
    });
    await this.audit(manager, {
      portalId,
      hubspotThreadId: applied.hubspotThreadId,
      channelAccountId: conversation.channelAccountId,
      action: 'applied',
      decisionId: applied.decisionId,
      userId: applied.userId ?? conversation.assigneeUserId,
      reason: `HubSpot assigned the thread at ${applied.appliedAt}`,
      at: now,
    });
  }

  async assignmentFailed(
    manager: EntityManager,
    portalId: number,
    failed: GatewayAssignmentFailedV1,
  ): Promise<void> {
    const conversation = await this.repository.lockConversation(manager, portalId, failed.hubspotThreadId);
    if (
      conversation?.status === 'closed' &&
      conversation.closedFromStatus === 'pending' &&
      conversation.pendingDecisionId === failed.decisionId
    ) {
      await this.failedWhileClosed(manager, conversation, failed);
      return;
    }
    if (
      conversation === undefined ||
      conversation.status !== 'pending' ||
      conversation.pendingDecisionId !== failed.decisionId
    ) {
      return;
    }
    const now = this.clock.now();
    const base = {
      portalId,
      hubspotThreadId: failed.hubspotThreadId,
      channelAccountId: conversation.channelAccountId,
      decisionId: failed.decisionId,
      userId: conversation.assigneeUserId,
      at: now,
    };
    if (failed.retryable) {
      await this.repository.updateConversation(manager, portalId, failed.hubspotThreadId, {
        dueAt: new Date(now.getTime() + this.settings.retryDelayMs),
        dueKind: 'retry',
      });
      await this.audit(manager, {
        ...base,
        action: 'failed',
        reason: `the gateway could not assign it yet (${failed.reason}); retrying in ${this.settings.retryDelayMs} ms`,
      });
      return;
    }
    await this.audit(manager, {
      ...base,
      action: 'failed',
      reason: `the gateway could not assign it (${failed.reason}); choosing someone else`,
    });
    const released = await this.releaseAndExclude(manager, conversation);
    await this.route(manager, released, { allowWaiting: true });
    await this.signalBackfill(manager, portalId);
  }

  /** Nobody has the closed thread now: a reopen routes it again (without the refused user, unless retryable). */
  private async failedWhileClosed(
    manager: EntityManager,
    conversation: ConversationRow,
    failed: GatewayAssignmentFailedV1,
  ): Promise<void> {
    const refused = conversation.assigneeUserId;
    const excludedUserIds =
      failed.retryable || refused === null || conversation.excludedUserIds.includes(refused)
        ? conversation.excludedUserIds
        : [...conversation.excludedUserIds, refused];
    await this.repository.updateConversation(manager, conversation.portalId, conversation.hubspotThreadId, {
      closedFromStatus: 'unrouted',
      assigneeUserId: null,
      pendingDecisionId: null,
      excludedUserIds,
    });
    await this.audit(manager, {
      portalId: conversation.portalId,
      hubspotThreadId: conversation.hubspotThreadId,
      channelAccountId: conversation.channelAccountId,
      action: 'failed',
      decisionId: failed.decisionId,
      userId: refused,
      reason: `the gateway could not assign the closed thread (${failed.reason}); it is routed again if it reopens`,
      at: this.clock.now(),
    });
  }

  /** A rep replied: they handled this customer (sticky), and the no-reply timer stops. */
  async agentReplied(
    manager: EntityManager,
    portalId: number,
    reply: {
      hubspotThreadId: string;
      channelAccountId: string;
      conversationKey: string;
      senderActorId?: string | undefined;
    },
  ): Promise<void> {
    const userId = userIdOfActor(reply.senderActorId ?? null);
    if (userId === undefined) {
      return;
    }
    const now = this.clock.now();
    await this.repository.recordHandler(manager, {
      portalId,
      channelAccountId: reply.channelAccountId,
      conversationKey: reply.conversationKey,
      userId,
      at: now,
    });
    const conversation = await this.repository.lockConversation(manager, portalId, reply.hubspotThreadId);
    if (conversation === undefined) {
      return;
    }
    await this.repository.updateConversation(manager, portalId, reply.hubspotThreadId, {
      lastAgentReplyAt: now,
      ...(conversation.dueKind === 'no-reply' ? { dueAt: null, dueKind: null } : {}),
    });
  }

  /** A customer wrote again after the agent's last reply: the no-reply timer starts again. */
  /**
   * The customer wrote: when, and the no-reply timer starts again if an agent had answered. Written with the other
   * customer messages of the transaction (a batch) by one statement just before it commits: nothing else the router
   * does in a batch reads it.
   */
  customerMessaged(
    context: Pick<MessageContext, 'manager' | 'beforeCommit'>,
    portalId: number,
    hubspotThreadId: string,
  ): void {
    this.customerMessages.add(context, { portalId, hubspotThreadId, at: this.clock.now() });
  }

  private async recordCustomerMessages(
    manager: EntityManager,
    messages: readonly CustomerMessage[],
  ): Promise<void> {
    const latest = new Map<string, CustomerMessage>();
    for (const message of messages) {
      latest.set(`${message.portalId}:${message.hubspotThreadId}`, message);
    }
    const restartable = await this.repository.recordCustomerMessages(manager, [...latest.values()]);
    for (const conversation of restartable) {
      const rules = await this.rulesOf(manager, conversation);
      const at = latest.get(`${conversation.portalId}:${conversation.hubspotThreadId}`)?.at;
      if (rules.noReplyMinutes === null || at === undefined) {
        continue;
      }
      await this.repository.updateConversation(manager, conversation.portalId, conversation.hubspotThreadId, {
        dueAt: new Date(at.getTime() + rules.noReplyMinutes * 60_000),
        dueKind: 'no-reply',
      });
    }
  }

  /**
   * HubSpot closed or reopened the thread. A thread the router never saw start is not one of the channel's
   * (the gateway announces every thread of the portal) and is ignored; so is a change older than the last
   * one applied (HubSpot's `occurredAt`), and one that changes nothing (already closed / already open).
   */
  async threadStatusChanged(
    manager: EntityManager,
    portalId: number,
    change: GatewayThreadStatusChangedV1,
  ): Promise<void> {
    const conversation = await this.repository.lockConversation(manager, portalId, change.hubspotThreadId);
    if (conversation === undefined) {
      return;
    }
    const occurredAt = new Date(change.occurredAt);
    if (conversation.statusChangedAt !== null && occurredAt < conversation.statusChangedAt) {
      return;
    }
    if (change.status === 'CLOSED') {
      await this.threadClosed(manager, conversation, occurredAt);
    } else {
      await this.threadReopened(manager, conversation, occurredAt);
    }
  }

  /**
   * HubSpot deleted the thread (a person, or a GDPR privacy deletion): the assignee's slot is released as on a
   * close (the oldest waiting conversation gets it), and the conversation and its audit trail are deleted, so
   * nothing is left of the thread. A privacy deletion also forgets the customer's last handler (sticky
   * assignment). A late answer of the gateway to a pending decision then finds no conversation and is ignored.
   */
  async threadDeleted(
    manager: EntityManager,
    portalId: number,
    deleted: GatewayThreadDeletedV1,
  ): Promise<void> {
    const conversation = await this.repository.lockConversation(manager, portalId, deleted.hubspotThreadId);
    const counted = conversation?.countedUserId ?? null;
    if (counted !== null) {
      await this.repository.releaseSlot(manager, portalId, counted);
    }
    const customers = [...deleted.conversations];
    const channelAccountId = conversation?.channelAccountId ?? null;
    const conversationKey = conversation?.conversationKey ?? null;
    if (channelAccountId !== null && conversationKey !== null) {
      customers.push({ channelAccountId, conversationKey });
    }
    await this.repository.forgetThread(
      manager,
      portalId,
      deleted.hubspotThreadId,
      deleted.privacy ? customers : [],
    );
    if (counted !== null) {
      await this.signalBackfill(manager, portalId);
    }
  }

  /** Out of the queue, timers off, the assignee's slot free for the oldest waiting conversation. */
  private async threadClosed(
    manager: EntityManager,
    conversation: ConversationRow,
    occurredAt: Date,
  ): Promise<void> {
    const { portalId, hubspotThreadId } = conversation;
    if (conversation.status === 'closed') {
      await this.repository.updateConversation(manager, portalId, hubspotThreadId, {
        statusChangedAt: occurredAt,
      });
      return;
    }
    if (conversation.countedUserId !== null) {
      await this.repository.releaseSlot(manager, portalId, conversation.countedUserId);
    }
    await this.repository.updateConversation(manager, portalId, hubspotThreadId, {
      status: 'closed',
      closedFromStatus: conversation.status,
      statusChangedAt: occurredAt,
      countedUserId: null,
      ...settled,
      // The gateway may still apply or refuse it; its answer decides what a reopen restores.
      pendingDecisionId: conversation.pendingDecisionId,
    });
    const effects = [
      conversation.countedUserId === null ? undefined : `user ${conversation.countedUserId}'s slot is free`,
      conversation.status === 'waiting' ? 'it left the queue' : undefined,
      conversation.status === 'pending'
        ? `decision ${conversation.pendingDecisionId ?? '?'} counts for nobody until it reopens`
        : undefined,
    ].filter((effect) => effect !== undefined);
    await this.audit(manager, {
      portalId,
      hubspotThreadId,
      channelAccountId: conversation.channelAccountId,
      action: 'closed',
      userId: conversation.assigneeUserId,
      reason: `the thread was closed in HubSpot at ${occurredAt.toISOString()} (was ${conversation.status})${
        effects.length === 0 ? '' : `; ${effects.join('; ')}`
      }`,
      at: this.clock.now(),
    });
    if (conversation.countedUserId !== null) {
      await this.signalBackfill(manager, portalId);
    }
  }

  /**
   * An assigned thread counts again for its assignee (even above the cap: HubSpot still shows it as theirs,
   * and a person's choice stays manual); one that had nobody is routed again like a new conversation.
   */
  private async threadReopened(
    manager: EntityManager,
    conversation: ConversationRow,
    occurredAt: Date,
  ): Promise<void> {
    const { portalId, hubspotThreadId } = conversation;
    const previous = conversation.closedFromStatus;
    if (conversation.status !== 'closed' || previous === null) {
      await this.repository.updateConversation(manager, portalId, hubspotThreadId, {
        statusChangedAt: occurredAt,
      });
      return;
    }
    const now = this.clock.now();
    const base = {
      portalId,
      hubspotThreadId,
      channelAccountId: conversation.channelAccountId,
      action: 'reopened' as const,
      at: now,
    };
    const reopened = `the thread was reopened in HubSpot at ${occurredAt.toISOString()}`;
    const assignee = conversation.assigneeUserId;
    if (assignee !== null && previous !== 'waiting' && previous !== 'unrouted') {
      const counted = await this.repository.forceTakeSlot(manager, portalId, assignee);
      const manual = previous === 'manual';
      const rules = previous === 'assigned' ? await this.rulesOf(manager, conversation) : undefined;
      const noReplyMinutes = rules?.noReplyMinutes ?? null;
      const noReplyDue = noReplyMinutes === null ? null : new Date(now.getTime() + noReplyMinutes * 60_000);
      await this.repository.updateConversation(manager, portalId, hubspotThreadId, {
        status: previous === 'pending' || manual ? previous : 'assigned',
        closedFromStatus: null,
        statusChangedAt: occurredAt,
        countedUserId: counted ? assignee : null,
        ...settled,
        pendingDecisionId: previous === 'pending' ? conversation.pendingDecisionId : null,
        dueAt: noReplyDue,
        dueKind: noReplyDue === null ? null : 'no-reply',
      });
      await this.audit(manager, {
        ...base,
        userId: assignee,
        reason: `${reopened}; it counts again for user ${assignee}${manual ? ' (assigned by a person)' : ''}${
          noReplyMinutes === null ? '' : `; no-reply timer ${minutesText(noReplyMinutes)}`
        }`,
      });
      return;
    }
    if (previous === 'manual') {
      await this.repository.updateConversation(manager, portalId, hubspotThreadId, {
        status: 'manual',
        closedFromStatus: null,
        statusChangedAt: occurredAt,
      });
      await this.audit(manager, {
        ...base,
        reason: `${reopened}; a person left it unassigned, the router leaves it alone`,
      });
      return;
    }
    const open: ConversationRow = {
      ...conversation,
      status: 'unrouted',
      assigneeUserId: null,
      countedUserId: null,
      closedFromStatus: null,
      statusChangedAt: occurredAt,
      ...settled,
    };
    await this.repository.updateConversation(manager, portalId, hubspotThreadId, {
      status: 'unrouted',
      closedFromStatus: null,
      statusChangedAt: occurredAt,
    });
    await this.audit(manager, { ...base, reason: `${reopened}; nobody had it, routing it again` });
    await this.route(manager, open, { allowWaiting: true });
  }

  async rosterChanged(
    manager: EntityManager,
    portalId: number,
    roster: GatewayRosterChangedV1,
  ): Promise<void> {
    await this.repository.applyRoster(manager, portalId, roster);
    await this.signalBackfill(manager, portalId);
  }

  async channelAccountPurged(
    manager: EntityManager,
    portalId: number,
    channelAccountId: string,
  ): Promise<void> {
    const open = await this.repository.lockOpenOfChannelAccount(manager, portalId, channelAccountId);
    const now = this.clock.now();
    for (const conversation of open) {
      if (conversation.countedUserId !== null) {
        await this.repository.releaseSlot(manager, portalId, conversation.countedUserId);
      }
      await this.repository.updateConversation(manager, portalId, conversation.hubspotThreadId, {
        status: 'closed',
        countedUserId: null,
        ...settled,
      });
      await this.audit(manager, {
        portalId,
        hubspotThreadId: conversation.hubspotThreadId,
        channelAccountId,
        action: 'closed',
        reason: 'the channel account was deleted in HubSpot',
        at: now,
      });
    }
    await this.repository.closeForGoodOfChannelAccount(manager, portalId, channelAccountId);
    await this.repository.deleteChannelAccount(manager, portalId, channelAccountId);
    if (open.some((conversation) => conversation.countedUserId !== null)) {
      await this.signalBackfill(manager, portalId);
    }
  }

  /**
   * Assigns the oldest waiting conversation of the portal that someone can take now (an agent freed a slot or
   * came back, the rules changed, business hours opened). Each candidate is tried under a savepoint: one that
   * still cannot be placed is rolled back, which also releases its row lock, so a conversation nobody can take
   * never blocks a younger one of another pool, and every statement sees the latest committed slots. False
   * when none of the `limit` oldest could be placed.
   */
  async backfillOldest(manager: EntityManager, portalId: number, limit: number): Promise<boolean> {
    const tried: string[] = [];
    const failuresPerAccount = new Map<string, number>();
    const fullAccounts: string[] = [];
    while (tried.length < limit) {
      await manager.query('SAVEPOINT backfill_candidate');
      const [oldest] = await this.repository.lockOldestWaiting(manager, portalId, tried, fullAccounts);
      if (oldest === undefined) {
        await manager.query('RELEASE SAVEPOINT backfill_candidate');
        return false;
      }
      if ((await this.route(manager, oldest, { allowWaiting: true })) !== 'wait') {
        await manager.query('RELEASE SAVEPOINT backfill_candidate');
        return true;
      }
      await manager.query('ROLLBACK TO SAVEPOINT backfill_candidate');
      tried.push(oldest.hubspotThreadId);
      // A long queue of one full channel account must not hide the younger conversations of another.
      const account = oldest.channelAccountId ?? '';
      const failures = (failuresPerAccount.get(account) ?? 0) + 1;
      failuresPerAccount.set(account, failures);
      if (failures === BACKFILL_TRIES_PER_ACCOUNT) {
        fullAccounts.push(account);
      }
    }
    return false;
  }

  /**
   * Wakes every replica's back-fill after this transaction commits (PostgreSQL NOTIFY is delivered at
   * COMMIT), so the sweep sees the freed slot. Back-filling inside this transaction instead would hold the
   * waiting rows while other replicas skip past them, breaking oldest-first.
   */
  private async signalBackfill(manager: EntityManager, portalId: number): Promise<void> {
    await this.repository.notifyBackfill(manager, portalId);
  }

  /** Handles one conversation whose timer is due (locked by the caller through `lockDue`). */
  async timerDue(manager: EntityManager, conversation: ConversationRow): Promise<void> {
    const now = this.clock.now();
    const { portalId, hubspotThreadId } = conversation;
    if (
      conversation.dueKind === 'retry' &&
      conversation.status === 'pending' &&
      conversation.assigneeUserId
    ) {
      const decisionId = randomUUID();
      const reason = `retrying the assignment to user ${conversation.assigneeUserId}`;
      await this.repository.updateConversation(manager, portalId, hubspotThreadId, {
        pendingDecisionId: decisionId,
        dueAt: null,
        dueKind: null,
      });
      await this.requestAssignment(
        manager,
        conversation,
        conversation.assigneeUserId,
        decisionId,
        reason,
        'retry',
      );
      return;
    }
    if (conversation.dueKind === 'no-reply' && conversation.status === 'assigned') {
      const rules = await this.rulesOf(manager, conversation);
      const previous = conversation.assigneeUserId;
      const released = await this.releaseAndExclude(manager, conversation);
      const note = `user ${previous ?? '?'} did not reply within ${rules.noReplyMinutes === null ? '? minutes' : minutesText(rules.noReplyMinutes)}`;
      await this.audit(manager, {
        portalId,
        hubspotThreadId,
        channelAccountId: conversation.channelAccountId,
        action: 'no-reply',
        userId: previous,
        reason: `${note}; reassigning by the same rule`,
        at: now,
      });
      const outcome = await this.route(manager, released, { allowWaiting: false, note });
      if (outcome === 'assign' && conversation.countedUserId !== null) {
        await this.signalBackfill(manager, portalId);
      }
      if (outcome !== 'assign' && previous !== null) {
        const kept = await this.repository.forceTakeSlot(manager, portalId, previous);
        await this.repository.updateConversation(manager, portalId, hubspotThreadId, {
          status: 'assigned',
          assigneeUserId: previous,
          countedUserId: kept ? previous : null,
          excludedUserIds: conversation.excludedUserIds,
          dueAt: null,
          dueKind: null,
        });
        await this.audit(manager, {
          portalId,
          hubspotThreadId,
          channelAccountId: conversation.channelAccountId,
          action: 'kept',
          userId: previous,
          reason: `${note}, but nobody else can take it now: it stays with user ${previous}`,
          at: now,
        });
      }
      return;
    }
    await this.repository.updateConversation(manager, portalId, hubspotThreadId, {
      dueAt: null,
      dueKind: null,
    });
  }

  private async audit(manager: EntityManager, entry: AuditEntry): Promise<void> {
    await this.repository.audit(manager, entry);
    this.metrics?.decided(entry.action);
  }

  private async releaseAndExclude(
    manager: EntityManager,
    conversation: ConversationRow,
  ): Promise<ConversationRow> {
    if (conversation.countedUserId !== null) {
      await this.repository.releaseSlot(manager, conversation.portalId, conversation.countedUserId);
    }
    const excludedUserIds =
      conversation.assigneeUserId === null ||
      conversation.excludedUserIds.includes(conversation.assigneeUserId)
        ? conversation.excludedUserIds
        : [...conversation.excludedUserIds, conversation.assigneeUserId];
    await this.repository.updateConversation(manager, conversation.portalId, conversation.hubspotThreadId, {
      countedUserId: null,
      pendingDecisionId: null,
      excludedUserIds,
      dueAt: null,
      dueKind: null,
    });
    return {
      ...conversation,
      countedUserId: null,
      pendingDecisionId: null,
      excludedUserIds,
      dueAt: null,
      dueKind: null,
    };
  }

  /**
   * The account as its transaction first read it: the conversations of one consumer batch (one transaction, in
   * which no account changes) share one read per account.
   */
  private channelAccountOf(
    manager: EntityManager,
    portalId: number,
    channelAccountId: string,
  ): Promise<ChannelAccountRow | undefined> {
    return this.accountsByTransaction.get(manager, `${portalId}:${channelAccountId}`, () =>
      this.repository.findChannelAccount(manager, portalId, channelAccountId),
    );
  }

  private async rulesOf(manager: EntityManager, conversation: ConversationRow): Promise<RoutingRules> {
    if (conversation.channelAccountId === null) {
      return defaultRoutingRules;
    }
    const account = await this.channelAccountOf(
      manager,
      conversation.portalId,
      conversation.channelAccountId,
    );
    return account?.rules ?? defaultRoutingRules;
  }

  /**
   * Decides for a locked conversation and records the outcome. With `allowWaiting: false` (no-reply
   * reassignment) a conversation nobody can take is left for the caller instead of being queued.
   */
  private async route(
    manager: EntityManager,
    conversation: ConversationRow,
    options: { allowWaiting: boolean; note?: string },
  ): Promise<Choice['kind']> {
    const choice = await this.choose(manager, conversation);
    const now = this.clock.now();
    const { portalId, hubspotThreadId, channelAccountId } = conversation;
    const reason = options.note === undefined ? choice.reason : `${options.note}; ${choice.reason}`;
    switch (choice.kind) {
      case 'assign': {
        const decisionId = randomUUID();
        await this.repository.updateConversation(manager, portalId, hubspotThreadId, {
          status: 'pending',
          assigneeUserId: choice.userId,
          countedUserId: choice.userId,
          pendingDecisionId: decisionId,
          waitingSince: null,
          waitingReason: null,
          dueAt: null,
          dueKind: null,
        });
        await this.requestAssignment(manager, conversation, choice.userId, decisionId, reason, 'assign');
        return 'assign';
      }
      case 'wait': {
        if (!options.allowWaiting) {
          return 'wait';
        }
        const alreadyWaiting = conversation.status === 'waiting' && conversation.waitingReason === reason;
        await this.repository.updateConversation(manager, portalId, hubspotThreadId, {
          status: 'waiting',
          assigneeUserId: null,
          waitingSince: conversation.waitingSince ?? now,
          waitingReason: reason,
        });
        if (!alreadyWaiting) {
          await this.audit(manager, {
            portalId,
            hubspotThreadId,
            channelAccountId,
            action: 'queue',
            reason: `waiting: ${reason}`,
            at: now,
          });
        }
        return 'wait';
      }
      case 'unrouted': {
        if (!options.allowWaiting) {
          return 'unrouted';
        }
        await this.repository.updateConversation(manager, portalId, hubspotThreadId, {
          status: 'unrouted',
          waitingSince: null,
          waitingReason: null,
        });
        await this.audit(manager, {
          portalId,
          hubspotThreadId,
          channelAccountId,
          action: 'unrouted',
          reason: `left unassigned: ${reason}`,
          at: now,
        });
        return 'unrouted';
      }
    }
  }

  private async requestAssignment(
    manager: EntityManager,
    conversation: ConversationRow,
    userId: string,
    decisionId: string,
    reason: string,
    action: 'assign' | 'retry',
  ): Promise<void> {
    const { portalId, hubspotThreadId, channelAccountId } = conversation;
    await this.audit(manager, {
      portalId,
      hubspotThreadId,
      channelAccountId,
      action,
      userId,
      decisionId,
      reason,
      at: this.clock.now(),
    });
    await this.outbox.publish(
      manager,
      RoutingKeys.RouterAssignmentRequestedV1,
      {
        hubspotThreadId,
        channelAccountId: channelAccountId ?? '',
        assignee: { type: 'user', userId },
        reason: reason.slice(0, 1_024),
        decisionId,
      },
      { portalId },
    );
  }

  /** The rule evaluation: business hours, sticky, contact owner, then the pool; first agent with a slot wins. */
  private async choose(manager: EntityManager, conversation: ConversationRow): Promise<Choice> {
    const { portalId } = conversation;
    if (conversation.channelAccountId === null) {
      return { kind: 'unrouted', reason: 'the channel account of this thread is unknown' };
    }
    const account = await this.channelAccountOf(manager, portalId, conversation.channelAccountId);
    if (account === undefined) {
      return {
        kind: 'unrouted',
        reason: `channel account ${conversation.channelAccountId} is not connected`,
      };
    }
    if (!account.active || !account.authorized) {
      return { kind: 'unrouted', reason: `channel account ${account.channelAccountId} is switched off` };
    }
    const rules = account.rules ?? defaultRoutingRules;
    if (rules.mode === 'off') {
      return { kind: 'unrouted', reason: 'routing is off for this channel account' };
    }
    const now = this.clock.now();
    const excluded = conversation.excludedUserIds;
    const take = (userId: string) =>
      this.repository.tryTakeSlot(
        manager,
        portalId,
        userId,
        capacityOf(rules, userId),
        rules.respectAvailability,
        now,
      );

    if (rules.businessHours !== null && !isWithinBusinessHours(rules.businessHours, now)) {
      const outside = `outside business hours (${rules.businessHours.timeZone})`;
      const afterHours = rules.businessHours.outsideHours;
      if (afterHours.action === 'wait') {
        return { kind: 'wait', reason: outside };
      }
      const picked = await this.pickFromPool(manager, rules, {
        userIds: [],
        teamIds: [afterHours.teamId],
        excluded,
        portalId,
      });
      return picked === undefined
        ? { kind: 'wait', reason: `${outside}: nobody in after-hours team ${afterHours.teamId} can take it` }
        : {
            kind: 'assign',
            userId: picked.userId,
            reason: `${outside}: ${picked.reason} in after-hours team ${afterHours.teamId}`,
          };
    }

    const notes: string[] = [];
    if (rules.sticky && conversation.conversationKey !== null) {
      const last = await this.repository.lastHandler(
        manager,
        portalId,
        account.channelAccountId,
        conversation.conversationKey,
      );
      if (last !== undefined && !excluded.includes(last)) {
        if (await take(last)) {
          return {
            kind: 'assign',
            userId: last,
            reason: `sticky: returning customer goes back to user ${last}, who handled them last`,
          };
        }
        notes.push(`last handler ${last} is unavailable or at capacity`);
      }
    }

    if (rules.mode === 'contact-owner') {
      const ownerId = conversation.contactOwnerId;
      if (ownerId === null) {
        notes.push('the contact has no owner');
      } else {
        const owner = await this.repository.userOfOwner(manager, portalId, ownerId);
        if (owner === undefined) {
          notes.push(`owner ${ownerId} has no seat`);
        } else if (excluded.includes(owner)) {
          notes.push(`owner ${ownerId} (user ${owner}) already had it`);
        } else if (await take(owner)) {
          return { kind: 'assign', userId: owner, reason: `contact owner ${ownerId} (user ${owner})` };
        } else {
          notes.push(`owner ${ownerId} (user ${owner}) is unavailable or at capacity`);
        }
      }
    }

    const picked = await this.pickFromPool(manager, rules, {
      userIds: rules.targets.userIds,
      teamIds: rules.targets.teamIds,
      excluded,
      portalId,
    });
    const prefix = notes.length === 0 ? '' : `${notes.join('; ')}; fallback: `;
    if (picked !== undefined) {
      return { kind: 'assign', userId: picked.userId, reason: `${prefix}${picked.reason}` };
    }
    return { kind: 'wait', reason: `${prefix}no available agent under capacity` };
  }

  /**
   * The first agent of the pool, in the rule's order, who can take one more conversation. First in one
   * statement that skips agents a concurrent decision holds (so concurrent decisions spread out); when all
   * are held, it waits for them one by one, so a conversation is never queued while someone has room.
   */
  private async pickFromPool(
    manager: EntityManager,
    rules: RoutingRules,
    pool: {
      userIds: readonly string[];
      teamIds: readonly string[];
      excluded: readonly string[];
      portalId: number;
    },
  ): Promise<{ userId: string; reason: string } | undefined> {
    if (pool.userIds.length === 0 && pool.teamIds.length === 0) {
      return undefined;
    }
    const { portalId } = pool;
    const now = this.clock.now();
    const reason = rules.distribution === 'round-robin' ? 'round robin' : 'fewest open conversations';
    const tried = new Set(pool.excluded);
    const query = {
      userIds: pool.userIds,
      teamIds: pool.teamIds,
      respectAvailability: rules.respectAvailability,
      perUserCaps: rules.capacity.perUser,
      defaultCap: rules.capacity.maxOpenPerAgent,
      order: rules.distribution,
    };
    const free = await this.repository.claimFirstFree(
      manager,
      portalId,
      { ...query, excluded: [...tried], limit: 1 },
      now,
    );
    if (free !== undefined) {
      return { userId: free, reason };
    }
    for (let round = 0; round < CANDIDATE_ROUNDS; round += 1) {
      const candidates = await this.repository.candidates(manager, portalId, {
        ...query,
        excluded: [...tried],
        limit: CANDIDATE_BATCH,
      });
      if (candidates.length === 0) {
        return undefined;
      }
      for (const userId of candidates) {
        tried.add(userId);
        const cap = capacityOf(rules, userId);
        if (
          await this.repository.tryTakeSlot(manager, portalId, userId, cap, rules.respectAvailability, now)
        ) {
          return { userId, reason };
        }
      }
    }
    return undefined;
  }
}
