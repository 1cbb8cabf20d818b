import { APP_CONFIG, DATA_SOURCE, SecretBox, SharedReads } from '@inbox-bridge/service-kit';
import {
  deliveryIdentifierSchema,
  providerCredentialsSchema,
  type DeliveryIdentifier,
  type Provider,
  type ProviderCredentials,
} from '@inbox-bridge/shared';
import { Inject, Injectable } from '@nestjs/common';
import type { DataSource, EntityManager } from 'typeorm';
import type { ConnectorConfig } from '../config/connector.config.js';
import type { ConnectedAccount } from '../providers/provider-port.js';

/** Decrypted account secrets kept in memory at most (two per account). */
const OPENED_SECRETS_KEPT = 2_000;

/** Pending credentials are kept this long for the popup to finish the connection. */
export const PENDING_CREDENTIALS_TTL_MS = 60 * 60 * 1000;

interface AccountRow {
  readonly channel_account_id: string;
  readonly portal_id: string;
  readonly provider: Provider;
  readonly credentials: string | null;
  readonly webhook_secret: string | null;
  readonly active: boolean;
  readonly authorized: boolean;
}

interface PendingRow {
  readonly provider: Provider;
  readonly credentials: string;
  readonly delivery_identifier: unknown;
}

/** One account's inbound comparison, claimed by this replica: the span [from, until) it should compare. */
export interface InboundCheckClaim {
  readonly channelAccountId: string;
  readonly from: Date;
  readonly until: Date;
  /** The provider's last webhook delivery failure already acted on (`recordWebhookErrorSeen`). */
  readonly webhookErrorSeenAt: Date | undefined;
}

export interface PendingCredentials {
  readonly provider: Provider;
  readonly credentials: ProviderCredentials;
  readonly deliveryIdentifier: DeliveryIdentifier;
}

/** TypeORM answers UPDATE/DELETE … RETURNING on PostgreSQL with `[rows, affectedCount]`. */
function returnedRows<T>(result: unknown): T[] {
  if (
    Array.isArray(result) &&
    result.length === 2 &&
    Array.isArray(result[0]) &&
    typeof result[1] === 'number'
  ) {
    return result[0] as T[];
  }
  return result as T[];
}

/** AAD binding a ciphertext to its table, row and column: a value copied elsewhere no longer decrypts. */
const aad = {
  pending: (requestId: string, portalId: number) =>
    `connector.pending_credentials|${requestId}|${portalId}|credentials`,
  credentials: (channelAccountId: string) => `connector.channel_accounts|${channelAccountId}|credentials`,
  webhookSecret: (channelAccountId: string) =>
    `connector.channel_accounts|${channelAccountId}|webhook_secret`,
};

/**
 * Channel accounts and pending credentials, secrets encrypted with the service's SecretBox (AES-256-GCM, key
 * ring from ENCRYPTION_KEYS). The only place that reads or writes those tables.
 */
@Injectable()
export class ChannelAccountRepository {
  private readonly box: SecretBox;
  private readonly schema: string;

  /** Lookups in flight outside a transaction, by account. */
  private readonly reading = new SharedReads<string, ConnectedAccount | undefined>();
  /** Decrypted stored secrets by AAD and ciphertext: a changed secret is a new ciphertext, so none goes stale. */
  private readonly opened = new Map<string, string>();

  constructor(
    @Inject(APP_CONFIG) config: ConnectorConfig,
    @Inject(DATA_SOURCE) private readonly dataSource: DataSource,
  ) {
    this.box = SecretBox.fromConfig(config);
    this.schema = config.DATABASE_SCHEMA;
  }

  /** Decrypts a stored secret of an account, once per ciphertext (every webhook of the account needs it). */
  private open(ciphertext: string, additionalData: string): string {
    const key = `${additionalData}\n${ciphertext}`;
    let plaintext = this.opened.get(key);
    if (plaintext === undefined) {
      plaintext = this.box.decrypt(ciphertext, additionalData);
      if (this.opened.size >= OPENED_SECRETS_KEPT) {
        this.opened.clear();
      }
      this.opened.set(key, plaintext);
    }
    return plaintext;
  }

