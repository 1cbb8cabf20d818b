import { describe, expect, it } from '@jest/globals';
import { buildRoster, rosterHash } from '../../src/platform/roster/roster-snapshot.js';

describe('roster snapshot', () => {
  const owners = [
    { id: '502', userId: 78, email: 'b@example.com', firstName: 'Bo', teams: [] },
    {
      id: '501',
      userId: 77,
      email: 'a@example.com',
      firstName: 'Ada',
      lastName: 'L',
      teams: [{ id: '11', name: 'Support' }],
    },
    { id: '600', userId: null, email: 'gone@example.com', teams: [] },
    { id: '700', userId: 90, type: 'QUEUE', teams: [] },
  ];
  const users = [
    { id: 'u1', properties: { hs_internal_user_id: '77', hs_availability_status: 'away' } },
    {
      id: 'u2',
      properties: {
        hs_internal_user_id: '79',
        hs_email: 'c@example.com',
        hs_availability_status: 'available',
      },
    },
  ];

  it('joins owners (user id, teams) with users (availability), skipping inactive owners and queues', () => {
    const roster = buildRoster(owners, users);
    expect(roster.full).toBe(true);
    expect(roster.teams).toEqual([{ teamId: '11', name: 'Support' }]);
    expect(roster.users).toEqual([
      {
        userId: '77',
        ownerId: '501',
        name: 'Ada L',
        email: 'a@example.com',
        availability: 'away',
        teamIds: ['11'],
      },
      {
        userId: '78',
        ownerId: '502',
        name: 'Bo',
        email: 'b@example.com',
        availability: 'unknown',
        teamIds: [],
      },
      { userId: '79', email: 'c@example.com', availability: 'available', teamIds: [] },
    ]);
  });

  it('hashes equal rosters equally whatever HubSpot’s order', () => {
    expect(rosterHash(buildRoster([...owners].reverse(), [...users].reverse()))).toBe(
      rosterHash(buildRoster(owners, users)),
    );
    expect(rosterHash(buildRoster(owners.slice(1), users))).not.toBe(rosterHash(buildRoster(owners, users)));
  });
});
