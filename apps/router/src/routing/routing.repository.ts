import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import { AgentLockOrder, inAgentLockOrder } from './agent-lock-order.js';
import { defaultRoutingRules, routingRulesSchema, type RoutingRules } from './routing-rules.js';

const NO_CAP = 2_147_483_647;

export type ConversationStatus =
  /** Waiting in the queue for an agent (capacity, availability or business hours). */
  | 'waiting'
  /** An assignment was requested from the gateway; the agent's slot is taken. */
  | 'pending'
  /** The gateway applied the router's assignment. */
  | 'assigned'
  /** A person assigned or unassigned it in HubSpot: the router never touches it again. */
  | 'manual'
  /** Left unassigned: routing is off or the channel account is inactive. */
  | 'unrouted'
  /** Its HubSpot thread was closed (`closedFromStatus` set), or its channel account was deleted (null). */
  | 'closed';

export interface ConversationRow {
  readonly portalId: number;
  readonly hubspotThreadId: string;
  readonly channelAccountId: string | null;
  readonly conversationKey: string | null;
  readonly contactOwnerId: string | null;
  readonly status: ConversationStatus;
  readonly assigneeUserId: string | null;
  /** The agent whose open-conversation count includes this conversation. */
  readonly countedUserId: string | null;
  readonly pendingDecisionId: string | null;
  readonly excludedUserIds: readonly string[];
  readonly waitingSince: Date | null;
  readonly waitingReason: string | null;
  readonly lastAgentReplyAt: Date | null;
  readonly dueAt: Date | null;
  readonly dueKind: 'no-reply' | 'retry' | null;
  /** The status before HubSpot closed the thread; a reopen restores it. */
  readonly closedFromStatus: ConversationStatus | null;
  /** When HubSpot last closed or reopened the thread (its `occurredAt`). */
  readonly statusChangedAt: Date | null;
}

export interface ChannelAccountRow {
  readonly portalId: number;
  readonly channelAccountId: string;
  readonly name: string;
  readonly provider: string;
  readonly inboxId: string;
  readonly active: boolean;
  readonly authorized: boolean;
  /** Null until an admin saves rules. */
  readonly rules: RoutingRules | null;
  readonly rulesUpdatedAt: Date | null;
}

export interface AuditEntry {
  readonly portalId: number;
  readonly hubspotThreadId: string;
  readonly channelAccountId: string | null;
  readonly action:
    | 'assign'
    | 'queue'
    | 'unrouted'
    | 'applied'
    | 'failed'
    | 'retry'
    | 'manual'
    | 'no-reply'
    | 'kept'
    | 'closed'
    | 'reopened'
    | 'stale';
  readonly reason: string;
  readonly userId?: string | null;
  readonly decisionId?: string | null;
  readonly at: Date;
}

export interface CandidateQuery {
  readonly userIds: readonly string[];
  readonly teamIds: readonly string[];
  readonly excluded: readonly string[];
  readonly respectAvailability: boolean;
  readonly perUserCaps: Readonly<Record<string, number>>;
  readonly defaultCap: number | null;
  /** Fewest open first, or round robin: the one assigned least recently first. Ties by user id. */
  readonly order: 'fewest-open' | 'round-robin';
  readonly limit: number;
}

/** The candidate query shared by the ranked list and the one-statement claim. */
function candidateSelect(
  portalId: number,
  query: CandidateQuery,
  locking = '',
): { sql: string; params: unknown[] } {
  const order =
    query.order === 'fewest-open'
      ? `open_count, last_assigned_seq NULLS FIRST, user_id COLLATE "C"`
      : `last_assigned_seq NULLS FIRST, user_id COLLATE "C"`;
  return {
    sql: `SELECT user_id FROM agents
       WHERE portal_id = $1 AND in_roster
         AND (user_id IN (SELECT unnest($2::text[])) OR team_ids && $3::text[])
         AND NOT (user_id = ANY($4::text[]))
         AND (NOT $5::boolean OR availability <> 'away')
         AND open_count < COALESCE(($6::jsonb ->> user_id)::int, $7::int, ${NO_CAP})
       ORDER BY ${order}
       LIMIT $8 ${locking}`,
    params: [
      portalId,
      query.userIds,
      query.teamIds,
      query.excluded,
      query.respectAvailability,
      JSON.stringify(query.perUserCaps),
      query.defaultCap,
      query.limit,
    ],
  };
}