  /**
   * Parks checked credentials for the portal's popup; false, storing nothing, when the request id holds pending
   * credentials of another portal.
   */
  async savePending(
    manager: EntityManager,
    pending: { requestId: string; portalId: number } & Omit<PendingCredentials, 'provider'>,
  ): Promise<boolean> {
    const { requestId, portalId, credentials, deliveryIdentifier } = pending;
    const rows: unknown[] = await manager.query(
      `INSERT INTO "${this.schema}".pending_credentials
         (request_id, portal_id, provider, credentials, delivery_identifier, expires_at)
       VALUES ($1, $2, $3, $4, $5::jsonb, now() + make_interval(secs => $6))
       ON CONFLICT (request_id) DO UPDATE
         SET provider = EXCLUDED.provider, credentials = EXCLUDED.credentials,
             delivery_identifier = EXCLUDED.delivery_identifier, expires_at = EXCLUDED.expires_at
         WHERE pending_credentials.portal_id = EXCLUDED.portal_id
       RETURNING request_id`,
      [
        requestId,
        portalId,
        credentials.provider,
        this.box.encrypt(JSON.stringify(credentials), aad.pending(requestId, portalId)),
        JSON.stringify(deliveryIdentifier),
        PENDING_CREDENTIALS_TTL_MS / 1000,
      ],
    );
    await manager.query(`DELETE FROM "${this.schema}".pending_credentials WHERE expires_at < now()`);
    return rows.length > 0;
  }

  /** The portal that pending credentials were checked for, expired or not; undefined when there are none. */
  pendingPortalOf(manager: EntityManager, requestId: string): Promise<number | undefined> {
    return this.portalOfRow(manager, 'pending_credentials', 'request_id', requestId);
  }

  /** Removes and returns the portal's unexpired pending credentials; another portal's are left as they are. */
  async takePending(
    manager: EntityManager,
    requestId: string,
    portalId: number,
  ): Promise<PendingCredentials | undefined> {
    const rows = returnedRows<PendingRow & { fresh: boolean }>(
      await manager.query(
        `DELETE FROM "${this.schema}".pending_credentials WHERE request_id = $1 AND portal_id = $2
         RETURNING provider, credentials, delivery_identifier, expires_at >= now() AS fresh`,
        [requestId, portalId],
      ),
    );
    const row = rows[0];
    if (row === undefined || !row.fresh) {
      return undefined;
    }
    return {
      provider: row.provider,
      credentials: providerCredentialsSchema.parse(
        JSON.parse(this.box.decrypt(row.credentials, aad.pending(requestId, portalId))),
      ),
      deliveryIdentifier: deliveryIdentifierSchema.parse(row.delivery_identifier),
    };
  }

  async upsertAccount(
    manager: EntityManager,
    account: {
      channelAccountId: string;
      portalId: number;
      provider: Provider;
      credentials: ProviderCredentials;
      webhookSecret: string;
      deliveryIdentifier: DeliveryIdentifier | undefined;
    },
  ): Promise<void> {
    const id = account.channelAccountId;
    await manager.query(
      `INSERT INTO "${this.schema}".channel_accounts
         (channel_account_id, portal_id, provider, credentials, webhook_secret, delivery_identifier)
       VALUES ($1, $2, $3, $4, $5, $6::jsonb)
       ON CONFLICT (channel_account_id) DO UPDATE
         SET portal_id = EXCLUDED.portal_id, provider = EXCLUDED.provider, credentials = EXCLUDED.credentials,
             webhook_secret = EXCLUDED.webhook_secret, delivery_identifier = EXCLUDED.delivery_identifier,
             active = true, authorized = true, updated_at = now()`,
      [
        id,
        account.portalId,
        account.provider,
        this.box.encrypt(JSON.stringify(account.credentials), aad.credentials(id)),
        this.box.encrypt(account.webhookSecret, aad.webhookSecret(id)),
        account.deliveryIdentifier === undefined ? null : JSON.stringify(account.deliveryIdentifier),
      ],
    );
  }

  /** The portal of the account's row (with or without credentials), or undefined when there is none. */
  portalOf(manager: EntityManager, channelAccountId: string): Promise<number | undefined> {
    return this.portalOfRow(manager, 'channel_accounts', 'channel_account_id', channelAccountId);
  }

