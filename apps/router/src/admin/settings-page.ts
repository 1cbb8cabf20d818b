import type { FieldError, SettingsLinkParams } from '@inbox-bridge/service-kit';
import { Weekdays } from '../routing/routing-rules.js';
import type { PortalDirectory } from '../routing/routing.repository.js';
import { formList } from './settings-form.js';

const escapeHtml = (value: string): string => value.replace(/[&<>"']/g, (char) => `&#${char.charCodeAt(0)};`);

export interface SettingsPageModel {
  readonly channelAccountId: string;
  readonly accountName: string;
  /** Carried as hidden fields so the form post is authorised by the same link. */
  readonly link: SettingsLinkParams | undefined;
  readonly form: Readonly<Record<string, string | undefined>>;
  readonly errors: readonly FieldError[];
  readonly saved: boolean;
  /** The portal's users and teams, listed by name so an admin can find their ids. */
  readonly directory: PortalDirectory;
}

const dayNames = {
  mon: 'Monday',
  tue: 'Tuesday',
  wed: 'Wednesday',
  thu: 'Thursday',
  fri: 'Friday',
  sat: 'Saturday',
  sun: 'Sunday',
};

/** The settings page: one server-rendered form, errors next to their fields, no script. */
export function renderSettingsPage(model: SettingsPageModel): string {
  const value = (field: string) => escapeHtml(model.form[field] ?? '');
  const errorsOf = (field: string) =>
    model.errors
      .filter((error) => error.field === field)
      .map(
        (error) =>
          `<p class="error" role="alert" data-field="${escapeHtml(field)}">${escapeHtml(error.message)}</p>`,
      )
      .join('');
  const warningsOf = (field: string) => {
    const unknown = unknownIds(model, field);
    return unknown.length === 0
      ? ''
      : `<p class="warning" data-warning="${field}">Not in this portal's roster: ${escapeHtml(unknown.join(', '))}. Conversations for them wait until HubSpot lists them.</p>`;
  };
  const text = (field: string, label: string, hint = '') => `
    <label for="${field}">${label}</label>
    <input id="${field}" name="${field}" value="${value(field)}" aria-invalid="${model.errors.some((e) => e.field === field)}">
    ${hint === '' ? '' : `<small>${hint}</small>`}${errorsOf(field)}${warningsOf(field)}`;
  const select = (field: string, label: string, options: readonly [string, string][]) => `
    <label for="${field}">${label}</label>
    <select id="${field}" name="${field}">${options
      .map(
        ([option, caption]) =>
          `<option value="${option}"${model.form[field] === option ? ' selected' : ''}>${caption}</option>`,
      )
      .join('')}</select>${errorsOf(field)}`;
  const checkbox = (field: string, label: string) => `
    <label class="check"><input type="checkbox" id="${field}" name="${field}"${model.form[field] === 'on' ? ' checked' : ''}> ${label}</label>${errorsOf(field)}`;
  const unplaced = model.errors.filter(
    (error) =>
      ![
        'mode',
        'distribution',
        'userIds',
        'teamIds',
        'maxOpenPerAgent',
        'perUserCaps',
        'noReplyMinutes',
        'timeZone',
        'holidays',
        'outsideHours',
        'afterHoursTeamId',
        ...Weekdays.map((day) => `hours_${day}`),
      ].includes(error.field),
  );
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Routing — ${escapeHtml(model.accountName)}</title>
<style>
  body { font-family: system-ui, sans-serif; max-width: 46rem; margin: 2rem auto; padding: 0 1rem; color: #33475b; }
  fieldset { border: 1px solid #cbd6e2; border-radius: 4px; margin: 1rem 0; padding: 0.5rem 1rem 1rem; }
  label { display: block; margin-top: 0.75rem; font-weight: 600; }
  label.check { font-weight: 400; }
  input:not([type=checkbox]), select { width: 100%; padding: 0.4rem; box-sizing: border-box; }
  small { color: #516f90; }
  .error { color: #d93f4c; margin: 0.25rem 0 0; }
  .warning { color: #b36200; margin: 0.25rem 0 0; }
  table { border-collapse: collapse; width: 100%; margin-top: 0.5rem; }
  th, td { text-align: left; padding: 0.2rem 0.5rem; border-bottom: 1px solid #eaf0f6; }
  .saved { background: #e5f8f6; border: 1px solid #00bda5; padding: 0.5rem 1rem; }
  button { margin-top: 1rem; background: #ff7a59; color: #fff; border: 0; padding: 0.6rem 1.4rem; border-radius: 3px; }
</style>
</head>
<body>
<h1>Automatic assignment</h1>
<p>Channel account <strong>${escapeHtml(model.accountName)}</strong> (${escapeHtml(model.channelAccountId)})</p>
${model.saved ? '<p class="saved" role="status">Saved. New conversations follow these rules.</p>' : ''}
${model.errors.length > 0 ? `<p class="error" role="alert">Please correct the fields marked below.</p>${unplaced.map((e) => `<p class="error" role="alert" data-field="${escapeHtml(e.field)}">${escapeHtml(e.field)}: ${escapeHtml(e.message)}</p>`).join('')}` : ''}
<form method="post" action="${settingsFormAction(model.channelAccountId)}">
  ${
    model.link === undefined
      ? ''
      : (['ref', 'exp', 'sig'] as const)
          .map(
            (field) =>
              `<input type="hidden" name="${field}" value="${escapeHtml(model.link?.[field] ?? '')}">`,
          )
          .join('')
  }
  <fieldset><legend>Who gets new conversations</legend>
    ${select('mode', 'Assignment', [
      ['off', 'Off: leave unassigned'],
      ['users-and-teams', 'Specific users and teams'],
      ['contact-owner', 'Contact owner (fallback: the users and teams below)'],
    ])}
    ${text('userIds', 'Users', 'HubSpot user ids, separated by commas')}
    ${text('teamIds', 'Teams', 'HubSpot team ids, separated by commas')}
    ${select('distribution', 'Distribution', [
      ['round-robin', 'Round robin'],
      ['fewest-open', 'Fewest open conversations'],
    ])}
    ${checkbox('respectAvailability', 'Only agents who are available')}
    ${checkbox('sticky', 'Returning customers go back to the agent who handled them last')}
  </fieldset>
  ${renderDirectory(model.directory)}
  <fieldset><legend>Capacity</legend>
    ${text('maxOpenPerAgent', 'Most open conversations per agent', 'Blank for no cap; above it conversations wait in a queue')}
    ${text('perUserCaps', 'Per-agent caps', 'userId=cap, separated by commas')}
    ${text('noReplyMinutes', 'Reassign when the agent has not replied within (minutes)', 'Blank to never reassign')}
  </fieldset>
  <fieldset><legend>Business hours</legend>
    ${checkbox('businessHoursEnabled', 'Route only within business hours')}
    ${text('timeZone', 'Time zone', 'IANA name, e.g. Europe/Madrid')}
    ${Weekdays.map((day) => text(`hours_${day}`, dayNames[day], 'e.g. 09:00-13:00, 14:00-18:00; blank when closed')).join('')}
    ${text('holidays', 'Holidays', 'YYYY-MM-DD, separated by commas')}
    ${select('outsideHours', 'Outside business hours', [
      ['wait', 'Wait until opening'],
      ['after-hours-team', 'Route to an after-hours team'],
    ])}
    ${text('afterHoursTeamId', 'After-hours team id')}
  </fieldset>
  <button type="submit">Save</button>
</form>
</body>
</html>`;
}

/**
 * Relative, so the form posts back to the page's own path behind a proxy that serves the router under a
 * base path (`ROUTER_PUBLIC_URL` may have one).
 */
export const settingsFormAction = (channelAccountId: string): string =>
  `./${encodeURIComponent(channelAccountId)}`;

/** Ids a field names that the portal's roster does not have (none when the directory was cut short). */
function unknownIds(model: SettingsPageModel, field: string): string[] {
  if (!model.directory.complete) {
    return [];
  }
  const users = new Set(model.directory.users.map((user) => user.userId));
  const teams = new Set(model.directory.teams.map((team) => team.teamId));
  const value = model.form[field];
  switch (field) {
    case 'userIds':
      return formList(value).filter((id) => !users.has(id));
    case 'perUserCaps':
      return formList(value)
        .map((entry) => entry.split('=')[0] ?? '')
        .filter((id) => id !== '' && !users.has(id));
    case 'teamIds':
    case 'afterHoursTeamId':
      return formList(value).filter((id) => !teams.has(id));
    default:
      return [];
  }
}

function renderDirectory(directory: PortalDirectory): string {
  const cell = (value: string | null) => `<td>${escapeHtml(value ?? '')}</td>`;
  const users = directory.users
    .map(
      (user) =>
        `<tr>${cell(user.name)}${cell(user.email)}${cell(user.userId)}${cell(user.availability)}</tr>`,
    )
    .join('');
  const teams = directory.teams.map((team) => `<tr>${cell(team.name)}${cell(team.teamId)}</tr>`).join('');
  return `<details id="directory"${directory.users.length + directory.teams.length > 0 ? '' : ' hidden'}>
    <summary>Users and teams of this portal (${directory.users.length} users, ${directory.teams.length} teams)</summary>
    <table aria-label="Users"><thead><tr><th>Name</th><th>Email</th><th>User id</th><th>Availability</th></tr></thead><tbody>${users}</tbody></table>
    <table aria-label="Teams"><thead><tr><th>Name</th><th>Team id</th></tr></thead><tbody>${teams}</tbody></table>
  </details>`;
}

/**
 * A signed link's account the router has not heard of yet: a page that reloads itself (a meta refresh, so no
 * script is needed under the page's CSP) until the account's rules can be shown.
 */
export function renderAccountPendingPage(channelAccountId: string, retrySeconds: number): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="refresh" content="${retrySeconds}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Routing — setting up</title>
<style>body { font-family: system-ui, sans-serif; max-width: 46rem; margin: 2rem auto; padding: 0 1rem; color: #33475b; }</style>
</head>
<body>
<h1>Automatic assignment</h1>
<p role="status" data-pending="${escapeHtml(channelAccountId)}">Channel account ${escapeHtml(channelAccountId)} is still being set up. This page reloads itself in a moment.</p>
<p><small>If it keeps reloading for more than a minute, the account may have been deleted in HubSpot, or the router is not receiving the gateway's events (its operators can check its health).</small></p>
</body>
</html>
`;
}
