import type { SecretBox } from '@inbox-bridge/service-kit';
import { Logger } from '@nestjs/common';
import type { DataSource, EntityManager } from 'typeorm';
import { HubSpotApiError } from './hubspot-api.js';
import type { HubSpotOAuthClient, TokenResponse } from './hubspot-oauth.client.js';
import type { HubSpotMetrics } from './hubspot.metrics.js';

interface PortalTokenRow {
  readonly status: 'connected' | 'disconnected';
  readonly access_token: string;
  readonly refresh_token: string;
  readonly expires_in_ms: number | string;
}

interface CachedToken {
  readonly token: string;
  readonly expiresAt: number;
}

/** Whether the app is installed in a portal and its tokens are usable (`disconnected`: a refresh was refused). */
export type PortalInstallation = 'connected' | 'disconnected' | 'not-installed';

/** Access tokens closer than this to expiry are refreshed before use. */
const MIN_REMAINING_MS = 60_000;

export interface InstalledPortal {
  readonly portalId: string;
  readonly tokens: TokenResponse;
  readonly scopes: readonly string[];
  readonly hubDomain?: string | null | undefined;
  readonly userId?: number | null | undefined;
}

/**
 * Each portal's OAuth tokens, encrypted at rest (SecretBox, AAD `hubspot_portals|<portal>|<column>`). A
 * refresh runs under the portal row's lock, so exactly one replica refreshes and the others read its result;
 * a refresh token HubSpot rejects marks the portal disconnected (its calls then fail retryably until it is
 * installed again).
 */
export class PortalTokens {
  private readonly logger = new Logger('PortalTokens');
  private readonly cache = new Map<string, CachedToken>();

  constructor(
    private readonly dataSource: DataSource,
    private readonly schema: string,
    private readonly secrets: SecretBox,
    private readonly oauth: HubSpotOAuthClient,
    private readonly metrics: HubSpotMetrics,
    private readonly now: () => number = Date.now,
  ) {}

  /** A usable access token for the portal; refreshes it first when it is about to expire. */
  async accessToken(portalId: string): Promise<string> {
    const cached = this.cache.get(portalId);
    if (cached !== undefined && cached.expiresAt - this.now() > MIN_REMAINING_MS) {
      return cached.token;
    }
    const row = await this.read(this.dataSource.manager, portalId, false);
    if (Number(row.expires_in_ms) > MIN_REMAINING_MS) {
      return this.remember(portalId, this.decrypt(portalId, 'access_token', row.access_token), row);
    }
    return this.refresh(portalId);
  }

  /**
   * Refreshes under the portal row's lock. `staleToken`: the token that was just refused (401); if another
   * replica already replaced it, its new token is used without a second refresh.
   */
  async refresh(portalId: string, staleToken?: string): Promise<string> {
    this.cache.delete(portalId);
    const outcome = await this.dataSource.transaction(async (manager) => {
      const row = await this.read(manager, portalId, true);
      const current = this.decrypt(portalId, 'access_token', row.access_token);
      const stillFresh = Number(row.expires_in_ms) > MIN_REMAINING_MS;
      if (stillFresh && staleToken !== undefined && current !== staleToken) {
        return { token: current, row };
      }
      if (stillFresh && staleToken === undefined) {
        return { token: current, row };
      }
      return { token: await this.refreshLocked(manager, portalId, row), row: undefined };
    });
    if (outcome.token instanceof HubSpotApiError) {
      throw outcome.token;
    }
    if (outcome.row !== undefined) {
      return this.remember(portalId, outcome.token, outcome.row);
    }
    return outcome.token;
  }

  /**
   * Refreshes every connected portal whose token expires within `leadMs`, skipping rows another replica is
   * refreshing right now. Returns how many were refreshed.
   */
  async refreshExpiring(leadMs: number, limit = 20): Promise<number> {
    return this.dataSource.transaction(async (manager) => {
      const due: { portal_id: string }[] = await manager.query(
        `SELECT portal_id::text AS portal_id FROM "${this.schema}".hubspot_portals
          WHERE status = 'connected'
            AND access_token_expires_at < clock_timestamp() + make_interval(secs => $1::double precision / 1000)
          ORDER BY access_token_expires_at
          LIMIT $2
          FOR UPDATE SKIP LOCKED`,
        [leadMs, limit],
      );
      let refreshed = 0;
      for (const { portal_id: portalId } of due) {
        const row = await this.read(manager, portalId, false);
        try {
          if (typeof (await this.refreshLocked(manager, portalId, row)) === 'string') {
            refreshed += 1;
          }
        } catch (error) {
          if (!(error instanceof HubSpotApiError)) {
            throw error;
          }
        }
      }
      return refreshed;
    });
  }

