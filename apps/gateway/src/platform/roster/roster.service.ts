import { Messaging } from '@inbox-bridge/messaging';
import { APP_CONFIG, DATA_SOURCE } from '@inbox-bridge/service-kit';
import { RoutingKeys } from '@inbox-bridge/shared';
import { Inject, Injectable, Logger } from '@nestjs/common';
import type { DataSource } from 'typeorm';
import type { GatewayConfig } from '../../config/gateway.config.js';
import { HUBSPOT_API, type HubSpotApi, type PortalHubSpotClient } from '../../hubspot/hubspot-api.js';
import { buildRoster, rosterHash, type HubSpotOwner, type HubSpotUserRecord } from './roster-snapshot.js';

interface Page<T> {
  readonly results: readonly T[];
  readonly paging?: { readonly next?: { readonly after?: string } };
}

const USER_PROPERTIES = 'hs_internal_user_id,hs_availability_status,hs_email,hs_given_name,hs_family_name';
const MAX_PAGES = 100;

/**
 * Reads each portal's owners and users and publishes `gateway.roster.changed.v1` (a full snapshot) when it
 * differs from the last one published. Portals are claimed with `SKIP LOCKED` and a `checked_at` stamp, so
 * each is read by one replica per interval.
 */
@Injectable()
export class RosterService {
  private readonly logger = new Logger('Roster');

  constructor(
    @Inject(APP_CONFIG) private readonly config: GatewayConfig,
    @Inject(DATA_SOURCE) private readonly dataSource: DataSource,
    @Inject(HUBSPOT_API) private readonly hubspot: HubSpotApi,
    private readonly messaging: Messaging,
  ) {}

  /** Reads the roster now; publishes only when it changed (or `force` and nothing was ever published). */
  async refreshPortal(
    portalId: string,
    options: { force?: boolean } = {},
  ): Promise<'published' | 'unchanged'> {
    const client = this.hubspot.forPortal(portalId);
    const owners = await this.readAll<HubSpotOwner>(client, '/crm/v3/owners', { limit: 100 });
    const users = await this.readAll<HubSpotUserRecord>(client, '/crm/v3/objects/users', {
      limit: 100,
      properties: USER_PROPERTIES,
    });
    const roster = buildRoster(owners, users);
    const hash = rosterHash(roster);
    const schema = this.config.DATABASE_SCHEMA;
    const outcome = await this.dataSource.transaction(async (manager) => {
      await manager.query(
        `INSERT INTO "${schema}".roster_snapshots (portal_id) VALUES ($1) ON CONFLICT (portal_id) DO NOTHING`,
        [portalId],
      );
      const [row] = await manager.query<{ snapshot_hash: string | null }[]>(
        `SELECT snapshot_hash FROM "${schema}".roster_snapshots WHERE portal_id = $1 FOR UPDATE`,
        [portalId],
      );
      if (row?.snapshot_hash === hash && options.force !== true) {
        await manager.query(
          `UPDATE "${schema}".roster_snapshots SET checked_at = clock_timestamp() WHERE portal_id = $1`,
          [portalId],
        );
        return 'unchanged' as const;
      }
      if (row?.snapshot_hash === hash) {
        return 'unchanged' as const;
      }
      await this.messaging.outbox.publish(manager, RoutingKeys.GatewayRosterChangedV1, roster, {
        portalId: Number(portalId),
      });
      await manager.query(
        `UPDATE "${schema}".roster_snapshots
            SET snapshot_hash = $2, checked_at = clock_timestamp(), published_at = clock_timestamp()
          WHERE portal_id = $1`,
        [portalId, hash],
      );
      return 'published' as const;
    });
    this.logger.log(
      { portalId, outcome, users: roster.users.length, teams: roster.teams.length },
      'roster read',
    );
    return outcome;
  }

  /** Claims the connected portals not read for `intervalMs` and reads them. */
  async refreshDue(intervalMs: number, limit = 10): Promise<number> {
    const schema = this.config.DATABASE_SCHEMA;
    const claimed = await this.dataSource.transaction(async (manager) => {
      const due: { portal_id: string }[] = await manager.query(
        `SELECT r.portal_id::text AS portal_id
           FROM "${schema}".roster_snapshots r
           JOIN "${schema}".hubspot_portals p ON p.portal_id = r.portal_id AND p.status = 'connected'
          WHERE r.checked_at IS NULL
             OR r.checked_at < clock_timestamp() - make_interval(secs => $1::double precision / 1000)
          ORDER BY r.checked_at NULLS FIRST
          LIMIT $2
          FOR UPDATE OF r SKIP LOCKED`,
        [intervalMs, limit],
      );
      if (due.length > 0) {
        await manager.query(
          `UPDATE "${schema}".roster_snapshots SET checked_at = clock_timestamp() WHERE portal_id = ANY($1::bigint[])`,
          [due.map((row) => row.portal_id)],
        );
      }
      return due.map((row) => row.portal_id);
    });
    for (const portalId of claimed) {
      try {
        await this.refreshPortal(portalId);
      } catch (error) {
        this.logger.warn(
          { portalId, error: (error as Error).message },
          'roster read failed; next interval retries',
        );
      }
    }
    return claimed.length;
  }

  private async readAll<T>(
    client: PortalHubSpotClient,
    path: string,
    query: Record<string, string | number>,
  ): Promise<T[]> {
    const results: T[] = [];
    let after: string | undefined;
    for (let page = 0; page < MAX_PAGES; page += 1) {
      const response = await client.request<Page<T>>({
        method: 'GET',
        path,
        query: { ...query, ...(after === undefined ? {} : { after }) },
      });
      results.push(...response.body.results);
      after = response.body.paging?.next?.after;
      if (after === undefined) {
        break;
      }
    }
    return results;
  }
}
