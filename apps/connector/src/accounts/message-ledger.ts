import { APP_CONFIG } from '@inbox-bridge/service-kit';
import type { DeliveryStatus } from '@inbox-bridge/shared';
import { Inject, Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import type { ConnectorConfig } from '../config/connector.config.js';
import type { ProviderStatusReport } from '../providers/provider-port.js';

/** HubSpot statuses only move forward: SENT → READ; FAILED is final. */
const RANK: Readonly<Record<DeliveryStatus, number>> = { SENT: 1, READ: 2, FAILED: 3 };

/** How {@link MessageLedger.recordInbound} names an inbound message. */
export function inboundKey(channelAccountId: string, dedupeKey: string): string {
  return `${channelAccountId}\n${dedupeKey}`;
}

/** Inbound dedupe keys and outbound message states, per channel account. */
@Injectable()
export class MessageLedger {
  private readonly schema: string;

  constructor(@Inject(APP_CONFIG) config: ConnectorConfig) {
    this.schema = config.DATABASE_SCHEMA;
  }

  /**
   * Records the dedupe keys of inbound messages with one statement; answers which were new, as
   * {@link inboundKey}s (a key listed twice is new once).
   */
  async recordInbound(
    manager: EntityManager,
    messages: readonly { readonly channelAccountId: string; readonly dedupeKey: string }[],
  ): Promise<Set<string>> {
    if (messages.length === 0) {
      return new Set();
    }
    const rows: { channel_account_id: string; dedupe_key: string }[] = await manager.query(
      `INSERT INTO "${this.schema}".inbound_messages (channel_account_id, dedupe_key)
       SELECT * FROM unnest($1::text[], $2::text[])
       ON CONFLICT DO NOTHING RETURNING channel_account_id, dedupe_key`,
      [messages.map((message) => message.channelAccountId), messages.map((message) => message.dedupeKey)],
    );
    return new Set(rows.map((row) => inboundKey(row.channel_account_id, row.dedupe_key)));
  }

  async outboundStatus(
    manager: EntityManager,
    channelAccountId: string,
    hubspotMessageId: string,
  ): Promise<DeliveryStatus | undefined> {
    const rows: { status: DeliveryStatus }[] = await manager.query(
      `SELECT status FROM "${this.schema}".outbound_messages WHERE channel_account_id = $1 AND hubspot_message_id = $2`,
      [channelAccountId, hubspotMessageId],
    );
    return rows[0]?.status;
  }

  /** `statusCheckAfterMs`: when the provider is first asked for the reply's status (its callbacks can be lost). */
  async recordOutbound(
    manager: EntityManager,
    entry: {
      channelAccountId: string;
      hubspotMessageId: string;
      providerMessageId: string | undefined;
      status: DeliveryStatus;
      statusCheckAfterMs?: number;
    },
  ): Promise<void> {
    await manager.query(
      `INSERT INTO "${this.schema}".outbound_messages
         (channel_account_id, hubspot_message_id, provider_message_id, status, status_check_at)
       VALUES ($1, $2, $3, $4, now() + make_interval(secs => $5))
       ON CONFLICT (channel_account_id, hubspot_message_id) DO UPDATE
         SET provider_message_id = COALESCE(EXCLUDED.provider_message_id, outbound_messages.provider_message_id),
             status = EXCLUDED.status, status_check_at = EXCLUDED.status_check_at, updated_at = now()`,
      [
        entry.channelAccountId,
        entry.hubspotMessageId,
        entry.providerMessageId ?? null,
        entry.status,
        entry.statusCheckAfterMs === undefined ? null : entry.statusCheckAfterMs / 1000,
      ],
    );
  }

  /** The account's sent replies whose status is due to be read from the provider, the longest due first. */
  async dueStatusChecks(
    manager: EntityManager,
    channelAccountId: string,
    limit: number,
  ): Promise<{ readonly providerMessageId: string; readonly checksDone: number }[]> {
    const rows: { provider_message_id: string; status_checks: number }[] = await manager.query(
      `SELECT provider_message_id, status_checks FROM "${this.schema}".outbound_messages
        WHERE channel_account_id = $1 AND status_check_at <= now() AND provider_message_id IS NOT NULL
        ORDER BY status_check_at
        LIMIT $2`,
      [channelAccountId, limit],
    );
    return rows.map((row) => ({ providerMessageId: row.provider_message_id, checksDone: row.status_checks }));
  }

  /** Counts a status read from the provider; the next is due after `nextAfterMs`, or never when undefined. */
  async recordStatusCheck(
    manager: EntityManager,
    channelAccountId: string,
    providerMessageId: string,
    nextAfterMs: number | undefined,
  ): Promise<void> {
    await manager.query(
      `UPDATE "${this.schema}".outbound_messages
          SET status_checks = status_checks + 1, status_check_at = now() + make_interval(secs => $3)
        WHERE channel_account_id = $1 AND provider_message_id = $2`,
      [channelAccountId, providerMessageId, nextAfterMs === undefined ? null : nextAfterMs / 1000],
    );
  }

  /** Records the provider messages of a reply after its first (`providerMessageId`). */
  async recordParts(
    manager: EntityManager,
    channelAccountId: string,
    providerMessageId: string,
    partMessageIds: readonly string[],
  ): Promise<void> {
    if (partMessageIds.length === 0) {
      return;
    }
    await manager.query(
      `INSERT INTO "${this.schema}".reply_message_parts (channel_account_id, part_message_id, provider_message_id)
       SELECT $1, part, $2 FROM unnest($3::text[]) AS part
       ON CONFLICT DO NOTHING`,
      [channelAccountId, providerMessageId, partMessageIds],
    );
  }

  /** The later provider messages of the reply whose first is `providerMessageId`. */
  async partsOf(
    manager: EntityManager,
    channelAccountId: string,
    providerMessageId: string,
  ): Promise<string[]> {
    const rows: { part_message_id: string }[] = await manager.query(
      `SELECT part_message_id FROM "${this.schema}".reply_message_parts
        WHERE channel_account_id = $1 AND provider_message_id = $2`,
      [channelAccountId, providerMessageId],
    );
    return rows.map((row) => row.part_message_id);
  }

  /** The first provider message of the reply `partMessageId` belongs to, when it is a later part of one. */
  async replyOfPart(
    manager: EntityManager,
    channelAccountId: string,
    partMessageId: string,
  ): Promise<string | undefined> {
    const rows: { provider_message_id: string }[] = await manager.query(
      `SELECT provider_message_id FROM "${this.schema}".reply_message_parts
        WHERE channel_account_id = $1 AND part_message_id = $2`,
      [channelAccountId, partMessageId],
    );
    return rows[0]?.provider_message_id;
  }

  /**
   * Serialises everything about one provider message id within the caller's transaction: the send that
   * records the id and a status report about it never interleave (the report waits for the commit).
   */
  async lockProviderMessage(
    manager: EntityManager,
    channelAccountId: string,
    providerMessageId: string,
  ): Promise<void> {
    await manager.query('SELECT pg_advisory_xact_lock(hashtextextended($1, 0))', [
      `${channelAccountId}|${providerMessageId}`,
    ]);
  }

  /**
   * Applies a provider's status report to the message it names (call under `lockProviderMessage`).
   * `advanced` carries the HubSpot message id when the HubSpot-visible status moved forward; `unchanged` for a
   * repeat, `delivered` after `sent`, or anything after FAILED; `unknown` when no sent message has this id yet.
   */
  async advance(
    manager: EntityManager,
    channelAccountId: string,
    providerMessageId: string,
    report: Pick<ProviderStatusReport, 'status' | 'final'>,
  ): Promise<{ outcome: 'advanced'; hubspotMessageId: string } | { outcome: 'unchanged' | 'unknown' }> {
    const { status } = report;
    const rows: { hubspot_message_id: string; status: DeliveryStatus }[] = await manager.query(
      `SELECT hubspot_message_id, status FROM "${this.schema}".outbound_messages
        WHERE channel_account_id = $1 AND provider_message_id = $2`,
      [channelAccountId, providerMessageId],
    );
    const row = rows[0];
    if (row === undefined) {
      return { outcome: 'unknown' };
    }
    const advanced = row.status !== 'FAILED' && RANK[status] > RANK[row.status];
    // Once the provider has said its last word, nobody needs to ask it again.
    const settled = report.final === true || status === 'FAILED';
    if (advanced || settled) {
      await manager.query(
        `UPDATE "${this.schema}".outbound_messages
            SET status = CASE WHEN $3 THEN $4 ELSE status END, updated_at = now(),
                status_check_at = CASE WHEN $5 THEN NULL ELSE status_check_at END
          WHERE channel_account_id = $1 AND provider_message_id = $2`,
        [channelAccountId, providerMessageId, advanced, status, settled],
      );
    }
    return advanced
      ? { outcome: 'advanced', hubspotMessageId: row.hubspot_message_id }
      : { outcome: 'unchanged' };
  }

  /** Keeps a report about a message id not recorded yet; reports parked for a day are dropped. */
  async park(manager: EntityManager, channelAccountId: string, report: ProviderStatusReport): Promise<void> {
    await manager.query(
      `INSERT INTO "${this.schema}".parked_status_reports
         (channel_account_id, provider_message_id, status, failure_reason, provider_error_code, occurred_at, final)
       VALUES ($1, $2, $3, $4, $5, $6, $7)
       ON CONFLICT (channel_account_id, provider_message_id, status)
       DO UPDATE SET final = parked_status_reports.final OR EXCLUDED.final`,
      [
        channelAccountId,
        report.providerMessageId,
        report.status,
        report.failureReason ?? null,
        report.providerErrorCode ?? null,
        report.occurredAt,
        report.final === true,
      ],
    );
    await manager.query(
      `DELETE FROM "${this.schema}".parked_status_reports WHERE parked_at < now() - interval '1 day'`,
    );
  }

  /** Removes and returns the reports parked for a message id, in status order. */
  async takeParked(
    manager: EntityManager,
    channelAccountId: string,
    providerMessageId: string,
  ): Promise<ProviderStatusReport[]> {
    const rows: {
      status: DeliveryStatus;
      failure_reason: string | null;
      provider_error_code: string | null;
      occurred_at: Date;
      final: boolean;
    }[] = await manager.query(
      `SELECT status, failure_reason, provider_error_code, occurred_at, final FROM "${this.schema}".parked_status_reports
        WHERE channel_account_id = $1 AND provider_message_id = $2`,
      [channelAccountId, providerMessageId],
    );
    if (rows.length > 0) {
      await manager.query(
        `DELETE FROM "${this.schema}".parked_status_reports WHERE channel_account_id = $1 AND provider_message_id = $2`,
        [channelAccountId, providerMessageId],
      );
    }
    return rows
      .map((row) => ({
        providerMessageId,
        status: row.status,
        ...(row.failure_reason === null ? {} : { failureReason: row.failure_reason }),
        ...(row.provider_error_code === null ? {} : { providerErrorCode: row.provider_error_code }),
        occurredAt: new Date(row.occurred_at).toISOString(),
        ...(row.final ? { final: true } : {}),
      }))
      .sort((a, b) => RANK[a.status] - RANK[b.status]);
  }
}
