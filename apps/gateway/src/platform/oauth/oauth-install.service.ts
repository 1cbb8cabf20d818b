import { APP_CONFIG, DATA_SOURCE, DomainError } from '@inbox-bridge/service-kit';
import { Inject, Injectable, Logger } from '@nestjs/common';
import { createHash, randomBytes } from 'node:crypto';
import type { DataSource } from 'typeorm';
import type { GatewayConfig } from '../../config/gateway.config.js';
import { HubSpotOAuthClient } from '../../hubspot/hubspot-oauth.client.js';
import { PortalTokens } from '../../hubspot/portal-tokens.js';

/** The scopes of hubspot-api.md §4.4, requested on install. */
export const INSTALL_SCOPES = [
  'conversations.custom_channels.read',
  'conversations.custom_channels.write',
  'conversations.read',
  'conversations.write',
  'files',
  'crm.objects.contacts.read',
  'crm.objects.contacts.write',
  'crm.objects.owners.read',
  'crm.objects.users.read',
  'tickets',
] as const;

const STATE_TTL_SECONDS = 600;

export type InstallErrorCode = 'INVALID_STATE' | 'INSTALL_DENIED' | 'MISSING_CODE';

export class InstallError extends DomainError<InstallErrorCode> {}

function hashState(state: string): string {
  return createHash('sha256').update(state, 'utf8').digest('hex');
}

/**
 * The OAuth install (hubspot-api.md §4): a single-use, expiring CSRF `state` (only its hash is stored), the
 * code exchange, the portal's identity from the token, and the encrypted tokens. Re-installing a
 * disconnected portal reconnects it.
 */
@Injectable()
export class OAuthInstallService {
  private readonly logger = new Logger('OAuthInstall');

  constructor(
    @Inject(APP_CONFIG) private readonly config: GatewayConfig,
    @Inject(DATA_SOURCE) private readonly dataSource: DataSource,
    private readonly oauth: HubSpotOAuthClient,
    private readonly tokens: PortalTokens,
  ) {}

  /** HubSpot's authorize URL with a fresh state. */
  async authorizeUrl(redirectUri: string): Promise<string> {
    const state = randomBytes(32).toString('base64url');
    await this.dataSource.query(
      `INSERT INTO "${this.config.DATABASE_SCHEMA}".oauth_states (state_hash, expires_at)
       VALUES ($1, clock_timestamp() + make_interval(secs => $2))`,
      [hashState(state), STATE_TTL_SECONDS],
    );
    await this.dataSource.query(
      `DELETE FROM "${this.config.DATABASE_SCHEMA}".oauth_states WHERE expires_at < clock_timestamp() - interval '1 day'`,
    );
    const url = new URL('/oauth/authorize', this.config.HUBSPOT_AUTHORIZE_BASE_URL);
    url.searchParams.set('client_id', this.config.HUBSPOT_CLIENT_ID);
    url.searchParams.set('redirect_uri', redirectUri);
    url.searchParams.set('scope', INSTALL_SCOPES.join(' '));
    url.searchParams.set('state', state);
    return url.toString();
  }

  /** Consumes the state, exchanges the code and stores the portal's tokens; returns the portal id. */
  async complete(query: {
    code?: string | undefined;
    state?: string | undefined;
    error?: string | undefined;
    redirectUri: string;
  }): Promise<{ portalId: string; reinstalled: boolean }> {
    if (query.state === undefined || query.state === '' || !(await this.consumeState(query.state))) {
      throw new InstallError(
        'INVALID_STATE',
        'state is missing, unknown, used or expired: start the install again',
        {
          httpStatus: 400,
        },
      );
    }
    if (query.error !== undefined) {
      throw new InstallError('INSTALL_DENIED', `HubSpot did not grant access (${query.error})`, {
        httpStatus: 400,
      });
    }
    if (query.code === undefined || query.code === '') {
      throw new InstallError('MISSING_CODE', 'code is missing', { httpStatus: 400 });
    }
    const tokens = await this.oauth.exchangeCode(query.code, query.redirectUri);
    const info = await this.oauth.tokenInfo(tokens.access_token);
    const portalId = String(info.hub_id);
    const reinstalled = await this.dataSource.transaction(async (manager) => {
      const existing: { status: string }[] = await manager.query(
        `SELECT status FROM "${this.config.DATABASE_SCHEMA}".hubspot_portals WHERE portal_id = $1 FOR UPDATE`,
        [portalId],
      );
      await this.tokens.install(manager, {
        portalId,
        tokens,
        scopes: info.scopes,
        hubDomain: info.hub_domain,
        userId: info.user_id,
      });
      await manager.query(
        `INSERT INTO "${this.config.DATABASE_SCHEMA}".roster_snapshots (portal_id) VALUES ($1)
         ON CONFLICT (portal_id) DO UPDATE SET checked_at = NULL`,
        [portalId],
      );
      return existing.length > 0;
    });
    this.logger.log({ portalId, reinstalled, scopes: info.scopes.length }, 'HubSpot portal installed');
    return { portalId, reinstalled };
  }

  private async consumeState(state: string): Promise<boolean> {
    const [rows]: [unknown[], number] = await this.dataSource.query(
      `DELETE FROM "${this.config.DATABASE_SCHEMA}".oauth_states
        WHERE state_hash = $1 AND expires_at > clock_timestamp() RETURNING state_hash`,
      [hashState(state)],
    );
    return rows.length === 1;
  }
}
