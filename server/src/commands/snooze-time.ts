// When a snooze option ends: 09:00 tomorrow or 09:00 next Monday on the wall clock of the agent
// who snoozed (their timezone, not the server's), or never for "until the next reply".

export type SnoozeOption = 'UNTIL_NEXT_REPLY' | 'TOMORROW' | 'NEXT_WEEK';

const WAKE_HOUR = 9;
const MONDAY = 1;

/** The wake-up time for `option`, or null when only the next incoming message ends the snooze. */
export function snoozeUntil(option: SnoozeOption, timezone: string, now: Date): Date | null {
  if (option === 'UNTIL_NEXT_REPLY') return null;
  const zone = knownTimezone(timezone);
  const today = wallClock(now, zone);
  // Days counted on a UTC calendar so month and year ends roll over correctly.
  const todayUtc = new Date(Date.UTC(today.year, today.month - 1, today.day));
  const weekday = todayUtc.getUTCDay();
  const daysAhead = option === 'TOMORROW' ? 1 : (MONDAY - weekday + 7) % 7 || 7;
  const target = new Date(todayUtc.getTime() + daysAhead * 86_400_000);
  return instantOf(target.getUTCFullYear(), target.getUTCMonth() + 1, target.getUTCDate(), WAKE_HOUR, zone);
}

/** An agent's stored timezone when the runtime knows it, else UTC (a typo must not break snoozing). */
function knownTimezone(timezone: string): string {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: timezone });
    return timezone;
  } catch {
    return 'UTC';
  }
}

interface WallClock {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
}

function wallClock(instant: Date, timezone: string): WallClock {
  const parts = new Intl.DateTimeFormat('en-US', {
    timeZone: timezone,
    hourCycle: 'h23',
    year: 'numeric',
    month: 'numeric',
    day: 'numeric',
    hour: 'numeric',
    minute: 'numeric',
    second: 'numeric',
  }).formatToParts(instant);
  const value = (type: Intl.DateTimeFormatPartTypes): number => Number(parts.find((part) => part.type === type)?.value);
  return { year: value('year'), month: value('month'), day: value('day'), hour: value('hour'), minute: value('minute'), second: value('second') };
}

/** How far `timezone` is ahead of UTC at `instant`, in milliseconds. */
function offsetAt(instant: Date, timezone: string): number {
  const clock = wallClock(instant, timezone);
  const asUtc = Date.UTC(clock.year, clock.month - 1, clock.day, clock.hour, clock.minute, clock.second);
  return asUtc - Math.floor(instant.getTime() / 1000) * 1000;
}

/** The instant at which the clock in `timezone` shows the given date at `hour`:00. */
function instantOf(year: number, month: number, day: number, hour: number, timezone: string): Date {
  const naive = Date.UTC(year, month - 1, day, hour);
  const guess = naive - offsetAt(new Date(naive), timezone);
  // A second pass corrects the guess when a daylight-saving change lies between the two instants.
  return new Date(naive - offsetAt(new Date(guess), timezone));
}
