import { RequestValidationError, SettingsLinkSigner } from '@inbox-bridge/service-kit';
import { describe, expect, it } from '@jest/globals';
import { routerAdminOpenApi } from '../src/admin/openapi.js';
import { formFieldOf, formFromRules, rulesFromForm } from '../src/admin/settings-form.js';
import { renderSettingsPage, settingsFormAction } from '../src/admin/settings-page.js';
import { isWithinBusinessHours, localTimeIn } from '../src/routing/business-hours.js';
import {
  capacityOf,
  parseRoutingRules,
  routingRulesSchema,
  type BusinessHours,
} from '../src/routing/routing-rules.js';

const hours = (overrides: Partial<BusinessHours> = {}): BusinessHours => ({
  timeZone: 'Europe/Madrid',
  weekly: {
    mon: [
      { start: '09:00', end: '14:00' },
      { start: '15:00', end: '18:00' },
    ],
  },
  holidays: [],
  outsideHours: { action: 'wait' },
  ...overrides,
});

describe('business hours (Intl, IANA zones)', () => {
  it('reads the local date, weekday and time on the other side of a date line', () => {
    // Monday 23:30 UTC is already Tuesday 08:30 in Tokyo and still Monday 13:30 in Honolulu.
    const instant = new Date('2026-11-23T23:30:00Z');
    expect(localTimeIn('Asia/Tokyo', instant)).toEqual({ date: '2026-11-24', weekday: 'tue', time: '08:30' });
    expect(localTimeIn('Pacific/Honolulu', instant)).toEqual({
      date: '2026-11-23',
      weekday: 'mon',
      time: '13:30',
    });
  });

  it('opens and closes at the local span edges, with a lunch break', () => {
    // Madrid is UTC+1 in November.
    expect(isWithinBusinessHours(hours(), new Date('2026-11-23T07:59:00Z'))).toBe(false);
    expect(isWithinBusinessHours(hours(), new Date('2026-11-23T08:00:00Z'))).toBe(true);
    expect(isWithinBusinessHours(hours(), new Date('2026-11-23T13:30:00Z'))).toBe(false);
    expect(isWithinBusinessHours(hours(), new Date('2026-11-23T14:00:00Z'))).toBe(true);
    expect(isWithinBusinessHours(hours(), new Date('2026-11-23T17:00:00Z'))).toBe(false);
    expect(isWithinBusinessHours(hours(), new Date('2026-11-24T10:00:00Z'))).toBe(false);
  });

  it('follows daylight saving time: the same UTC instant is inside hours in summer only', () => {
    const madrid = hours({ weekly: { mon: [{ start: '09:00', end: '10:00' }] } });
    expect(isWithinBusinessHours(madrid, new Date('2026-06-01T07:30:00Z'))).toBe(true); // 09:30 CEST
    expect(isWithinBusinessHours(madrid, new Date('2026-11-23T07:30:00Z'))).toBe(false); // 08:30 CET
  });

  it('closes on a holiday given as a local date, even when the UTC date differs', () => {
    const tokyo = hours({ timeZone: 'Asia/Tokyo', weekly: { tue: [{ start: '00:00', end: '24:00' }] } });
    const instant = new Date('2026-11-23T23:30:00Z');
    expect(isWithinBusinessHours(tokyo, instant)).toBe(true);
    expect(isWithinBusinessHours({ ...tokyo, holidays: ['2026-11-24'] }, instant)).toBe(false);
    expect(isWithinBusinessHours({ ...tokyo, holidays: ['2026-11-23'] }, instant)).toBe(true);
  });
});