/** Most users (and teams) the settings page lists. */
const DIRECTORY_LIMIT = 2_000;

export interface PortalDirectory {
  readonly users: readonly {
    userId: string;
    name: string | null;
    email: string | null;
    availability: string;
  }[];
  readonly teams: readonly { teamId: string; name: string }[];
  /** False when the lists were cut at their limit (ids beyond it are not known to be missing). */
  readonly complete: boolean;
}

export interface RosterUserInput {
  readonly userId: string;
  readonly ownerId?: string | undefined;
  readonly name?: string | undefined;
  readonly email?: string | undefined;
  readonly availability: string;
  readonly teamIds: readonly string[];
}

interface RawConversation {
  portal_id: string;
  hubspot_thread_id: string;
  channel_account_id: string | null;
  conversation_key: string | null;
  contact_owner_id: string | null;
  status: ConversationStatus;
  assignee_user_id: string | null;
  counted_user_id: string | null;
  pending_decision_id: string | null;
  excluded_user_ids: string[];
  waiting_since: Date | null;
  waiting_reason: string | null;
  last_agent_reply_at: Date | null;
  due_at: Date | null;
  due_kind: 'no-reply' | 'retry' | null;
  closed_from_status: ConversationStatus | null;
  status_changed_at: Date | null;
}

const conversationOf = (row: RawConversation): ConversationRow => ({
  portalId: Number(row.portal_id),
  hubspotThreadId: row.hubspot_thread_id,
  channelAccountId: row.channel_account_id,
  conversationKey: row.conversation_key,
  contactOwnerId: row.contact_owner_id,
  status: row.status,
  assigneeUserId: row.assignee_user_id,
  countedUserId: row.counted_user_id,
  pendingDecisionId: row.pending_decision_id,
  excludedUserIds: row.excluded_user_ids,
  waitingSince: row.waiting_since,
  waitingReason: row.waiting_reason,
  lastAgentReplyAt: row.last_agent_reply_at,
  dueAt: row.due_at,
  dueKind: row.due_kind,
  closedFromStatus: row.closed_from_status,
  statusChangedAt: row.status_changed_at,
});

/** Rows of an UPDATE/DELETE … RETURNING (TypeORM answers `[rows, count]` for those) or of a SELECT. */
function rowsOf<T>(raw: unknown): T[] {
  if (Array.isArray(raw) && raw.length === 2 && Array.isArray(raw[0]) && typeof raw[1] === 'number') {
    return raw[0] as T[];
  }
  return raw as T[];
}

/** Every SQL statement of the router; runs in the caller's transaction (`manager`). */
@Injectable()
export class RoutingRepository {
  private readonly agentLocks = new AgentLockOrder();

  async upsertChannelAccount(
    manager: EntityManager,
    account: { portalId: number; channelAccountId: string; inboxId: string; name: string; provider: string },
  ): Promise<void> {
    await manager.query(
      `INSERT INTO channel_accounts (portal_id, channel_account_id, inbox_id, name, provider, active, authorized)
       VALUES ($1, $2, $3, $4, $5, true, true)
       ON CONFLICT (portal_id, channel_account_id)
       DO UPDATE SET inbox_id = EXCLUDED.inbox_id, name = EXCLUDED.name, provider = EXCLUDED.provider,
                     active = true, authorized = true`,
      [account.portalId, account.channelAccountId, account.inboxId, account.name, account.provider],
    );
  }

  async updateChannelAccount(
    manager: EntityManager,
    portalId: number,
    channelAccountId: string,
    change: {
      name?: string | undefined;
      active?: boolean | undefined;
      authorized?: boolean | undefined;
      inboxId?: string | undefined;
    },
  ): Promise<void> {
    await manager.query(
      `UPDATE channel_accounts SET name = COALESCE($3, name), active = COALESCE($4, active),
              authorized = COALESCE($5, authorized), inbox_id = COALESCE($6, inbox_id)
       WHERE portal_id = $1 AND channel_account_id = $2`,
      [
        portalId,
        channelAccountId,
        change.name ?? null,
        change.active ?? null,
        change.authorized ?? null,
        change.inboxId ?? null,
      ],
    );
  }

