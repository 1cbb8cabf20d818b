import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import { returnedRows } from '../accounts/returned-rows.js';

export interface NewWebhookEvent {
  readonly portalId: number;
  readonly dedupeKey: string;
  readonly eventType: string;
  /** Events with the same key are processed one at a time, in arrival order. */
  readonly orderingKey: string;
  /** The parsed JSON body as received. */
  readonly payload: unknown;
  /** The delivering request's trace context (`traceparent`…); empty or absent while traces are not exported. */
  readonly traceHeaders?: Readonly<Record<string, string>>;
}

/** A stored event claimed for background processing. */
export interface ClaimedWebhookEvent {
  readonly id: string;
  readonly portalId: string;
  readonly eventType: string;
  readonly payload: unknown;
  /** 1 for the first processing attempt. */
  readonly attempts: number;
  /** The delivering request's trace context, when it was traced. */
  readonly traceHeaders: Readonly<Record<string, string>> | undefined;
}

export type ProcessingOutcome = 'published' | 'stored' | 'skipped' | 'rejected' | 'failed';

/** The only place that touches TypeORM for webhook events; runs in the caller's transaction. */
@Injectable()
export class HubSpotWebhookEventRepository {
  /** Inserts the event; `false` when an event with the same portal and dedupe key was already stored. */
  async insertIfNew(manager: EntityManager, event: NewWebhookEvent): Promise<boolean> {
    const [inserted] = await this.insertAllIfNew(manager, [event]);
    return inserted === true;
  }

  /**
   * Inserts the events in one statement, in the given order (their ids follow it, so processing order is
   * arrival order); for each, `false` when its portal and dedupe key were already stored, or taken by an
   * earlier event of the same call.
   */
  async insertAllIfNew(manager: EntityManager, events: readonly NewWebhookEvent[]): Promise<boolean[]> {
    if (events.length === 0) {
      return [];
    }
    const result: unknown = await manager.query(
      `INSERT INTO hubspot_webhook_events (portal_id, dedupe_key, event_type, ordering_key, payload, trace_headers)
       SELECT portal_id, dedupe_key, event_type, ordering_key, payload, trace_headers
         FROM unnest($1::bigint[], $2::text[], $3::text[], $4::text[], $5::jsonb[], $6::jsonb[])
              WITH ORDINALITY AS e (portal_id, dedupe_key, event_type, ordering_key, payload, trace_headers, position)
        ORDER BY position
       ON CONFLICT (portal_id, dedupe_key) DO NOTHING
       RETURNING portal_id::text AS portal_id, dedupe_key`,
      [
        events.map((event) => String(event.portalId)),
        events.map((event) => event.dedupeKey),
        events.map((event) => event.eventType),
        events.map((event) => event.orderingKey),
        events.map((event) => JSON.stringify(event.payload)),
        events.map(({ traceHeaders }) =>
          traceHeaders === undefined || Object.keys(traceHeaders).length === 0
            ? null
            : JSON.stringify(traceHeaders),
        ),
      ],
    );
    const inserted = new Set(
      returnedRows<{ portal_id: string; dedupe_key: string }>(result).map((row) =>
        JSON.stringify([row.portal_id, row.dedupe_key]),
      ),
    );
    return events.map((event) => inserted.delete(JSON.stringify([String(event.portalId), event.dedupeKey])));
  }

  /**
   * Leases up to `limit` due events for `leaseMs`, at most one per ordering key and only the oldest
   * unprocessed event of its key, so events of one account or thread are processed in order across replicas.
   * Candidates are read in due order along the pending index, so events waiting for a later retry are never
   * scanned: in id order, every claim walked past all of them (4.7 ms per claim with 30,000 waiting, 0.4 ms now).
   */
  async claim(manager: EntityManager, limit: number, leaseMs: number): Promise<ClaimedWebhookEvent[]> {
    const result: unknown = await manager.query(
      `UPDATE hubspot_webhook_events
            SET attempts = attempts + 1, next_attempt_at = now() + make_interval(secs => $2::double precision / 1000)
          WHERE id IN (
            SELECT e.id FROM hubspot_webhook_events e
             WHERE e.processed_at IS NULL AND e.next_attempt_at <= now()
               AND NOT EXISTS (
                 SELECT 1 FROM hubspot_webhook_events p
                  WHERE p.processed_at IS NULL AND p.ordering_key = e.ordering_key AND p.id < e.id)
             ORDER BY e.next_attempt_at, e.id
             LIMIT $1
             FOR UPDATE SKIP LOCKED)
          RETURNING id, portal_id, event_type, payload, attempts, trace_headers`,
      [limit, leaseMs],
    );
    return returnedRows<{
      id: string;
      portal_id: string;
      event_type: string;
      payload: unknown;
      attempts: number;
      trace_headers: Record<string, string> | null;
    }>(result)
      .map((row) => ({
        id: row.id,
        portalId: row.portal_id,
        eventType: row.event_type,
        payload: row.payload,
        attempts: row.attempts,
        traceHeaders: row.trace_headers ?? undefined,
      }))
      .sort((a, b) => Number(a.id) - Number(b.id));
  }

