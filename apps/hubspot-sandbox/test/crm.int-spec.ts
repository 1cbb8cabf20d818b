/* eslint-disable @typescript-eslint/no-unsafe-argument, @typescript-eslint/no-unsafe-assignment, @typescript-eslint/no-unsafe-call, @typescript-eslint/no-unsafe-member-access -- HubSpot JSON bodies are asserted with expect(), not typed */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import {
  CONTACT_ID,
  HUB_ID,
  OWNER_ID,
  SEATLESS_USER_ID,
  SandboxHarness,
  TEAM_ID,
  USER_ID,
} from './sandbox-harness.js';

const CRM_SCOPES = [
  'crm.objects.owners.read',
  'crm.objects.users.read',
  'crm.objects.users.write',
  'crm.objects.contacts.read',
  'crm.objects.contacts.write',
];

describe('owners, users, contacts (§5.3)', () => {
  let sandbox: SandboxHarness;
  let token: string;

  beforeAll(async () => {
    sandbox = await SandboxHarness.start();
  });
  afterAll(() => sandbox.stop());
  beforeEach(async () => {
    await sandbox.seed();
    token = await sandbox.token(CRM_SCOPES);
  });

  describe('owners', () => {
    it('lists owners with userId and teams, filters by email, pages, and reads by id or userId', async () => {
      await sandbox.control.seedOwner(HUB_ID, { id: '900', email: 'queue@example.com', type: 'QUEUE' });
      const list = await sandbox.request('GET', '/crm/v3/owners', { token });
      expect(list.status).toBe(200);
      expect(list.headers.get('x-hubspot-ratelimit-max')).toBe('110');
      expect(list.body.results).toHaveLength(3);
      expect(list.body.results[0]).toEqual({
        id: OWNER_ID,
        email: 'rep@example.com',
        type: 'PERSON',
        firstName: 'Rita',
        lastName: 'Rep',
        userId: USER_ID,
        userIdIncludingInactive: USER_ID,
        createdAt: expect.any(String),
        updatedAt: expect.any(String),
        archived: false,
        teams: [
          { id: TEAM_ID, name: 'Support team', primary: true },
          { id: '12', name: 'Sales team', primary: false },
        ],
      });
      expect(list.body.results[2]).toMatchObject({ id: '900', type: 'QUEUE', userId: null });

      const byEmail = await sandbox.request('GET', '/crm/owners/2026-03?email=REP@example.com', { token });
      expect(byEmail.body.results.map((owner: { id: string }) => owner.id)).toEqual([OWNER_ID]);
      const page = await sandbox.request('GET', '/crm/v3/owners?limit=2', { token });
      expect(page.body.paging.next.after).toBe('2');
      const rest = await sandbox.request('GET', `/crm/v3/owners?limit=2&after=2`, { token });
      expect(rest.body.results).toHaveLength(1);
      expect(rest.body.paging).toBeUndefined();

      expect((await sandbox.request('GET', `/crm/v3/owners/${OWNER_ID}`, { token })).body.userId).toBe(
        USER_ID,
      );
      const byUser = await sandbox.request('GET', `/crm/v3/owners/${USER_ID}?idProperty=userId`, { token });
      expect(byUser.body.id).toBe(OWNER_ID);
    });

    it('keeps userIdIncludingInactive and nulls userId for a deactivated user', async () => {
      await sandbox.control.updateUser(HUB_ID, USER_ID, { active: false });
      const owner = await sandbox.request('GET', `/crm/v3/owners/${OWNER_ID}`, { token });
      expect(owner.body).toMatchObject({ userId: null, userIdIncludingInactive: USER_ID });
    });

    it('answers 404, 400, 401 and 403 with HubSpot bodies', async () => {
      const missing = await sandbox.request('GET', '/crm/v3/owners/12345', { token });
      expect(missing.status).toBe(404);
      expect(missing.body).toMatchObject({ status: 'error', category: 'OBJECT_NOT_FOUND' });
      const badQuery = await sandbox.request('GET', '/crm/v3/owners?limit=0&colour=red', { token });
      expect(badQuery.status).toBe(400);
      expect(badQuery.body.context.propertyName.sort()).toEqual(['colour', 'limit']);
      const badIdProperty = await sandbox.request('GET', `/crm/v3/owners/1?idProperty=email`, { token });
      expect(badIdProperty.body.errors[0].code).toBe('INVALID_ENUM_VALUE');
      expect((await sandbox.request('GET', '/crm/v3/owners')).body.category).toBe('INVALID_AUTHENTICATION');
      const noScope = await sandbox.request('GET', '/crm/v3/owners', {
        token: await sandbox.token(['crm.objects.contacts.read']),
      });
      expect(noScope.status).toBe(403);
      expect(noScope.body.errors[0].context.requiredGranularScopes).toEqual(['crm.objects.owners.read']);
    });
  });

  describe('users object', () => {
    it('reads hs_availability_status by record id or hs_internal_user_id; the record id is not the user id', async () => {
      const list = await sandbox.request(
        'GET',
        '/crm/v3/objects/users?properties=hs_internal_user_id,hs_availability_status,hubspot_team_id',
        { token },
      );
      expect(list.status).toBe(200);
      const rita = list.body.results.find(
        (user: { properties: Record<string, string> }) =>
          user.properties.hs_internal_user_id === String(USER_ID),
      );
      expect(rita.id).not.toBe(String(USER_ID));
      expect(rita.properties).toEqual({
        hs_createdate: expect.any(String),
        hs_lastmodifieddate: expect.any(String),
        hs_object_id: rita.id,
        hs_internal_user_id: String(USER_ID),
        hs_availability_status: 'available',
        hubspot_team_id: TEAM_ID,
      });
      const byDefault = await sandbox.request('GET', `/crm/v3/objects/users/${rita.id}`, { token });
      expect(Object.keys(byDefault.body.properties).sort()).toEqual([
        'hs_createdate',
        'hs_lastmodifieddate',
        'hs_object_id',
      ]);
      const viewer = await sandbox.request(
        'GET',
        `/crm/v3/objects/users/${SEATLESS_USER_ID}?idProperty=hs_internal_user_id&properties=hs_availability_status`,
        { token },
      );
      expect(viewer.body.properties.hs_availability_status).toBe('away');
      expect((await sandbox.request('GET', `/crm/v3/objects/users/${USER_ID}`, { token })).status).toBe(404);
    });

    it('changes availability through the API (PATCH) and the control API, and searches by it', async () => {
      const path = `/crm/v3/objects/users/${USER_ID}?idProperty=hs_internal_user_id`;
      const patched = await sandbox.request('PATCH', path, {
        token,
        body: { properties: { hs_availability_status: 'away' } },
      });
      expect(patched.status).toBe(200);
      expect(patched.body.properties.hs_availability_status).toBe('away');
      const bad = await sandbox.request('PATCH', path, {
        token,
        body: { properties: { hs_availability_status: 'busy', hs_internal_user_id: '1', nope: 'x' } },
      });
      expect(bad.status).toBe(400);
      expect(bad.body.errors.map((error: { code: string }) => error.code).sort()).toEqual([
        'PROPERTY_DOESNT_EXIST',
        'READ_ONLY_VALUE',
      ]);
      const badOption = await sandbox.request('PATCH', path, {
        token,
        body: { properties: { hs_availability_status: 'busy' } },
      });
      expect(badOption.body.errors[0]).toMatchObject({
        code: 'INVALID_OPTION',
        context: { propertyName: ['properties.hs_availability_status'] },
      });
      const readOnly = await sandbox.request('PATCH', path, {
        token: await sandbox.token(['crm.objects.users.read']),
        body: { properties: { hs_availability_status: 'away' } },
      });
      expect(readOnly.status).toBe(403);

      await sandbox.control.updateUser(HUB_ID, USER_ID, { availability: 'available' });
      const search = await sandbox.request('POST', '/crm/v3/objects/users/search', {
        token,
        body: {
          filterGroups: [
            { filters: [{ propertyName: 'hs_availability_status', operator: 'EQ', value: 'available' }] },
          ],
          properties: ['hs_internal_user_id'],
        },
      });
      expect(search.status).toBe(200);
      expect(search.headers.get('x-hubspot-ratelimit-max')).toBeNull();
      expect(search.body.total).toBe(1);
      expect(search.body.results[0].properties.hs_internal_user_id).toBe(String(USER_ID));
    });
  });

  describe('contacts', () => {
    it('reads a contact with hubspot_owner_id, by id or email, and lists contacts', async () => {
      const contact = await sandbox.request(
        'GET',
        `/crm/v3/objects/contacts/${CONTACT_ID}?properties=hubspot_owner_id,email`,
        { token },
      );
      expect(contact.status).toBe(200);
      expect(contact.body).toEqual({
        id: CONTACT_ID,
        properties: {
          createdate: expect.any(String),
          hs_object_id: CONTACT_ID,
          lastmodifieddate: expect.any(String),
          hubspot_owner_id: OWNER_ID,
          email: 'ada@example.com',
        },
        createdAt: expect.any(String),
        updatedAt: expect.any(String),
        archived: false,
      });
      const byEmail = await sandbox.request(
        'GET',
        '/crm/v3/objects/contacts/ADA@example.com?idProperty=email',
        {
          token,
        },
      );
      expect(byEmail.body.properties).toMatchObject({ firstname: 'Ada', lastname: 'Lovelace' });
      const list = await sandbox.request('GET', '/crm/v3/objects/contacts?limit=1', { token });
      expect(list.body.results.map((item: { id: string }) => item.id)).toEqual([CONTACT_ID]);
      expect((await sandbox.request('GET', '/crm/v3/objects/contacts/999', { token })).status).toBe(404);
    });

    it('searches contacts by email, phone or owner, with HubSpot limits on filters', async () => {
      const search = (body: unknown) =>
        sandbox.request('POST', '/crm/v3/objects/contacts/search', { token, body });
      const byEmail = await search({
        filterGroups: [{ filters: [{ propertyName: 'email', operator: 'EQ', value: 'ada@example.com' }] }],
        properties: ['hubspot_owner_id'],
      });
      expect(byEmail.body).toMatchObject({ total: 1, results: [{ id: CONTACT_ID }] });
      expect(byEmail.body.results[0].properties.hubspot_owner_id).toBe(OWNER_ID);
      const none = await search({
        filterGroups: [{ filters: [{ propertyName: 'phone', operator: 'EQ', value: '+100' }] }],
      });
      expect(none.body).toEqual({ total: 0, results: [] });
      const tooMany = await search({
        filterGroups: Array.from({ length: 6 }, () => ({
          filters: [{ propertyName: 'email', operator: 'HAS_PROPERTY' }],
        })),
      });
      expect(tooMany.status).toBe(400);
      expect(tooMany.body.errors[0].context.propertyName).toEqual(['filterGroups']);
      const unknown = await search({
        filterGroups: [{ filters: [{ propertyName: 'shoe_size', operator: 'LIKE', value: '1' }] }],
        colour: 'x',
      });
      expect(unknown.body.context.propertyName.sort()).toEqual([
        'colour',
        'filterGroups.0.filters.0.operator',
      ]);
    });

    it('creates and updates contacts; hubspot_owner_id must be an owner id, not a user id', async () => {
      const created = await sandbox.request('POST', '/crm/v3/objects/contacts', {
        token,
        body: { properties: { email: 'bob@example.com', firstname: 'Bob' }, associations: [] },
      });
      expect(created.status).toBe(201);
      expect(created.body.properties).toMatchObject({
        email: 'bob@example.com',
        hs_object_id: created.body.id,
      });
      const duplicate = await sandbox.request('POST', '/crm/v3/objects/contacts', {
        token,
        body: { properties: { email: 'bob@example.com' } },
      });
      expect(duplicate.status).toBe(409);
      const wrongOwner = await sandbox.request('PATCH', `/crm/v3/objects/contacts/${created.body.id}`, {
        token,
        body: { properties: { hubspot_owner_id: String(USER_ID) } },
      });
      expect(wrongOwner.status).toBe(400);
      expect(wrongOwner.body.errors[0].code).toBe('INVALID_OPTION');
      const patched = await sandbox.request('PATCH', `/crm/v3/objects/contacts/${created.body.id}`, {
        token,
        body: { properties: { hubspot_owner_id: OWNER_ID } },
      });
      expect(patched.body.properties.hubspot_owner_id).toBe(OWNER_ID);
      const readOnlyToken = await sandbox.token(['crm.objects.contacts.read']);
      const forbidden = await sandbox.request('PATCH', `/crm/v3/objects/contacts/${created.body.id}`, {
        token: readOnlyToken,
        body: { properties: { firstname: 'B' } },
      });
      expect(forbidden.body).toMatchObject({ category: 'MISSING_SCOPES' });
    });

    it('limits search to 5 requests per second with the SECONDLY 429 and no rate-limit headers', async () => {
      const responses = await Promise.all(
        Array.from({ length: 6 }, () =>
          sandbox.request('POST', '/crm/v3/objects/contacts/search', { token, body: {} }),
        ),
      );
      const limited = responses.filter((response) => response.status === 429);
      expect(limited).toHaveLength(1);
      expect(limited[0]?.body).toMatchObject({
        errorType: 'RATE_LIMIT',
        policyName: 'SECONDLY',
        message: 'You have reached your secondly limit.',
      });
      expect(limited[0]?.headers.get('x-hubspot-ratelimit-remaining')).toBeNull();
      const calls = await sandbox.control.calls(HUB_ID);
      expect(calls.filter((call) => call.path === '/crm/v3/objects/contacts/search')).toHaveLength(6);
    });
  });
});