  async deleteChannelAccount(
    manager: EntityManager,
    portalId: number,
    channelAccountId: string,
  ): Promise<void> {
    await manager.query(`DELETE FROM channel_accounts WHERE portal_id = $1 AND channel_account_id = $2`, [
      portalId,
      channelAccountId,
    ]);
  }

  async findChannelAccount(
    manager: EntityManager,
    portalId: number,
    channelAccountId: string,
  ): Promise<ChannelAccountRow | undefined> {
    const rows = await manager.query<
      {
        portal_id: string;
        channel_account_id: string;
        name: string;
        provider: string;
        inbox_id: string;
        active: boolean;
        authorized: boolean;
        rules: unknown;
        rules_updated_at: Date | null;
      }[]
    >(`SELECT * FROM channel_accounts WHERE portal_id = $1 AND channel_account_id = $2`, [
      portalId,
      channelAccountId,
    ]);
    const row = rows[0];
    if (row === undefined) {
      return undefined;
    }
    const parsed = row.rules === null ? undefined : routingRulesSchema.safeParse(row.rules);
    return {
      portalId: Number(row.portal_id),
      channelAccountId: row.channel_account_id,
      name: row.name,
      provider: row.provider,
      inboxId: row.inbox_id,
      active: row.active,
      authorized: row.authorized,
      rules: parsed === undefined ? null : parsed.success ? parsed.data : defaultRoutingRules,
      rulesUpdatedAt: row.rules_updated_at,
    };
  }

  async listChannelAccounts(manager: EntityManager, portalId: number): Promise<ChannelAccountRow[]> {
    const rows = await manager.query<{ channel_account_id: string }[]>(
      `SELECT channel_account_id FROM channel_accounts WHERE portal_id = $1 ORDER BY channel_account_id`,
      [portalId],
    );
    const accounts: ChannelAccountRow[] = [];
    for (const row of rows) {
      const account = await this.findChannelAccount(manager, portalId, row.channel_account_id);
      if (account !== undefined) {
        accounts.push(account);
      }
    }
    return accounts;
  }

  /** False when the channel account is not known for this portal. */
  async saveRules(
    manager: EntityManager,
    portalId: number,
    channelAccountId: string,
    rules: RoutingRules,
    at: Date,
  ): Promise<boolean> {
    const rows = rowsOf<{ channel_account_id: string }>(
      await manager.query(
        `UPDATE channel_accounts SET rules = $3::jsonb, rules_updated_at = $4
         WHERE portal_id = $1 AND channel_account_id = $2 RETURNING channel_account_id`,
        [portalId, channelAccountId, JSON.stringify(rules), at],
      ),
    );
    return rows.length > 0;
  }

  /** Upserts users and teams; a full snapshot also marks everyone absent as gone from the roster. */
  async applyRoster(
    manager: EntityManager,
    portalId: number,
    roster: {
      users: readonly RosterUserInput[];
      teams: readonly { teamId: string; name: string }[];
      full: boolean;
    },
  ): Promise<void> {
    // In AgentLockOrder's order, so a roster update and a batch taking slots never wait for each other crosswise.
    if (roster.full) {
      await this.agentLocks.lockPortal(manager, portalId);
    }
    const users = [...roster.users].sort((a, b) => inAgentLockOrder(a.userId, b.userId));
    const last = users.at(-1);
    if (last !== undefined) {
      await manager.query(
        `INSERT INTO agents (portal_id, user_id, owner_id, name, email, availability, team_ids, in_roster)
         SELECT $1, u.user_id, u.owner_id, u.name, u.email, u.availability,
                ARRAY(SELECT jsonb_array_elements_text(u.team_ids)), true
         FROM jsonb_to_recordset($2::jsonb)
              AS u(user_id text, owner_id text, name text, email text, availability text, team_ids jsonb)
         ON CONFLICT (portal_id, user_id) DO UPDATE SET owner_id = EXCLUDED.owner_id, name = EXCLUDED.name,
              email = EXCLUDED.email, availability = EXCLUDED.availability, team_ids = EXCLUDED.team_ids,
              in_roster = true`,
        [
          portalId,
          JSON.stringify(
            users.map((user) => ({
              user_id: user.userId,
              owner_id: user.ownerId ?? null,
              name: user.name ?? null,
              email: user.email ?? null,
              availability: user.availability,
              team_ids: user.teamIds,
            })),
          ),
        ],
      );
      this.agentLocks.locked(manager, portalId, last.userId);
    }
    if (roster.full) {
      await manager.query(
        `UPDATE agents SET in_roster = false WHERE portal_id = $1 AND in_roster AND NOT (user_id = ANY($2::text[]))`,
        [portalId, roster.users.map((user) => user.userId)],
      );
      await manager.query(`DELETE FROM teams WHERE portal_id = $1 AND NOT (team_id = ANY($2::text[]))`, [
        portalId,
        roster.teams.map((team) => team.teamId),
      ]);
    }
    if (roster.teams.length > 0) {
      await manager.query(
        `INSERT INTO teams (portal_id, team_id, name)
         SELECT $1, t.team_id, t.name FROM jsonb_to_recordset($2::jsonb) AS t(team_id text, name text)
         ON CONFLICT (portal_id, team_id) DO UPDATE SET name = EXCLUDED.name`,
        [portalId, JSON.stringify(roster.teams.map((team) => ({ team_id: team.teamId, name: team.name })))],
      );
    }
  }

