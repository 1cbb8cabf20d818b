import type { OutboxWriter } from '@inbox-bridge/messaging';
import { describe, expect, it, jest } from '@jest/globals';
import type { EntityManager } from 'typeorm';
import type { Clock } from '../src/routing/clock.js';
import { routingRulesSchema } from '../src/routing/routing-rules.js';
import type {
  ChannelAccountRow,
  ConversationRow,
  RoutingRepository,
} from '../src/routing/routing.repository.js';
import { RoutingService } from '../src/routing/routing.service.js';

const manager = Object.create(null) as EntityManager;
const DECISION = '1b9d6bcd-bbfd-4b2d-9b5d-ab8dfbbd4bed';

class TestClock implements Clock {
  constructor(private current: Date) {}
  now(): Date {
    return new Date(this.current.getTime());
  }
  advance(ms: number): void {
    this.current = new Date(this.current.getTime() + ms);
  }
}

const conversation = (overrides: Partial<ConversationRow> = {}): ConversationRow => ({
  portalId: 1,
  hubspotThreadId: 't1',
  channelAccountId: 'ca',
  conversationKey: 'k',
  contactOwnerId: null,
  status: 'pending',
  assigneeUserId: 'u1',
  countedUserId: 'u1',
  pendingDecisionId: DECISION,
  excludedUserIds: [],
  waitingSince: null,
  waitingReason: null,
  lastAgentReplyAt: null,
  dueAt: null,
  dueKind: null,
  closedFromStatus: null,
  statusChangedAt: null,
  ...overrides,
});

/** The service over a repository fake that holds one conversation and records every update. */
function serviceWith(current: ConversationRow, noReplyMinutes: number | null) {
  const clock = new TestClock(new Date('2026-11-23T10:00:00Z'));
  const updates: Record<string, unknown>[] = [];
  const account: ChannelAccountRow = {
    portalId: 1,
    channelAccountId: 'ca',
    name: 'Bot',
    provider: 'telegram',
    inboxId: '9',
    active: true,
    authorized: true,
    rules: routingRulesSchema.parse({
      mode: 'users-and-teams',
      targets: { userIds: ['u1'] },
      noReplyMinutes,
    }),
    rulesUpdatedAt: null,
  };
  const repository = {
    lockConversation: jest.fn(() => Promise.resolve(current)),
    // The statement's own rule (assigned, no timer, an agent replied first) is checked against PostgreSQL in
    // routing-rules.int-spec; here the conversation is one it returns.
    recordCustomerMessages: jest.fn(() => Promise.resolve([current])),
    findChannelAccount: jest.fn(() => Promise.resolve(account)),
    updateConversation: jest.fn((_m: unknown, _p: unknown, _t: unknown, patch: Record<string, unknown>) => {
      updates.push(patch);
      return Promise.resolve();
    }),
    audit: jest.fn(() => Promise.resolve()),
    recordHandler: jest.fn(() => Promise.resolve()),
  } as unknown as RoutingRepository;
  const outbox = { publish: jest.fn(() => Promise.resolve()) } as unknown as OutboxWriter;
  const service = new RoutingService(repository, outbox, clock, { retryDelayMs: 30_000 });
  return { service, clock, updates };
}

describe('RoutingService timers (controlled clock)', () => {
  it('starts the no-reply timer N minutes after the gateway applied the assignment', async () => {
    const { service, clock, updates } = serviceWith(conversation(), 15);
    clock.advance(2_000);
    await service.assignmentApplied(manager, 1, {
      decisionId: DECISION,
      hubspotThreadId: 't1',
      userId: 'u1',
      appliedAt: '2026-11-23T10:00:01Z',
    });
    expect(updates).toEqual([
      {
        status: 'assigned',
        pendingDecisionId: null,
        dueAt: new Date('2026-11-23T10:15:02Z'),
        dueKind: 'no-reply',
      },
    ]);
  });

  it('starts no timer when the rule has no no-reply minutes, and ignores a stale decision', async () => {
    const { service, updates } = serviceWith(conversation(), null);
    await service.assignmentApplied(manager, 1, {
      decisionId: DECISION,
      hubspotThreadId: 't1',
      appliedAt: '2026-11-23T10:00:01Z',
    });
    expect(updates).toEqual([{ status: 'assigned', pendingDecisionId: null, dueAt: null, dueKind: null }]);
    const stale = serviceWith(conversation(), 15);
    await stale.service.assignmentApplied(manager, 1, {
      decisionId: '00000000-0000-4000-8000-000000000000',
      hubspotThreadId: 't1',
      appliedAt: '2026-11-23T10:00:01Z',
    });
    expect(stale.updates).toEqual([]);
  });

  it('retries a retryable failure after the configured delay, keeping the agent', async () => {
    const { service, updates } = serviceWith(conversation(), null);
    await service.assignmentFailed(manager, 1, {
      decisionId: DECISION,
      hubspotThreadId: 't1',
      reason: 'HubSpot answered 503',
      retryable: true,
    });
    expect(updates).toEqual([{ dueAt: new Date('2026-11-23T10:00:30Z'), dueKind: 'retry' }]);
  });

  it('a reply stops the timer; a later customer message starts it again from that moment', async () => {
    const assigned = conversation({
      status: 'assigned',
      pendingDecisionId: null,
      dueAt: new Date('2026-11-23T10:15:00Z'),
      dueKind: 'no-reply',
    });
    const { service, clock, updates } = serviceWith(assigned, 15);
    await service.agentReplied(manager, 1, {
      hubspotThreadId: 't1',
      channelAccountId: 'ca',
      conversationKey: 'k',
      senderActorId: 'A-u1',
    });
    expect(updates.at(-1)).toEqual({
      lastAgentReplyAt: new Date('2026-11-23T10:00:00Z'),
      dueAt: null,
      dueKind: null,
    });

    const replied = serviceWith(
      { ...assigned, dueAt: null, dueKind: null, lastAgentReplyAt: clock.now() },
      15,
    );
    replied.clock.advance(60_000);
    const beforeCommit: (() => Promise<void>)[] = [];
    replied.service.customerMessaged({ manager, beforeCommit: (hook) => beforeCommit.push(hook) }, 1, 't1');
    replied.clock.advance(5_000);
    expect(replied.updates).toEqual([]);
    for (const hook of beforeCommit) {
      await hook();
    }
    // From the message, not from the commit.
    expect(replied.updates).toEqual([{ dueAt: new Date('2026-11-23T10:16:00Z'), dueKind: 'no-reply' }]);
  });
});