describe('routing rules schema', () => {
  const issues = (input: unknown) => {
    const result = routingRulesSchema.safeParse(input);
    return result.success ? [] : result.error.issues.map((issue) => issue.path.join('.'));
  };

  it('fills defaults for a minimal rule', () => {
    expect(routingRulesSchema.parse({ mode: 'off' })).toEqual({
      mode: 'off',
      targets: { userIds: [], teamIds: [] },
      distribution: 'round-robin',
      respectAvailability: true,
      capacity: { maxOpenPerAgent: null, perUser: {} },
      businessHours: null,
      sticky: false,
      noReplyMinutes: null,
    });
  });

  it('names each invalid field', () => {
    expect(issues({ mode: 'users-and-teams' })).toEqual(['targets.userIds']);
    expect(issues({ mode: 'sometimes' })).toEqual(['mode']);
    expect(
      issues({
        mode: 'users-and-teams',
        targets: { userIds: ['u1', 'u1'] },
        capacity: { maxOpenPerAgent: 0 },
        noReplyMinutes: -1,
        businessHours: {
          timeZone: 'Mars/Olympus',
          weekly: { mon: [{ start: '18:00', end: '09:00' }], fri: [{ start: '9am', end: '17:00' }] },
          holidays: ['2026-02-30x'],
          outsideHours: { action: 'after-hours-team' },
        },
      }),
    ).toEqual(
      expect.arrayContaining([
        'targets.userIds',
        'capacity.maxOpenPerAgent',
        'noReplyMinutes',
        'businessHours.timeZone',
        'businessHours.weekly.mon.0.end',
        'businessHours.weekly.fri.0.start',
        'businessHours.holidays.0',
        'businessHours.outsideHours.teamId',
      ]),
    );
  });

  it('names an unknown field by its own path, next to the other invalid fields', () => {
    const errorsOf = (input: unknown) => {
      try {
        parseRoutingRules(input);
      } catch (error) {
        if (error instanceof RequestValidationError) {
          return error.errors;
        }
        throw error;
      }
      return [];
    };
    expect(
      errorsOf({
        mode: 'off',
        colour: 'blue',
        targets: { groups: ['g1'], userIds: [] },
        businessHours: { timeZone: 'UTC', weekly: { mon: [{ start: '09:00', end: '17:00', lunch: 1 }] } },
      }),
    ).toEqual(
      expect.arrayContaining([
        { field: 'colour', message: 'is not a known field' },
        { field: 'targets.groups', message: 'is not a known field' },
        { field: 'businessHours.weekly.mon.0.lunch', message: 'is not a known field' },
      ]),
    );
    expect(errorsOf({ mode: 'sometimes', sticky: 'yes' }).map((error) => error.field)).toEqual([
      'mode',
      'sticky',
    ]);
    expect(errorsOf([])).toEqual([{ field: '(body)', message: expect.any(String) }]);
    expect(parseRoutingRules({ mode: 'off' })).toMatchObject({ mode: 'off' });
  });

  it('takes a per-user cap over the default', () => {
    const rules = routingRulesSchema.parse({
      mode: 'off',
      capacity: { maxOpenPerAgent: 3, perUser: { u9: 1 } },
    });
    expect(capacityOf(rules, 'u9')).toBe(1);
    expect(capacityOf(rules, 'u1')).toBe(3);
  });
});

describe('settings form', () => {
  it('round-trips rules through the form', () => {
    const rules = routingRulesSchema.parse({
      mode: 'contact-owner',
      targets: { userIds: ['u1', 'u2'], teamIds: ['t1'] },
      distribution: 'fewest-open',
      capacity: { maxOpenPerAgent: 4, perUser: { u2: 2 } },
      sticky: true,
      noReplyMinutes: 15,
      businessHours: {
        timeZone: 'America/New_York',
        weekly: {
          mon: [
            { start: '09:00', end: '12:00' },
            { start: '13:00', end: '17:00' },
          ],
        },
        holidays: ['2026-12-25'],
        outsideHours: { action: 'after-hours-team', teamId: 't9' },
      },
    });
    expect(rulesFromForm(formFromRules(rules))).toEqual({ rules });
  });

  it('documents every field the page posts in the OpenAPI document', () => {
    const rules = routingRulesSchema.parse({
      mode: 'off',
      businessHours: { timeZone: 'UTC', weekly: {}, outsideHours: { action: 'wait' } },
    });
    const document = routerAdminOpenApi() as {
      paths: Record<
        string,
        { post?: { requestBody: { content: Record<string, { schema: { properties: object } }> } } }
      >;
    };
    const posted =
      document.paths['/settings/{channelAccountId}']?.post?.requestBody.content[
        'application/x-www-form-urlencoded'
      ]?.schema.properties;
    expect(Object.keys(posted ?? {})).toEqual(
      expect.arrayContaining([...Object.keys(formFromRules(rules)), 'ref', 'exp', 'sig']),
    );
  });

  it('maps errors to the form field that shows them', () => {
    const result = rulesFromForm({
      mode: 'users-and-teams',
      distribution: 'round-robin',
      maxOpenPerAgent: 'many',
      businessHoursEnabled: 'on',
      timeZone: 'Nowhere/City',
      hours_tue: '9-5',
      outsideHours: 'wait',
    });
    expect('errors' in result && result.errors.map((error) => error.field).sort()).toEqual([
      'hours_tue',
      'maxOpenPerAgent',
      'timeZone',
      'userIds',
    ]);
    expect(formFieldOf('businessHours.weekly.sat.1.end')).toBe('hours_sat');
  });
});

