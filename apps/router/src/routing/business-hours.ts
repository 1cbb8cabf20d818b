import type { BusinessHours, Weekday } from './routing-rules.js';

export interface LocalTime {
  /** Local calendar date `YYYY-MM-DD`. */
  readonly date: string;
  readonly weekday: Weekday;
  /** Local wall-clock time `HH:MM`. */
  readonly time: string;
}

const weekdayByShortName: Readonly<Record<string, Weekday>> = {
  Mon: 'mon',
  Tue: 'tue',
  Wed: 'wed',
  Thu: 'thu',
  Fri: 'fri',
  Sat: 'sat',
  Sun: 'sun',
};

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatterFor(timeZone: string): Intl.DateTimeFormat {
  let formatter = formatters.get(timeZone);
  if (formatter === undefined) {
    formatter = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      weekday: 'short',
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
    });
    formatters.set(timeZone, formatter);
  }
  return formatter;
}

/** The wall-clock date, weekday and time of `instant` in an IANA time zone (DST included, through Intl). */
export function localTimeIn(timeZone: string, instant: Date): LocalTime {
  const parts = Object.fromEntries(
    formatterFor(timeZone)
      .formatToParts(instant)
      .map((part) => [part.type, part.value]),
  );
  const weekday = weekdayByShortName[parts['weekday'] ?? ''];
  if (weekday === undefined) {
    throw new Error(`cannot read the weekday of ${instant.toISOString()} in ${timeZone}`);
  }
  return {
    date: `${parts['year'] ?? ''}-${parts['month'] ?? ''}-${parts['day'] ?? ''}`,
    weekday,
    time: `${parts['hour'] ?? ''}:${parts['minute'] ?? ''}`,
  };
}

/** Whether the inbox is open at `instant`: a weekly span contains the local time and the date is no holiday. */
export function isWithinBusinessHours(hours: BusinessHours, instant: Date): boolean {
  const local = localTimeIn(hours.timeZone, instant);
  if (hours.holidays.includes(local.date)) {
    return false;
  }
  const spans = hours.weekly[local.weekday] ?? [];
  return spans.some((span) => span.start <= local.time && local.time < span.end);
}
