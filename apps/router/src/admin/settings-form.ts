import type { FieldError } from '@inbox-bridge/service-kit';
import { routingRulesSchema, Weekdays, type RoutingRules, type Weekday } from '../routing/routing-rules.js';

/** The settings page's form fields, as the browser posts them (urlencoded, all strings). */
export type SettingsForm = Readonly<Record<string, string | undefined>>;

/** The items of a list field (commas or whitespace between them). */
export const formList = (value: string | undefined): string[] =>
  (value ?? '')
    .split(/[\s,]+/)
    .map((item) => item.trim())
    .filter((item) => item !== '');

const checked = (value: string | undefined): boolean => value === 'on' || value === 'true';

const hoursField = (day: Weekday) => `hours_${day}`;

/** `09:00-12:00, 13:00-17:00` ↔ spans; a blank day is closed. */
function parseSpans(value: string | undefined): { start: string; end: string }[] | string {
  const spans = [];
  for (const part of formList((value ?? '').replace(/\s*-\s*/g, '-'))) {
    const match = /^(\d{1,2}:\d{2})-(\d{1,2}:\d{2})$/.exec(part);
    if (match?.[1] === undefined || match[2] === undefined) {
      return `"${part}" is not a span such as 09:00-17:00`;
    }
    spans.push({ start: match[1].padStart(5, '0'), end: match[2].padStart(5, '0') });
  }
  return spans;
}

function parseNumber(value: string | undefined): number | null | string {
  const text = (value ?? '').trim();
  if (text === '') {
    return null;
  }
  const number = Number(text);
  return Number.isFinite(number) ? number : `"${text}" is not a number`;
}

/** Zod paths of the rules → the form field that shows the error. */
export function formFieldOf(path: string): string {
  const weekly = /^businessHours\.weekly\.(mon|tue|wed|thu|fri|sat|sun)/.exec(path);
  if (weekly?.[1] !== undefined) {
    return hoursField(weekly[1] as Weekday);
  }
  const map: readonly [RegExp, string][] = [
    [/^targets\.userIds/, 'userIds'],
    [/^targets\.teamIds/, 'teamIds'],
    [/^capacity\.maxOpenPerAgent/, 'maxOpenPerAgent'],
    [/^capacity\.perUser/, 'perUserCaps'],
    [/^businessHours\.timeZone/, 'timeZone'],
    [/^businessHours\.holidays/, 'holidays'],
    [/^businessHours\.outsideHours\.teamId/, 'afterHoursTeamId'],
    [/^businessHours\.outsideHours/, 'outsideHours'],
  ];
  return map.find(([pattern]) => pattern.test(path))?.[1] ?? path.split('.')[0] ?? path;
}

/** The form as rules, or the errors per form field. */
export function rulesFromForm(form: SettingsForm): { rules: RoutingRules } | { errors: FieldError[] } {
  const errors: FieldError[] = [];
  const numberOf = (field: string): number | null => {
    const parsed = parseNumber(form[field]);
    if (typeof parsed === 'string') {
      errors.push({ field, message: parsed });
      return null;
    }
    return parsed;
  };
  const perUser: Record<string, number> = {};
  for (const entry of formList(form['perUserCaps'])) {
    const [userId, cap] = entry.split('=');
    if (userId === undefined || cap === undefined || !/^\d+$/.test(cap)) {
      errors.push({ field: 'perUserCaps', message: `"${entry}" is not userId=cap` });
    } else {
      perUser[userId] = Number(cap);
    }
  }
  let businessHours: unknown = null;
  if (checked(form['businessHoursEnabled'])) {
    const weekly: Partial<Record<Weekday, { start: string; end: string }[]>> = {};
    for (const day of Weekdays) {
      const spans = parseSpans(form[hoursField(day)]);
      if (typeof spans === 'string') {
        errors.push({ field: hoursField(day), message: spans });
      } else if (spans.length > 0) {
        weekly[day] = spans;
      }
    }
    businessHours = {
      timeZone: (form['timeZone'] ?? '').trim(),
      weekly,
      holidays: formList(form['holidays']),
      outsideHours:
        form['outsideHours'] === 'after-hours-team'
          ? { action: 'after-hours-team', teamId: (form['afterHoursTeamId'] ?? '').trim() }
          : { action: 'wait' },
    };
  }
  const candidate = {
    mode: form['mode'],
    targets: { userIds: formList(form['userIds']), teamIds: formList(form['teamIds']) },
    distribution: form['distribution'],
    respectAvailability: checked(form['respectAvailability']),
    capacity: { maxOpenPerAgent: numberOf('maxOpenPerAgent'), perUser },
    businessHours,
    sticky: checked(form['sticky']),
    noReplyMinutes: numberOf('noReplyMinutes'),
  };
  const result = routingRulesSchema.safeParse(candidate);
  if (!result.success) {
    for (const issue of result.error.issues) {
      errors.push({ field: formFieldOf(issue.path.map(String).join('.')), message: issue.message });
    }
  }
  if (errors.length > 0 || !result.success) {
    return { errors };
  }
  return { rules: result.data };
}

/** The rules as form values (the page's initial state). */
export function formFromRules(rules: RoutingRules): Record<string, string> {
  const hours = rules.businessHours;
  const form: Record<string, string> = {
    mode: rules.mode,
    distribution: rules.distribution,
    userIds: rules.targets.userIds.join(', '),
    teamIds: rules.targets.teamIds.join(', '),
    maxOpenPerAgent: rules.capacity.maxOpenPerAgent === null ? '' : String(rules.capacity.maxOpenPerAgent),
    perUserCaps: Object.entries(rules.capacity.perUser)
      .map(([userId, cap]) => `${userId}=${cap}`)
      .join(', '),
    respectAvailability: rules.respectAvailability ? 'on' : '',
    sticky: rules.sticky ? 'on' : '',
    noReplyMinutes: rules.noReplyMinutes === null ? '' : String(rules.noReplyMinutes),
    businessHoursEnabled: hours === null ? '' : 'on',
    timeZone: hours?.timeZone ?? 'UTC',
    holidays: hours?.holidays.join(', ') ?? '',
    outsideHours: hours?.outsideHours.action ?? 'wait',
    afterHoursTeamId: hours?.outsideHours.action === 'after-hours-team' ? hours.outsideHours.teamId : '',
  };
  for (const day of Weekdays) {
    form[hoursField(day)] = (hours?.weekly[day] ?? []).map((span) => `${span.start}-${span.end}`).join(', ');
  }
  return form;
}