describe('settings page', () => {
  const directory = {
    users: [
      { userId: 'u1', name: 'Ana <b>Uno</b>', email: 'ana@example.com', availability: 'available' },
      { userId: 'u2', name: null, email: null, availability: 'away' },
    ],
    teams: [{ teamId: 't1', name: 'Support' }],
    complete: true,
  };
  const page = (form: Record<string, string>, complete = true) =>
    renderSettingsPage({
      channelAccountId: 'ca/7',
      accountName: 'Bot',
      link: undefined,
      form,
      errors: [],
      saved: false,
      directory: { ...directory, complete },
    });
  const warnings = (html: string) =>
    [...html.matchAll(/data-warning="(\w+)">Not in this portal's roster: ([^.]*)\./g)].map(
      ([, field, ids]) => `${field}: ${ids}`,
    );

  it('lists the portal users and teams by name, escaped', () => {
    const html = page({ mode: 'off' });
    expect(html).toContain('Ana &#60;b&#62;Uno&#60;/b&#62;');
    expect(html).toContain('ana@example.com');
    expect(html).toContain('<td>Support</td><td>t1</td>');
  });

  it('warns about ids the roster does not have, in each field that names users or teams', () => {
    const html = page({
      userIds: 'u1, u9',
      teamIds: 't1 t8',
      perUserCaps: 'u2=1, u7=2',
      afterHoursTeamId: 't6',
    });
    expect(warnings(html)).toEqual(['userIds: u9', 'teamIds: t8', 'perUserCaps: u7', 'afterHoursTeamId: t6']);
    expect(warnings(page({ userIds: 'u1', teamIds: 't1', perUserCaps: 'u2=1' }))).toEqual([]);
    // A directory cut at its limit proves nothing missing.
    expect(warnings(page({ userIds: 'u9' }, false))).toEqual([]);
  });

  it('posts back to its own path, also under a base path', () => {
    expect(page({}).match(/<form method="post" action="([^"]+)">/)?.[1]).toBe(settingsFormAction('ca/7'));
    const opened = 'https://router.example.com/base/settings/ca%2F7?ref=1%3Aca%2F7&exp=1&sig=x';
    expect(new URL(settingsFormAction('ca/7'), opened).pathname).toBe('/base/settings/ca%2F7');
  });
});

describe('settings links', () => {
  let now = 1_000_000;
  const signer = new SettingsLinkSigner('a-settings-link-secret-of-32-chars!!', () => now);

  it('verifies a fresh link and names its portal and channel account', () => {
    const link = signer.sign(42, 'ca-7', 60_000);
    expect(signer.verify(link)).toEqual({ ok: true, portalId: 42, channelAccountId: 'ca-7' });
    const url = new URL(signer.url('https://router.example.com/base/', 42, 'ca-7', 60_000));
    expect(url.pathname).toBe('/base/settings/ca-7');
    expect(signer.verify(Object.fromEntries(url.searchParams))).toMatchObject({ ok: true });
  });

  it('refuses an expired, re-targeted, forged or incomplete link', () => {
    const link = signer.sign(42, 'ca-7', 60_000);
    now += 60_001;
    expect(signer.verify(link)).toEqual({ ok: false, reason: 'EXPIRED' });
    now -= 60_001;
    expect(signer.verify({ ...link, ref: '43:ca-7' })).toEqual({ ok: false, reason: 'BAD_SIGNATURE' });
    expect(signer.verify({ ...link, exp: String(Number(link.exp) + 1) })).toEqual({
      ok: false,
      reason: 'BAD_SIGNATURE',
    });
    expect(new SettingsLinkSigner('another-secret-of-at-least-32-chars!', () => now).verify(link)).toEqual({
      ok: false,
      reason: 'BAD_SIGNATURE',
    });
    expect(signer.verify({ ref: link.ref, exp: link.exp })).toEqual({ ok: false, reason: 'MISSING' });
  });
});
