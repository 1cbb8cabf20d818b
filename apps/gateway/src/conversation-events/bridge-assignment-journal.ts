import { DATA_SOURCE } from '@inbox-bridge/service-kit';
import { Inject, Injectable } from '@nestjs/common';
import type { DataSource, EntityManager } from 'typeorm';

/** The service's schema (the DataSource's `schema`), checked before it is put into SQL. */
export function schemaOfManager(manager: EntityManager): string {
  const schema = (manager.dataSource.options as { schema?: string }).schema ?? 'public';
  if (!/^[a-z_][a-z0-9_]*$/.test(schema)) {
    throw new Error(`unsafe schema name "${schema}"`);
  }
  return schema;
}

/**
 * How long an assignee the bridge is about to set counts as the bridge's: longer than an assignment's HubSpot calls
 * can take with their retries and rate waits, so only an intent whose outcome was never recorded (a crash) lapses.
 */
export const ASSIGNMENT_INTENT_VALIDITY_MS = 15 * 60_000;

/**
 * The assignee the bridge last set on each thread. HubSpot reports every assignee change the same way, whoever
 * made it; a change to exactly the actor the bridge set is the echo of the bridge's own assignment, anything
 * else was made by a person and the router must respect it. HubSpot sends the echo as soon as it has stored the
 * assignee, which can be before the transaction recording it commits, so the actor the bridge is about to set is
 * written (and committed) first as an intent, and counts as the bridge's too.
 */
@Injectable()
export class BridgeAssignmentJournal {
  constructor(@Inject(DATA_SOURCE) private readonly dataSource: DataSource) {}

  /**
   * Call just before the assignee PUT (actorId) or DELETE (null). Committed on its own, outside the caller's
   * transaction (which writes no intent, so it never waits for a lock this holds).
   */
  async intend(portalId: string, threadId: string, actorId: string | null): Promise<void> {
    const s = schemaOfManager(this.dataSource.manager);
    await this.dataSource.query(
      `INSERT INTO "${s}".bridge_assignment_intents (portal_id, thread_id, actor_key, intended_at)
       VALUES ($1, $2, $3, clock_timestamp())
       ON CONFLICT (portal_id, thread_id, actor_key) DO UPDATE SET intended_at = EXCLUDED.intended_at`,
      [portalId, threadId, actorId ?? ''],
    );
  }

  /**
   * Call in the transaction that records a successful assignee PUT (actorId) or DELETE (null). Stamped with the
   * clock, after the call, so it settles every intent made before it.
   */
  async record(
    manager: EntityManager,
    portalId: string,
    threadId: string,
    actorId: string | null,
  ): Promise<void> {
    const s = schemaOfManager(manager);
    await manager.query(
      `INSERT INTO "${s}".bridge_thread_assignments (portal_id, thread_id, actor_id, applied_at)
       VALUES ($1, $2, $3, clock_timestamp())
       ON CONFLICT (portal_id, thread_id) DO UPDATE SET actor_id = EXCLUDED.actor_id, applied_at = EXCLUDED.applied_at`,
      [portalId, threadId, actorId],
    );
  }

  /**
   * The bridge set `actorId` last, or is setting it now: an intent no assignment was recorded after (a recorded
   * one settles it), not older than the validity. A person who later picks an actor the bridge once set is a person.
   */
  async isBridgeAssignment(
    manager: EntityManager,
    portalId: string,
    threadId: string,
    actorId: string | null,
  ): Promise<boolean> {
    const s = schemaOfManager(manager);
    const rows: unknown[] = await manager.query(
      `SELECT 1 FROM "${s}".bridge_thread_assignments
        WHERE portal_id = $1 AND thread_id = $2 AND actor_id IS NOT DISTINCT FROM $3
       UNION ALL
       SELECT 1 FROM "${s}".bridge_assignment_intents i
        WHERE i.portal_id = $1 AND i.thread_id = $2 AND i.actor_key = coalesce($3, '')
          AND i.intended_at > now() - make_interval(secs => $4::double precision / 1000)
          AND NOT EXISTS (
            SELECT 1 FROM "${s}".bridge_thread_assignments a
             WHERE a.portal_id = $1 AND a.thread_id = $2 AND a.applied_at >= i.intended_at)
       LIMIT 1`,
      [portalId, threadId, actorId, ASSIGNMENT_INTENT_VALIDITY_MS],
    );
    return rows.length > 0;
  }
}
