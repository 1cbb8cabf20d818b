import { Column, CreateDateColumn, Entity, PrimaryGeneratedColumn, Unique } from 'typeorm';

/** A HubSpot webhook the gateway accepted (migration `HubSpotWebhookEvents1764158400000`). */
@Entity({ name: 'hubspot_webhook_events' })
@Unique('hubspot_webhook_events_dedupe_uq', ['portalId', 'dedupeKey'])
export class HubSpotWebhookEventEntity {
  @PrimaryGeneratedColumn({ type: 'bigint' })
  id!: string;

  @Column({ name: 'portal_id', type: 'bigint' })
  portalId!: string;

  @Column({ name: 'dedupe_key', type: 'text' })
  dedupeKey!: string;

  @Column({ name: 'event_type', type: 'text' })
  eventType!: string;

  /** Added by migration `ChannelAccounts1764320000000`: events of one key are processed in order. */
  @Column({ name: 'ordering_key', type: 'text', nullable: true })
  orderingKey!: string | null;

  @CreateDateColumn({ name: 'received_at', type: 'timestamptz' })
  receivedAt!: Date;

  @Column({ type: 'jsonb' })
  payload!: unknown;
}
