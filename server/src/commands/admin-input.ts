// What administrators type into settings (inboxes, agents, labels …), checked with zod before
// anything is stored. A failed check is an 'input/invalid' error naming the field.
import { z } from 'zod';
import { LOCALES } from '../db/models/account.ts';
import { invalidInput } from '../errors.ts';

/** Parses `value` with `schema`; the first problem becomes input/invalid with its field path. */
export function parseInput<T>(schema: z.ZodType<T>, value: unknown, field: string): T {
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0]!;
  const path = [field, ...issue.path.map(String)].join('.');
  throw invalidInput(path, issue.message);
}

/** An IANA time zone the runtime knows ("Europe/Madrid", "UTC"), stored in its canonical spelling. */
export const timezoneSchema = z
  .string()
  .max(64)
  .transform((name, context) => {
    try {
      return new Intl.DateTimeFormat('en-US', { timeZone: name }).resolvedOptions().timeZone;
    } catch {
      context.addIssue({ code: 'custom', message: 'is not a known IANA time zone such as Europe/Madrid' });
      return z.NEVER;
    }
  });

export const hexColorSchema = z.string().regex(/^#[0-9a-fA-F]{6}$/, 'must be a colour like #1f93ff').transform((colour) => colour.toLowerCase());

/** A host name, optionally with a leading "*." for all subdomains (allowed widget domains). */
const hostnameSchema = z
  .string()
  .trim()
  .toLowerCase()
  .max(253)
  .regex(/^(\*\.)?[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$/, 'must be a host name such as example.com or *.example.com');

export const nameSchema = (max = 100) => z.string().trim().min(1, 'must not be empty').max(max, `must be at most ${max} characters`);

export const localeSchema = z.enum(LOCALES);

// GraphQL sends an explicit null for a nullable input field the client set to null; treat it as
// "not given" so defaults and partial updates behave the same either way.
const optional = <T extends z.ZodType>(schema: T) => schema.nullish().transform((value) => value ?? undefined);
const orDefault = <T extends z.ZodType>(schema: T, fallback: z.output<T>) =>
  schema.nullish().transform((value): z.output<T> => value ?? fallback);

const MINUTES_PER_DAY = 24 * 60;
const minuteOfDay = z.number().int().min(0).max(MINUTES_PER_DAY);

const workingDaySchema = z
  .object({ closed: z.boolean(), openMinute: minuteOfDay.default(9 * 60), closeMinute: minuteOfDay.default(17 * 60) })
  .strict()
  .refine((day) => day.closed || day.openMinute < day.closeMinute, { message: 'openMinute must be before closeMinute' });

/** Inbox working hours: seven days, Sunday first, minutes from midnight in `timezone`. */
export const workingHoursSchema = z
  .object({
    enabled: z.boolean(),
    timezone: timezoneSchema,
    outOfOfficeMessage: z.string().max(1000).default(''),
    days: z.array(workingDaySchema).length(7, 'must list seven days, Sunday first'),
  })
  .strict();

const preChatFieldSchema = z.object({
  name: z.string().regex(/^[A-Za-z][A-Za-z0-9_]{0,63}$/, 'must start with a letter and use only letters, digits and _'),
  type: orDefault(z.enum(['text', 'email', 'phone', 'number']), 'text'),
  label: nameSchema(200),
  placeholder: orDefault(z.string().max(200), ''),
  enabled: orDefault(z.boolean(), true),
  required: orDefault(z.boolean(), false),
  regex: orDefault(
    z
      .string()
      .max(500)
      .refine((pattern) => {
        try {
          new RegExp(pattern);
          return true;
        } catch {
          return false;
        }
      }, 'is not a valid regular expression'),
    '',
  ),
});

/** Inbox settings as given by a client: every key optional; what is given replaces the stored value. */
export const inboxSettingsInputSchema = z
  .object({
    greeting: optional(z.object({ enabled: z.boolean(), text: z.string().max(1000, 'must be at most 1000 characters') })),
    emailCollect: optional(z.boolean()),
    emailContinuity: optional(z.boolean()),
    autoAssignment: optional(
      z.object({ enabled: z.boolean(), maxOpenPerAgent: orDefault(z.number().int().min(0, 'must be 0 or more').max(10_000), 0) }),
    ),
    csat: optional(
      z.object({
        enabled: z.boolean(),
        display: orDefault(z.enum(['emoji', 'star']), 'emoji'),
        message: orDefault(z.string().max(1000), ''),
      }),
    ),
    preChatForm: optional(
      z.object({
        enabled: z.boolean(),
        message: optional(z.string().max(1000)),
        fields: optional(z.array(preChatFieldSchema).max(20)),
      }),
    ),
    workingHours: optional(workingHoursSchema),
    allowMessagesAfterResolved: optional(z.boolean()),
    botEnabled: optional(z.boolean()),
    locale: optional(localeSchema),
    widgetColor: optional(hexColorSchema),
    replyTime: optional(z.enum(['in_a_few_minutes', 'in_a_few_hours', 'in_a_day'])),
    allowedDomains: optional(z.array(hostnameSchema).max(100)),
  })
  .strict();

export type InboxSettingsInput = z.infer<typeof inboxSettingsInputSchema>;

/**
 * The `$set` paths for a partial settings update: each given setting replaces the stored one,
 * except that inside an object setting (greeting, csat …) only the given keys change.
 */
export function settingsUpdatePaths(settings: InboxSettingsInput): Record<string, unknown> {
  const paths: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(settings)) {
    if (value === undefined) continue;
    const isObjectSetting = typeof value === 'object' && value !== null && !Array.isArray(value) && key !== 'workingHours';
    if (!isObjectSetting) {
      paths[`settings.${key}`] = value;
      continue;
    }
    for (const [innerKey, innerValue] of Object.entries(value)) {
      if (innerValue !== undefined) paths[`settings.${key}.${innerKey}`] = innerValue;
    }
  }
  return paths;
}