  /** Inserts the conversation if new; true when this call created it. */
  async insertConversation(
    manager: EntityManager,
    conversation: {
      portalId: number;
      hubspotThreadId: string;
      channelAccountId: string;
      conversationKey: string;
      contactId: string | null;
      contactOwnerId: string | null;
      startedAt: Date;
    },
  ): Promise<boolean> {
    const rows = await manager.query<{ hubspot_thread_id: string }[]>(
      `INSERT INTO conversations (portal_id, hubspot_thread_id, channel_account_id, conversation_key, contact_id,
                                  contact_owner_id, started_at, status)
       VALUES ($1, $2, $3, $4, $5, $6, $7, 'unrouted')
       ON CONFLICT (portal_id, hubspot_thread_id) DO NOTHING RETURNING hubspot_thread_id`,
      [
        conversation.portalId,
        conversation.hubspotThreadId,
        conversation.channelAccountId,
        conversation.conversationKey,
        conversation.contactId,
        conversation.contactOwnerId,
        conversation.startedAt,
      ],
    );
    return rows.length > 0;
  }

  /** Fills the channel details of a conversation first seen through a manual assignment. */
  async completeConversation(
    manager: EntityManager,
    portalId: number,
    hubspotThreadId: string,
    details: { channelAccountId: string; conversationKey: string; contactId: string | null; startedAt: Date },
  ): Promise<void> {
    await manager.query(
      `UPDATE conversations SET channel_account_id = COALESCE(channel_account_id, $3),
              conversation_key = COALESCE(conversation_key, $4), contact_id = COALESCE(contact_id, $5),
              started_at = COALESCE(started_at, $6)
       WHERE portal_id = $1 AND hubspot_thread_id = $2 AND (channel_account_id IS NULL OR started_at IS NULL)`,
      [
        portalId,
        hubspotThreadId,
        details.channelAccountId,
        details.conversationKey,
        details.contactId,
        details.startedAt,
      ],
    );
  }

  /** A placeholder for a thread the router has not seen start yet (a manual assignment overtook it). */
  async insertManualPlaceholder(
    manager: EntityManager,
    portalId: number,
    hubspotThreadId: string,
  ): Promise<void> {
    await manager.query(
      `INSERT INTO conversations (portal_id, hubspot_thread_id, status) VALUES ($1, $2, 'manual')
       ON CONFLICT (portal_id, hubspot_thread_id) DO NOTHING`,
      [portalId, hubspotThreadId],
    );
  }

  /** Locks the conversation row for the rest of the transaction: every decision about it is serialised here. */
  async lockConversation(
    manager: EntityManager,
    portalId: number,
    hubspotThreadId: string,
  ): Promise<ConversationRow | undefined> {
    const rows = await manager.query<RawConversation[]>(
      `SELECT * FROM conversations WHERE portal_id = $1 AND hubspot_thread_id = $2 FOR UPDATE`,
      [portalId, hubspotThreadId],
    );
    return rows[0] === undefined ? undefined : conversationOf(rows[0]);
  }

