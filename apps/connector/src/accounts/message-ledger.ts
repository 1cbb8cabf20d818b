import { APP_CONFIG } from '@inbox-bridge/service-kit';
import type { DeliveryStatus } from '@inbox-bridge/shared';
import { Inject, Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import type { ConnectorConfig } from '../config/connector.config.js';

/** HubSpot statuses only move forward: SENT → READ; FAILED is final. */
const RANK: Readonly<Record<DeliveryStatus, number>> = { SENT: 1, READ: 2, FAILED: 3 };

/** Inbound dedupe keys and outbound message states, per channel account. */
@Injectable()
export class MessageLedger {
  private readonly schema: string;

  constructor(@Inject(APP_CONFIG) config: ConnectorConfig) {
    this.schema = config.DATABASE_SCHEMA;
  }

  /** `false` when this inbound message (same dedupe key) was already accepted. */
  async recordInbound(manager: EntityManager, channelAccountId: string, dedupeKey: string): Promise<boolean> {
    const rows: unknown[] = await manager.query(
      `INSERT INTO "${this.schema}".inbound_messages (channel_account_id, dedupe_key) VALUES ($1, $2)
       ON CONFLICT DO NOTHING RETURNING dedupe_key`,
      [channelAccountId, dedupeKey],
    );
    return rows.length > 0;
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

  async recordOutbound(
    manager: EntityManager,
    entry: {
      channelAccountId: string;
      hubspotMessageId: string;
      providerMessageId: string | undefined;
      status: DeliveryStatus;
    },
  ): Promise<void> {
    await manager.query(
      `INSERT INTO "${this.schema}".outbound_messages (channel_account_id, hubspot_message_id, provider_message_id, status)
       VALUES ($1, $2, $3, $4)
       ON CONFLICT (channel_account_id, hubspot_message_id) DO UPDATE
         SET provider_message_id = COALESCE(EXCLUDED.provider_message_id, outbound_messages.provider_message_id),
             status = EXCLUDED.status, updated_at = now()`,
      [entry.channelAccountId, entry.hubspotMessageId, entry.providerMessageId ?? null, entry.status],
    );
  }

  /**
   * Applies a provider's status report to the message it names. Returns the HubSpot message id when the
   * HubSpot-visible status moved forward, `undefined` for an unknown message or a report that changes nothing
   * (a repeat, `delivered` after `sent`, anything after FAILED).
   */
  async advance(
    manager: EntityManager,
    channelAccountId: string,
    providerMessageId: string,
    status: DeliveryStatus,
  ): Promise<string | undefined> {
    const rows: { hubspot_message_id: string; status: DeliveryStatus }[] = await manager.query(
      `SELECT hubspot_message_id, status FROM "${this.schema}".outbound_messages
        WHERE channel_account_id = $1 AND provider_message_id = $2 FOR UPDATE`,
      [channelAccountId, providerMessageId],
    );
    const row = rows[0];
    if (row === undefined || row.status === 'FAILED' || RANK[status] <= RANK[row.status]) {
      return undefined;
    }
    await manager.query(
      `UPDATE "${this.schema}".outbound_messages SET status = $3, updated_at = now()
        WHERE channel_account_id = $1 AND provider_message_id = $2`,
      [channelAccountId, providerMessageId, status],
    );
    return row.hubspot_message_id;
  }
}