  private async portalOfRow(
    manager: EntityManager,
    table: 'channel_accounts' | 'pending_credentials',
    keyColumn: 'channel_account_id' | 'request_id',
    key: string,
  ): Promise<number | undefined> {
    const rows: { portal_id: string }[] = await manager.query(
      `SELECT portal_id FROM "${this.schema}".${table} WHERE ${keyColumn} = $1`,
      [key],
    );
    return rows[0] === undefined ? undefined : Number(rows[0].portal_id);
  }

  /** The address the account was connected with (the bot, the number); undefined when none was recorded. */
  async deliveryIdentifierOf(
    manager: EntityManager,
    channelAccountId: string,
  ): Promise<DeliveryIdentifier | undefined> {
    const rows: { delivery_identifier: unknown }[] = await manager.query(
      `SELECT delivery_identifier FROM "${this.schema}".channel_accounts WHERE channel_account_id = $1`,
      [channelAccountId],
    );
    const stored = rows[0]?.delivery_identifier;
    return stored === undefined || stored === null ? undefined : deliveryIdentifierSchema.parse(stored);
  }

  /**
   * The account of `provider` connected with this address (a Twilio number), for webhooks whose URL names no
   * account. One at most: the gateway connects an address once (`oneAccountPerAddress`).
   */
  async channelAccountIdOfAddress(provider: Provider, address: string): Promise<string | undefined> {
    const rows: { channel_account_id: string }[] = await this.dataSource.manager.query(
      `SELECT channel_account_id FROM "${this.schema}".channel_accounts
        WHERE provider = $1 AND delivery_identifier->>'value' = $2
        ORDER BY created_at DESC LIMIT 1`,
      [provider, address],
    );
    return rows[0]?.channel_account_id;
  }

  /** New credentials for an existing account (re-validated from the popup); the webhook secret stays. */
  async replaceCredentials(
    manager: EntityManager,
    channelAccountId: string,
    credentials: ProviderCredentials,
  ): Promise<void> {
    await manager.query(
      `UPDATE "${this.schema}".channel_accounts SET credentials = $2, updated_at = now() WHERE channel_account_id = $1`,
      [channelAccountId, this.box.encrypt(JSON.stringify(credentials), aad.credentials(channelAccountId))],
    );
  }

  async setFlags(
    manager: EntityManager,
    channelAccountId: string,
    flags: { active?: boolean | undefined; authorized?: boolean | undefined },
  ): Promise<boolean> {
    const rows = returnedRows<unknown>(
      await manager.query(
        `UPDATE "${this.schema}".channel_accounts
            SET active = COALESCE($2, active), authorized = COALESCE($3, authorized), updated_at = now()
          WHERE channel_account_id = $1 RETURNING channel_account_id`,
        [channelAccountId, flags.active ?? null, flags.authorized ?? null],
      ),
    );
    return rows.length > 0;
  }

  /**
   * Marks the account's credentials as refused by its provider; `true` only for the call that changed it (so
   * concurrent replies of one account that all met the refusal report it once).
   */
  async deauthorize(manager: EntityManager, channelAccountId: string): Promise<boolean> {
    const rows = returnedRows<unknown>(
      await manager.query(
        `UPDATE "${this.schema}".channel_accounts SET authorized = false, updated_at = now()
          WHERE channel_account_id = $1 AND authorized RETURNING channel_account_id`,
        [channelAccountId],
      ),
    );
    return rows.length > 0;
  }

  /**
   * Claims, for this replica, the inbound comparison of up to `limit` active, authorized accounts of these
   * providers not claimed within `intervalMs`; each comes with the span it should compare next, up to the
   * database's clock less `settleMs`, and from no earlier than a day inside `lookBackMs` (the dedupe keys'
   * retention: older ones are gone, and what they marked as received would be published again).
   */
  async claimInboundChecks(
    providers: readonly Provider[],
    { intervalMs, settleMs, lookBackMs }: { intervalMs: number; settleMs: number; lookBackMs: number },
    limit: number,
  ): Promise<InboundCheckClaim[]> {
    const rows = returnedRows<{
      channel_account_id: string;
      checked_until: Date;
      until: Date;
      webhook_error_seen_at: Date | null;
    }>(
      await this.dataSource.query(
        `UPDATE "${this.schema}".channel_accounts a SET inbound_check_claimed_at = now()
          WHERE a.channel_account_id IN (
            SELECT channel_account_id FROM "${this.schema}".channel_accounts
             WHERE provider = ANY($1) AND active AND authorized AND credentials IS NOT NULL
               AND (inbound_check_claimed_at IS NULL
                    OR inbound_check_claimed_at <= now() - make_interval(secs => $2::float8 / 1000))
             ORDER BY inbound_check_claimed_at NULLS FIRST
             LIMIT $4 FOR UPDATE SKIP LOCKED)
          RETURNING a.channel_account_id,
                    greatest(a.inbound_checked_until,
                             now() - make_interval(secs => $5::float8 / 1000) + interval '1 day') AS checked_until,
                    now() - make_interval(secs => $3::float8 / 1000) AS until, a.webhook_error_seen_at`,
        [providers, intervalMs, settleMs, limit, lookBackMs],
      ),
    );
    return rows.map((row) => ({
      channelAccountId: row.channel_account_id,
      from: new Date(row.checked_until),
      until: new Date(row.until),
      webhookErrorSeenAt:
        row.webhook_error_seen_at === null ? undefined : new Date(row.webhook_error_seen_at),
    }));
  }