  async findConversation(
    manager: EntityManager,
    portalId: number,
    hubspotThreadId: string,
  ): Promise<ConversationRow | undefined> {
    const rows = await manager.query<RawConversation[]>(
      `SELECT * FROM conversations WHERE portal_id = $1 AND hubspot_thread_id = $2`,
      [portalId, hubspotThreadId],
    );
    return rows[0] === undefined ? undefined : conversationOf(rows[0]);
  }

  async updateConversation(
    manager: EntityManager,
    portalId: number,
    hubspotThreadId: string,
    patch: {
      status?: ConversationStatus;
      assigneeUserId?: string | null;
      countedUserId?: string | null;
      pendingDecisionId?: string | null;
      excludedUserIds?: readonly string[];
      waitingSince?: Date | null;
      waitingReason?: string | null;
      lastCustomerMessageAt?: Date;
      lastAgentReplyAt?: Date;
      dueAt?: Date | null;
      dueKind?: 'no-reply' | 'retry' | null;
      closedFromStatus?: ConversationStatus | null;
      statusChangedAt?: Date;
    },
  ): Promise<void> {
    const columns: Record<string, unknown> = {
      status: patch.status,
      assignee_user_id: patch.assigneeUserId,
      counted_user_id: patch.countedUserId,
      pending_decision_id: patch.pendingDecisionId,
      excluded_user_ids: patch.excludedUserIds,
      waiting_since: patch.waitingSince,
      waiting_reason: patch.waitingReason,
      last_customer_message_at: patch.lastCustomerMessageAt,
      last_agent_reply_at: patch.lastAgentReplyAt,
      due_at: patch.dueAt,
      due_kind: patch.dueKind,
      closed_from_status: patch.closedFromStatus,
      status_changed_at: patch.statusChangedAt,
    };
    const set: string[] = [];
    const values: unknown[] = [portalId, hubspotThreadId];
    for (const [column, value] of Object.entries(columns)) {
      if (value !== undefined) {
        values.push(value);
        set.push(`${column} = $${values.length}`);
      }
    }
    if (set.length === 0) {
      return;
    }
    await manager.query(
      `UPDATE conversations SET ${set.join(', ')}, updated_at = now() WHERE portal_id = $1 AND hubspot_thread_id = $2`,
      values,
    );
  }

  /**
   * Records when the customers of many conversations last wrote, in one statement (its rows locked in key order, so
   * two such statements never wait on each other crosswise), and returns those whose no-reply timer may start again:
   * assigned, no timer running, and an agent replied before this message (a reply handled later in the same batch
   * counts as the answer).
   */
  async recordCustomerMessages(
    manager: EntityManager,
    messages: readonly { readonly portalId: number; readonly hubspotThreadId: string; readonly at: Date }[],
  ): Promise<ConversationRow[]> {
    const rows = await manager.query<RawConversation[]>(
      `WITH locked AS (
         SELECT c.portal_id, c.hubspot_thread_id, m.at
           FROM conversations c
           JOIN unnest($1::bigint[], $2::text[], $3::timestamptz[]) AS m(portal_id, hubspot_thread_id, at)
             ON c.portal_id = m.portal_id AND c.hubspot_thread_id = m.hubspot_thread_id
          ORDER BY c.portal_id, c.hubspot_thread_id
            FOR UPDATE OF c
       ), updated AS (
         UPDATE conversations c SET last_customer_message_at = locked.at, updated_at = now()
           FROM locked
          WHERE c.portal_id = locked.portal_id AND c.hubspot_thread_id = locked.hubspot_thread_id
         RETURNING c.*
       )
       SELECT * FROM updated
        WHERE status = 'assigned' AND due_at IS NULL AND last_agent_reply_at <= last_customer_message_at`,
      [
        messages.map((message) => message.portalId),
        messages.map((message) => message.hubspotThreadId),
        messages.map((message) => message.at),
      ],
    );
    return rows.map(conversationOf);
  }

  /** Agents of the pool who could take one more conversation now, best first. */
  async candidates(manager: EntityManager, portalId: number, query: CandidateQuery): Promise<string[]> {
    const { sql, params } = candidateSelect(portalId, query);
    const rows = await manager.query<{ user_id: string }[]>(sql, params);
    return rows.map((row) => row.user_id);
  }

