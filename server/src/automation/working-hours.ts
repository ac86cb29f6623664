// Whether a moment falls inside an inbox's working hours, and the weekday and hour there.
import type { InboxFields } from '../db/models/inbox.ts';

const WEEKDAYS = ['sunday', 'monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday'] as const;
export type Weekday = (typeof WEEKDAYS)[number];

export interface LocalTime {
  weekday: Weekday;
  hour: number;
  minuteOfDay: number;
}

export function localTime(moment: Date, timezone: string): LocalTime {
  const parts = new Intl.DateTimeFormat('en-US', { timeZone: timezone, weekday: 'long', hour: 'numeric', minute: 'numeric', hourCycle: 'h23' }).formatToParts(moment);
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
