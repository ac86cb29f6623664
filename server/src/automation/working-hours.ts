// Whether a moment falls inside an inbox's working hours, and the weekday and hour there.
import type { InboxFields } from '../db/models/inbox.ts';

const WEEKDAYS = ['sunday', 'monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday'] as const;
export type Weekday = (typeof WEEKDAYS)[number];

export interface LocalTime {
  weekday: Weekday;
  hour: number;
  minuteOfDay: number;
}

// Building an Intl.DateTimeFormat costs about a millisecond, formatting with one a few
// microseconds, and rules ask for the local time on every message: keep one per timezone.
const formatters = new Map<string, Intl.DateTimeFormat>();
const MAX_FORMATTERS = 500;

function formatterFor(timezone: string): Intl.DateTimeFormat {
  let formatter = formatters.get(timezone);
  if (!formatter) {
    // Throws for an unknown timezone, as before, and such a name is never kept.
    formatter = new Intl.DateTimeFormat('en-US', { timeZone: timezone, weekday: 'long', hour: 'numeric', minute: 'numeric', hourCycle: 'h23' });
    if (formatters.size >= MAX_FORMATTERS) formatters.delete(formatters.keys().next().value!);
    formatters.set(timezone, formatter);
  }
  return formatter;
}

export function localTime(moment: Date, timezone: string): LocalTime {
  const parts = formatterFor(timezone).formatToParts(moment);
  const part = (type: string): string => parts.find((item) => item.type === type)?.value ?? '';
  const hour = Number(part('hour')) % 24;
  return { weekday: part('weekday').toLowerCase() as Weekday, hour, minuteOfDay: hour * 60 + Number(part('minute')) };
}

type WorkingHours = NonNullable<NonNullable<InboxFields['settings']>['workingHours']>;

/** Always true when the inbox keeps no working hours; a day without an entry is closed. */
export function withinWorkingHours(workingHours: WorkingHours | null | undefined, moment: Date): boolean {
  if (!workingHours?.enabled) return true;
  const { weekday, minuteOfDay } = localTime(moment, workingHours.timezone ?? 'UTC');
  const day = workingHours.days?.[WEEKDAYS.indexOf(weekday)];
  if (!day || day.closed) return false;
  return minuteOfDay >= (day.openMinute ?? 0) && minuteOfDay < (day.closeMinute ?? 0);
}