  /**
   * Locks the account's row until the caller's transaction ends, so setting its provider webhook up and purging it
   * never interleave (the purge takes the same lock before removing the webhook). Answers whether it is still there,
   * active and authorized.
   */
  async lockForWebhook(manager: EntityManager, channelAccountId: string): Promise<boolean> {
    const rows: { connected: boolean }[] = await manager.query(
      `SELECT active AND authorized AS connected FROM "${this.schema}".channel_accounts
        WHERE channel_account_id = $1 FOR UPDATE`,
      [channelAccountId],
    );
    return rows[0]?.connected === true;
  }

  async recordWebhookErrorSeen(channelAccountId: string, at: Date): Promise<void> {
    await this.dataSource.query(
      `UPDATE "${this.schema}".channel_accounts SET webhook_error_seen_at = $2 WHERE channel_account_id = $1`,
      [channelAccountId, at],
    );
  }

  /** The account's inbound messages are compared up to `until`; never moves the mark back. */
  async markInboundChecked(channelAccountId: string, until: Date): Promise<void> {
    await this.dataSource.query(
      `UPDATE "${this.schema}".channel_accounts SET inbound_checked_until = greatest(inbound_checked_until, $2)
        WHERE channel_account_id = $1`,
      [channelAccountId, until],
    );
  }

  /** Deletes the account, its secrets and its message bookkeeping. */
  async purge(manager: EntityManager, channelAccountId: string): Promise<void> {
    for (const table of [
      'inbound_messages',
      'outbound_messages',
      'parked_status_reports',
      'reply_parts_sent',
      'reply_message_parts',
      'moved_conversations',
      'channel_accounts',
    ]) {
      await manager.query(`DELETE FROM "${this.schema}".${table} WHERE channel_account_id = $1`, [
        channelAccountId,
      ]);
    }
  }

  /**
   * The account, or undefined. Outside a transaction, concurrent lookups of one account (a burst of its webhooks)
   * share the read in flight: each sees the row as of a moment after it arrived or just before, never older.
   */
  find(channelAccountId: string, manager?: EntityManager): Promise<ConnectedAccount | undefined> {
    if (manager !== undefined) {
      return this.read(channelAccountId, manager);
    }
    return this.reading.read(channelAccountId, () => this.read(channelAccountId, this.dataSource.manager));
  }

  private async read(
    channelAccountId: string,
    manager: EntityManager,
  ): Promise<ConnectedAccount | undefined> {
    const rows: AccountRow[] = await manager.query(
      `SELECT channel_account_id, portal_id, provider, credentials, webhook_secret, active, authorized
         FROM "${this.schema}".channel_accounts WHERE channel_account_id = $1`,
      [channelAccountId],
    );
    const row = rows[0];
    if (row?.credentials === undefined || row.credentials === null) {
      return undefined;
    }
    const id = row.channel_account_id;
    return {
      channelAccountId: id,
      portalId: Number(row.portal_id),
      provider: row.provider,
      credentials: providerCredentialsSchema.parse(
        JSON.parse(this.open(row.credentials, aad.credentials(id))),
      ),
      webhookSecret:
        row.webhook_secret === null ? undefined : this.open(row.webhook_secret, aad.webhookSecret(id)),
      active: row.active,
      authorized: row.authorized,
    };
  }
}