  /** Stores a new installation (or a re-installation, which reconnects a disconnected portal). */
  async install(manager: EntityManager, portal: InstalledPortal): Promise<void> {
    const { portalId, tokens } = portal;
    await manager.query(
      `INSERT INTO "${this.schema}".hubspot_portals
         (portal_id, status, access_token, refresh_token, access_token_expires_at, scopes, hub_domain,
          installed_by_user_id, installed_at, updated_at)
       VALUES ($1, 'connected', $2, $3, clock_timestamp() + make_interval(secs => $4), $5, $6, $7,
               clock_timestamp(), clock_timestamp())
       ON CONFLICT (portal_id) DO UPDATE SET
         status = 'connected', access_token = EXCLUDED.access_token, refresh_token = EXCLUDED.refresh_token,
         access_token_expires_at = EXCLUDED.access_token_expires_at, scopes = EXCLUDED.scopes,
         hub_domain = EXCLUDED.hub_domain, installed_by_user_id = EXCLUDED.installed_by_user_id,
         updated_at = clock_timestamp(), disconnected_at = NULL, disconnected_reason = NULL`,
      [
        portalId,
        this.secrets.encrypt(tokens.access_token, this.aad(portalId, 'access_token')),
        this.secrets.encrypt(tokens.refresh_token, this.aad(portalId, 'refresh_token')),
        tokens.expires_in,
        portal.scopes,
        portal.hubDomain ?? null,
        portal.userId ?? null,
      ],
    );
    this.cache.delete(portalId);
  }

  async installation(portalId: string): Promise<PortalInstallation> {
    const rows: { status: 'connected' | 'disconnected' }[] = await this.dataSource.query(
      `SELECT status FROM "${this.schema}".hubspot_portals WHERE portal_id = $1`,
      [portalId],
    );
    return rows[0]?.status ?? 'not-installed';
  }

  /** Forget the in-memory token (tests and re-installs on other replicas converge through expiry). */
  forget(portalId: string): void {
    this.cache.delete(portalId);
  }

  /**
   * Refreshes with the row locked by the caller's transaction. A rejected refresh token is returned (not
   * thrown) as the disconnected error, so the caller's transaction commits the disconnection.
   */
  private async refreshLocked(
    manager: EntityManager,
    portalId: string,
    row: PortalTokenRow,
  ): Promise<string | HubSpotApiError> {
    let tokens: TokenResponse;
    try {
      tokens = await this.oauth.refresh(this.decrypt(portalId, 'refresh_token', row.refresh_token));
    } catch (error) {
      if (error instanceof HubSpotApiError && !error.details.retryable) {
        this.metrics.tokenRefreshFailures.inc({ reason: 'rejected' });
        this.metrics.portalsDisconnected.inc();
        const reason = `refresh token rejected: ${error.details.category ?? error.details.status ?? 'unknown'}`;
        await manager.query(
          `UPDATE "${this.schema}".hubspot_portals
              SET status = 'disconnected', disconnected_at = clock_timestamp(), disconnected_reason = $2,
                  updated_at = clock_timestamp()
            WHERE portal_id = $1`,
          [portalId, reason],
        );
        this.logger.error(
          { portalId, category: error.details.category, status: error.details.status },
          'HubSpot rejected the refresh token: portal disconnected until the app is installed again',
        );
        return this.disconnectedError(portalId);
      }
      this.metrics.tokenRefreshFailures.inc({ reason: 'unavailable' });
      this.logger.warn({ portalId, error: (error as Error).message }, 'token refresh failed; will retry');
      throw error;
    }
    await manager.query(
      `UPDATE "${this.schema}".hubspot_portals
          SET access_token = $2, refresh_token = $3,
              access_token_expires_at = clock_timestamp() + make_interval(secs => $4),
              updated_at = clock_timestamp()
        WHERE portal_id = $1`,
      [
        portalId,
        this.secrets.encrypt(tokens.access_token, this.aad(portalId, 'access_token')),
        this.secrets.encrypt(tokens.refresh_token, this.aad(portalId, 'refresh_token')),
        tokens.expires_in,
      ],
    );
    this.cache.set(portalId, {
      token: tokens.access_token,
      expiresAt: this.now() + tokens.expires_in * 1000,
    });
    return tokens.access_token;
  }

  private async read(manager: EntityManager, portalId: string, lock: boolean): Promise<PortalTokenRow> {
    const rows: PortalTokenRow[] = await manager.query(
      `SELECT status, access_token, refresh_token,
              extract(epoch FROM access_token_expires_at - clock_timestamp()) * 1000 AS expires_in_ms
         FROM "${this.schema}".hubspot_portals WHERE portal_id = $1${lock ? ' FOR UPDATE' : ''}`,
      [portalId],
    );
    const row = rows[0];
    if (row?.status !== 'connected') {
      throw this.disconnectedError(portalId, row === undefined ? 'not installed' : 'disconnected');
    }
    return row;
  }

  private remember(portalId: string, token: string, row: PortalTokenRow): string {
    this.cache.set(portalId, { token, expiresAt: this.now() + Number(row.expires_in_ms) });
    return token;
  }

  private decrypt(portalId: string, column: 'access_token' | 'refresh_token', value: string): string {
    return this.secrets.decrypt(value, this.aad(portalId, column));
  }

  private aad(portalId: string, column: string): string {
    return `hubspot_portals|${portalId}|${column}`;
  }

  private disconnectedError(portalId: string, state = 'disconnected'): HubSpotApiError {
    return new HubSpotApiError(`HubSpot portal ${portalId} is ${state}: install the app again`, {
      retryable: true,
      portalDisconnected: true,
      category: 'PORTAL_DISCONNECTED',
    });
  }
}