  /**
   * In one statement: locks the first candidate (in the query's order) that no other transaction holds and
   * takes one of its slots.
   * Undefined when every candidate is full, unavailable or held by a concurrent decision.
   */
  async claimFirstFree(
    manager: EntityManager,
    portalId: number,
    query: CandidateQuery,
    at: Date,
  ): Promise<string | undefined> {
    const { sql, params } = candidateSelect(portalId, { ...query, limit: 1 }, 'FOR UPDATE SKIP LOCKED');
    const raw: unknown = await manager.query(
      `WITH pick AS (${sql})
       UPDATE agents SET open_count = open_count + 1, last_assigned_at = $${params.length + 1},
              last_assigned_seq = nextval('agent_assignment_seq')
       FROM pick WHERE agents.portal_id = $1 AND agents.user_id = pick.user_id
       RETURNING agents.user_id`,
      [...params, at],
    );
    const userId = rowsOf<{ user_id: string }>(raw)[0]?.user_id;
    if (userId !== undefined) {
      this.agentLocks.locked(manager, portalId, userId);
    }
    return userId;
  }

  /**
   * Takes one slot of the agent if they are in the roster, available (when required) and under `cap`. The
   * UPDATE waits for a concurrent one on the same row and re-checks the condition, so a cap is never exceeded.
   */
  async tryTakeSlot(
    manager: EntityManager,
    portalId: number,
    userId: string,
    cap: number | null,
    respectAvailability: boolean,
    at: Date,
  ): Promise<boolean> {
    await this.agentLocks.beforeLocking(manager, portalId, userId);
    const rows = rowsOf<{ user_id: string }>(
      await manager.query(
        `UPDATE agents SET open_count = open_count + 1, last_assigned_at = $5,
                last_assigned_seq = nextval('agent_assignment_seq')
         WHERE portal_id = $1 AND user_id = $2 AND in_roster AND (NOT $4::boolean OR availability <> 'away')
           AND open_count < COALESCE($3::int, ${NO_CAP})
         RETURNING user_id`,
        [portalId, userId, cap, respectAvailability, at],
      ),
    );
    this.agentLocks.locked(manager, portalId, userId);
    return rows.length > 0;
  }

  /** Counts a conversation a person gave to the agent, whatever the cap; false when the user is unknown. */
  async forceTakeSlot(manager: EntityManager, portalId: number, userId: string): Promise<boolean> {
    await this.agentLocks.beforeLocking(manager, portalId, userId);
    const rows = rowsOf<{ user_id: string }>(
      await manager.query(
        `UPDATE agents SET open_count = open_count + 1 WHERE portal_id = $1 AND user_id = $2 RETURNING user_id`,
        [portalId, userId],
      ),
    );
    this.agentLocks.locked(manager, portalId, userId);
    return rows.length > 0;
  }

  async releaseSlot(manager: EntityManager, portalId: number, userId: string): Promise<void> {
    await this.agentLocks.beforeLocking(manager, portalId, userId);
    await manager.query(
      `UPDATE agents SET open_count = GREATEST(open_count - 1, 0) WHERE portal_id = $1 AND user_id = $2`,
      [portalId, userId],
    );
    this.agentLocks.locked(manager, portalId, userId);
  }

  async userOfOwner(manager: EntityManager, portalId: number, ownerId: string): Promise<string | undefined> {
    const rows = await manager.query<{ user_id: string }[]>(
      `SELECT user_id FROM agents WHERE portal_id = $1 AND owner_id = $2 AND in_roster ORDER BY user_id LIMIT 1`,
      [portalId, ownerId],
    );
    return rows[0]?.user_id;
  }

  async lastHandler(
    manager: EntityManager,
    portalId: number,
    channelAccountId: string,
    conversationKey: string,
  ): Promise<string | undefined> {
    const rows = await manager.query<{ user_id: string }[]>(
      `SELECT user_id FROM customer_handlers WHERE portal_id = $1 AND channel_account_id = $2 AND conversation_key = $3`,
      [portalId, channelAccountId, conversationKey],
    );
    return rows[0]?.user_id;
  }

