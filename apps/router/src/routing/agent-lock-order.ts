import type { EntityManager } from 'typeorm';

/** How long a transaction waits for an agent row below one it already holds, before giving up (55P03). */
export const OUT_OF_ORDER_AGENT_WAIT_MS = 100;

/**
 * Keeps waits for agents' rows (their slot counts) from forming a cycle that lasts.
 *
 * A transaction that decides for several conversations (a consumer batch, a back-fill step) takes and releases
 * several agents' slots, in the order its decisions need them. Two of them that each hold an agent the other
 * waits for deadlock, and PostgreSQL breaks the cycle only after `deadlock_timeout` (1 s by default), with the
 * batch's work lost. Here a transaction waits without bound only for an agent ordered after every agent it holds
 * (by portal, then user id). An agent ordered before one it holds is waited for at most
 * `OUT_OF_ORDER_AGENT_WAIT_MS`: a cycle needs such a wait, so it ends there, with `lock_not_available` (55P03,
 * transient): the batch is then taken one message at a time, the step of a poller run again.
 */
export class AgentLockOrder {
  private readonly highestHeld = new WeakMap<EntityManager, string>();

  /** Call before a statement that may lock the agent's row; waits for it out of order only briefly. */
  async beforeLocking(manager: EntityManager, portalId: number, userId: string): Promise<void> {
    if (manager.queryRunner?.isTransactionActive !== true) {
      return;
    }
    const highest = this.highestHeld.get(manager);
    if (highest === undefined || agentKey(portalId, userId) >= highest) {
      return;
    }
    await waitingBriefly(manager, () =>
      manager.query(`SELECT 1 FROM agents WHERE portal_id = $1 AND user_id = $2 FOR UPDATE`, [
        portalId,
        userId,
      ]),
    );
  }

  /**
   * Locks every agent row of the portal, in this order, for a statement that changes many of them at once (a full
   * roster's "everyone else left"): an UPDATE alone would lock them in scan order.
   */
  async lockPortal(manager: EntityManager, portalId: number): Promise<void> {
    const highest = this.highestHeld.get(manager);
    const lockAll = () =>
      manager.query<{ user_id: string }[]>(
        `SELECT user_id FROM agents WHERE portal_id = $1 ORDER BY user_id COLLATE "C" FOR UPDATE`,
        [portalId],
      );
    const rows =
      highest !== undefined && agentKey(portalId, '') < highest
        ? await waitingBriefly(manager, lockAll)
        : await lockAll();
    const last = rows.at(-1);
    if (last !== undefined) {
      this.locked(manager, portalId, last.user_id);
    }
  }

  /**
   * Records that the transaction may now hold the agent's row. Also after an UPDATE that changed nothing: one
   * that waited for a concurrent update and then found its condition false still holds the row.
   */
  locked(manager: EntityManager, portalId: number, userId: string): void {
    if (manager.queryRunner?.isTransactionActive !== true) {
      return;
    }
    const key = agentKey(portalId, userId);
    const highest = this.highestHeld.get(manager);
    if (highest === undefined || key > highest) {
      this.highestHeld.set(manager, key);
    }
  }
}

/** Runs `lock` waiting for rows at most `OUT_OF_ORDER_AGENT_WAIT_MS`; a wait that would close a cycle ends there. */
async function waitingBriefly<T>(manager: EntityManager, lock: () => Promise<T>): Promise<T> {
  await manager.query(`SET LOCAL lock_timeout = '${OUT_OF_ORDER_AGENT_WAIT_MS}ms'`);
  const result = await lock();
  await manager.query(`SET LOCAL lock_timeout = DEFAULT`);
  return result;
}

/** Orders agents by portal (numerically), then user id; any total order works if every transaction uses it. */
function agentKey(portalId: number, userId: string): string {
  return `${String(portalId).padStart(20, '0')}\u0000${userId}`;
}

/**
 * The agents of one portal in the order `AgentLockOrder` waits for them: a comparator for `sort`. It compares UTF-16
 * code units, PostgreSQL's `COLLATE "C"` code points: the same order for HubSpot's numeric user ids.
 */
export function inAgentLockOrder(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
