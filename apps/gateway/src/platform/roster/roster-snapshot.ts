import type { Availability, GatewayRosterChangedV1, RosterTeam, RosterUser } from '@inbox-bridge/shared';
import { createHash } from 'node:crypto';

export interface HubSpotOwner {
  readonly id: string;
  readonly userId?: number | null;
  readonly email?: string | null;
  readonly firstName?: string | null;
  readonly lastName?: string | null;
  readonly type?: string;
  readonly archived?: boolean;
  readonly teams?: readonly { readonly id: string; readonly name: string }[] | null;
}

export interface HubSpotUserRecord {
  readonly id: string;
  readonly properties: Readonly<Record<string, string | null | undefined>>;
}

const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

function availabilityOf(value: string | null | undefined): Availability {
  return value === 'available' || value === 'away' ? value : 'unknown';
}

function nameOf(...parts: (string | null | undefined)[]): string | undefined {
  const name = parts
    .filter((part): part is string => typeof part === 'string' && part.trim() !== '')
    .join(' ')
    .trim()
    .slice(0, 1_024);
  return name === '' ? undefined : name;
}

/**
 * The router's roster from HubSpot's owners (owner id ↔ user id, teams) and users objects (availability):
 * every active person with a user id, sorted so that equal rosters hash equally.
 */
export function buildRoster(
  owners: readonly HubSpotOwner[],
  users: readonly HubSpotUserRecord[],
): GatewayRosterChangedV1 {
  const userById = new Map<string, HubSpotUserRecord>();
  for (const user of users) {
    const internalId = user.properties['hs_internal_user_id'];
    if (typeof internalId === 'string' && internalId !== '') {
      userById.set(internalId, user);
    }
  }
  const teams = new Map<string, RosterTeam>();
  const rosterUsers = new Map<string, RosterUser>();
  for (const owner of owners) {
    if (
      owner.archived === true ||
      owner.type === 'QUEUE' ||
      owner.userId === null ||
      owner.userId === undefined
    ) {
      continue;
    }
    const userId = String(owner.userId);
    const record = userById.get(userId);
    for (const team of owner.teams ?? []) {
      teams.set(team.id, { teamId: team.id, name: team.name.slice(0, 1_024) || team.id });
    }
    const email = owner.email ?? record?.properties['hs_email'] ?? undefined;
    const name =
      nameOf(owner.firstName, owner.lastName) ??
      nameOf(record?.properties['hs_given_name'], record?.properties['hs_family_name']);
    rosterUsers.set(userId, {
      userId,
      ownerId: owner.id,
      ...(name === undefined ? {} : { name }),
      ...(typeof email === 'string' && EMAIL.test(email) ? { email } : {}),
      availability: availabilityOf(record?.properties['hs_availability_status']),
      teamIds: (owner.teams ?? []).map((team) => team.id).sort(),
    });
  }
  for (const [userId, record] of userById) {
    if (rosterUsers.has(userId)) {
      continue;
    }
    const email = record.properties['hs_email'];
    const name = nameOf(record.properties['hs_given_name'], record.properties['hs_family_name']);
    rosterUsers.set(userId, {
      userId,
      ...(name === undefined ? {} : { name }),
      ...(typeof email === 'string' && EMAIL.test(email) ? { email } : {}),
      availability: availabilityOf(record.properties['hs_availability_status']),
      teamIds: [],
    });
  }
  return {
    users: [...rosterUsers.values()].sort((a, b) => a.userId.localeCompare(b.userId)),
    teams: [...teams.values()].sort((a, b) => a.teamId.localeCompare(b.teamId)),
    full: true,
  };
}

export function rosterHash(roster: GatewayRosterChangedV1): string {
  return createHash('sha256').update(JSON.stringify(roster)).digest('hex');
}