  async recordHandler(
    manager: EntityManager,
    handler: {
      portalId: number;
      channelAccountId: string;
      conversationKey: string;
      userId: string;
      at: Date;
    },
  ): Promise<void> {
    await manager.query(
      `INSERT INTO customer_handlers (portal_id, channel_account_id, conversation_key, user_id, handled_at)
       VALUES ($1, $2, $3, $4, $5)
       ON CONFLICT (portal_id, channel_account_id, conversation_key)
       DO UPDATE SET user_id = EXCLUDED.user_id, handled_at = EXCLUDED.handled_at
       WHERE customer_handlers.handled_at <= EXCLUDED.handled_at`,
      [handler.portalId, handler.channelAccountId, handler.conversationKey, handler.userId, handler.at],
    );
  }

  async audit(manager: EntityManager, entry: AuditEntry): Promise<void> {
    await manager.query(
      `INSERT INTO routing_audit (portal_id, hubspot_thread_id, channel_account_id, action, user_id, decision_id,
                                  reason, recorded_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
      [
        entry.portalId,
        entry.hubspotThreadId,
        entry.channelAccountId,
        entry.action,
        entry.userId ?? null,
        entry.decisionId ?? null,
        entry.reason.slice(0, 1_000),
        entry.at,
      ],
    );
  }

  async auditTrail(manager: EntityManager, portalId: number, hubspotThreadId: string): Promise<AuditEntry[]> {
    const rows = await manager.query<
      {
        channel_account_id: string | null;
        action: AuditEntry['action'];
        user_id: string | null;
        decision_id: string | null;
        reason: string;
        recorded_at: Date;
      }[]
    >(
      `SELECT channel_account_id, action, user_id, decision_id, reason, recorded_at FROM routing_audit
       WHERE portal_id = $1 AND hubspot_thread_id = $2 ORDER BY id`,
      [portalId, hubspotThreadId],
    );
    return rows.map((row) => ({
      portalId,
      hubspotThreadId,
      channelAccountId: row.channel_account_id,
      action: row.action,
      reason: row.reason,
      userId: row.user_id,
      decisionId: row.decision_id,
      at: row.recorded_at,
    }));
  }

  /**
   * The oldest waiting conversation of a portal outside `skip` and `skipChannelAccounts`, locked; rows other
   * transactions hold are skipped.
   */
  async lockOldestWaiting(
    manager: EntityManager,
    portalId: number,
    skip: readonly string[],
    skipChannelAccounts: readonly string[] = [],
  ): Promise<ConversationRow[]> {
    const rows = await manager.query<RawConversation[]>(
      `SELECT * FROM conversations WHERE portal_id = $1 AND status = 'waiting'
         AND NOT (hubspot_thread_id = ANY($2::text[]))
         AND NOT (COALESCE(channel_account_id, '') = ANY($3::text[]))
       ORDER BY waiting_since, hubspot_thread_id LIMIT 1 FOR UPDATE SKIP LOCKED`,
      [portalId, skip, skipChannelAccounts],
    );
    return rows.map(conversationOf);
  }

  /** `NOTIFY backfill_<schema>, '<portalId>'`, delivered to the listening pollers at COMMIT. */
  async notifyBackfill(manager: EntityManager, portalId: number): Promise<void> {
    await manager.query(`SELECT pg_notify('backfill_' || current_schema(), $1)`, [String(portalId)]);
  }

  /** Waiting conversations per portal. */
  async waitingCounts(manager: EntityManager): Promise<Map<number, number>> {
    const rows = await manager.query<{ portal_id: string; waiting: number }[]>(
      `SELECT portal_id, count(*)::int AS waiting FROM conversations WHERE status = 'waiting' GROUP BY portal_id`,
    );
    return new Map(rows.map((row) => [Number(row.portal_id), row.waiting]));
  }

  /** Conversations whose timer is due, locked; rows another replica holds are skipped. */
  async lockDue(manager: EntityManager, now: Date, limit: number): Promise<ConversationRow[]> {
    const rows = await manager.query<RawConversation[]>(
      `SELECT * FROM conversations WHERE due_at IS NOT NULL AND due_at <= $1
       ORDER BY due_at LIMIT $2 FOR UPDATE SKIP LOCKED`,
      [now, limit],
    );
    return rows.map(conversationOf);
  }

  async queue(
    manager: EntityManager,
    portalId: number,
    channelAccountId: string,
  ): Promise<ConversationRow[]> {
    const rows = await manager.query<RawConversation[]>(
      `SELECT * FROM conversations WHERE portal_id = $1 AND channel_account_id = $2 AND status = 'waiting'
       ORDER BY waiting_since, hubspot_thread_id LIMIT 1000`,
      [portalId, channelAccountId],
    );
    return rows.map(conversationOf);
  }

  /** Open conversations of a channel account, locked (for a purge). */
  async lockOpenOfChannelAccount(
    manager: EntityManager,
    portalId: number,
    channelAccountId: string,
  ): Promise<ConversationRow[]> {
    const rows = await manager.query<RawConversation[]>(
      `SELECT * FROM conversations WHERE portal_id = $1 AND channel_account_id = $2 AND status <> 'closed'
       ORDER BY hubspot_thread_id FOR UPDATE`,
      [portalId, channelAccountId],
    );
    return rows.map(conversationOf);
  }

  /**
   * Forgets a thread deleted in HubSpot: its conversation row and its audit entries; with `customers`, the last
   * handler kept for each of those conversations too (a privacy deletion).
   */
  async forgetThread(
    manager: EntityManager,
    portalId: number,
    hubspotThreadId: string,
    customers: readonly { readonly channelAccountId: string; readonly conversationKey: string }[],
  ): Promise<void> {
    for (const table of ['conversations', 'routing_audit']) {
      await manager.query(`DELETE FROM ${table} WHERE portal_id = $1 AND hubspot_thread_id = $2`, [
        portalId,
        hubspotThreadId,
      ]);
    }
    if (customers.length > 0) {
      await manager.query(
        `DELETE FROM customer_handlers h
          USING unnest($2::text[], $3::text[]) AS c(channel_account_id, conversation_key)
          WHERE h.portal_id = $1 AND h.channel_account_id = c.channel_account_id
            AND h.conversation_key = c.conversation_key`,
        [
          portalId,
          customers.map((customer) => customer.channelAccountId),
          customers.map((customer) => customer.conversationKey),
        ],
      );
    }
  }

  /** Conversations of a purged channel account whose thread was closed stay closed even if it reopens. */
  async closeForGoodOfChannelAccount(
    manager: EntityManager,
    portalId: number,
    channelAccountId: string,
  ): Promise<void> {
    await manager.query(
      `UPDATE conversations SET closed_from_status = NULL, updated_at = now()
       WHERE portal_id = $1 AND channel_account_id = $2 AND status = 'closed' AND closed_from_status IS NOT NULL`,
      [portalId, channelAccountId],
    );
  }

  /** The portal's people in the roster and its teams, by name, for the settings page. */
  async directory(manager: EntityManager, portalId: number): Promise<PortalDirectory> {
    const users = await manager.query<
      { user_id: string; name: string | null; email: string | null; availability: string }[]
    >(
      `SELECT user_id, name, email, availability FROM agents WHERE portal_id = $1 AND in_roster
       ORDER BY COALESCE(name, user_id), user_id COLLATE "C" LIMIT ${DIRECTORY_LIMIT}`,
      [portalId],
    );
    const teams = await manager.query<{ team_id: string; name: string }[]>(
      `SELECT team_id, name FROM teams WHERE portal_id = $1 ORDER BY name, team_id COLLATE "C" LIMIT ${DIRECTORY_LIMIT}`,
      [portalId],
    );
    return {
      users: users.map((row) => ({
        userId: row.user_id,
        name: row.name,
        email: row.email,
        availability: row.availability,
      })),
      teams: teams.map((row) => ({ teamId: row.team_id, name: row.name })),
      complete: users.length < DIRECTORY_LIMIT && teams.length < DIRECTORY_LIMIT,
    };
  }

  async agentLoad(
    manager: EntityManager,
    portalId: number,
  ): Promise<{ userId: string; availability: string; openCount: number; inRoster: boolean }[]> {
    const rows = await manager.query<
      { user_id: string; availability: string; open_count: number; in_roster: boolean }[]
    >(
      `SELECT user_id, availability, open_count, in_roster FROM agents WHERE portal_id = $1
       ORDER BY user_id COLLATE "C" LIMIT 5000`,
      [portalId],
    );
    return rows.map((row) => ({
      userId: row.user_id,
      availability: row.availability,
      openCount: row.open_count,
      inRoster: row.in_roster,
    }));
  }
}