  /** Locks the claimed events still unprocessed (another replica may have finished one whose lease expired). */
  async lockAllUnprocessed(manager: EntityManager, ids: readonly string[]): Promise<ReadonlySet<string>> {
    const rows: { id: string }[] = await manager.query(
      `SELECT id::text FROM hubspot_webhook_events
        WHERE id = ANY($1::bigint[]) AND processed_at IS NULL ORDER BY id FOR UPDATE`,
      [ids],
    );
    return new Set(rows.map((row) => row.id));
  }

  async markAllProcessed(
    manager: EntityManager,
    results: readonly { id: string; outcome: ProcessingOutcome; reason?: string | undefined }[],
  ): Promise<void> {
    if (results.length === 0) {
      return;
    }
    await manager.query(
      `UPDATE hubspot_webhook_events AS e SET processed_at = now(), outcome = r.outcome, last_error = r.reason
         FROM unnest($1::bigint[], $2::text[], $3::text[]) AS r(id, outcome, reason)
        WHERE e.id = r.id`,
      [
        results.map((result) => result.id),
        results.map((result) => result.outcome),
        results.map((result) => result.reason?.slice(0, 2000) ?? null),
      ],
    );
  }

  /** Makes each event due again after its delay, with the reason it failed (an event finished meanwhile stays so). */
  async retryAllLater(
    manager: EntityManager,
    retries: readonly { id: string; delayMs: number; reason: string }[],
  ): Promise<void> {
    if (retries.length === 0) {
      return;
    }
    await manager.query(
      `UPDATE hubspot_webhook_events AS e
          SET next_attempt_at = now() + make_interval(secs => r.delay_ms / 1000), last_error = r.reason
         FROM unnest($1::bigint[], $2::double precision[], $3::text[]) AS r(id, delay_ms, reason)
        WHERE e.id = r.id AND e.processed_at IS NULL`,
      [
        retries.map((retry) => retry.id),
        retries.map((retry) => retry.delayMs),
        retries.map((retry) => retry.reason.slice(0, 2000)),
      ],
    );
  }

  /**
   * Makes a claimed event due again after `delayMs`: for a failure this replica could not record when it happened
   * (the database was away). Does nothing once the event was claimed again (`attempts` moved on) or finished.
   */
  async releaseClaim(
    manager: EntityManager,
    id: string,
    attempts: number,
    delayMs: number,
    reason: string,
  ): Promise<void> {
    await manager.query(
      `UPDATE hubspot_webhook_events
          SET next_attempt_at = now() + make_interval(secs => $3::double precision / 1000), last_error = $4
        WHERE id = $1 AND attempts = $2 AND processed_at IS NULL`,
      [id, attempts, delayMs, reason.slice(0, 2000)],
    );
  }

  /**
   * Deletes up to `limit` events processed more than `retentionMs` ago. Dedupe needs a stored event only while
   * HubSpot may still redeliver it (24 h), so the retention must stay well above that.
   */
  async pruneProcessed(manager: EntityManager, retentionMs: number, limit: number): Promise<number> {
    const result: unknown = await manager.query(
      `DELETE FROM hubspot_webhook_events
        WHERE id IN (
          SELECT id FROM hubspot_webhook_events
           WHERE processed_at < now() - make_interval(secs => $1::double precision / 1000)
           LIMIT $2)
        RETURNING id`,
      [retentionMs, limit],
    );
    return returnedRows(result).length;
  }
}
