import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';

/** The service's schema (the DataSource's `schema`), checked before it is put into SQL. */
export function schemaOfManager(manager: EntityManager): string {
  const schema = (manager.dataSource.options as { schema?: string }).schema ?? 'public';
  if (!/^[a-z_][a-z0-9_]*$/.test(schema)) {
    throw new Error(`unsafe schema name "${schema}"`);
  }
  return schema;
}

/**
 * The assignee the bridge last set on each thread. HubSpot reports every assignee change the same way, whoever
 * made it; a change to exactly the actor the bridge set is the echo of the bridge's own assignment, anything
 * else was made by a person and the router must respect it.
 */
@Injectable()
export class BridgeAssignmentJournal {
  /** Call in the transaction that records a successful assignee PUT (actorId) or DELETE (null). */
  async record(
    manager: EntityManager,
    portalId: string,
    threadId: string,
    actorId: string | null,
  ): Promise<void> {
    const s = schemaOfManager(manager);
    await manager.query(
      `INSERT INTO "${s}".bridge_thread_assignments (portal_id, thread_id, actor_id) VALUES ($1, $2, $3)
       ON CONFLICT (portal_id, thread_id) DO UPDATE SET actor_id = EXCLUDED.actor_id, applied_at = now()`,
      [portalId, threadId, actorId],
    );
  }

  async isBridgeAssignment(
    manager: EntityManager,
    portalId: string,
    threadId: string,
    actorId: string | null,
  ): Promise<boolean> {
    const s = schemaOfManager(manager);
    const rows: unknown[] = await manager.query(
      `SELECT 1 FROM "${s}".bridge_thread_assignments
        WHERE portal_id = $1 AND thread_id = $2 AND actor_id IS NOT DISTINCT FROM $3`,
      [portalId, threadId, actorId],
    );
    return rows.length > 0;
  }
}
