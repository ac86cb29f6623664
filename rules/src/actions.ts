// The actions a rule can take, each with the zod schema of its params. The server runs every one
// through the same command a person's action goes through.
import { z } from 'zod';
import { CONVERSATION_EVENTS, type RuleEvent } from './vocabulary.ts';

// Stored ids are lower case; one pasted in capitals means the same record.
export const objectIdSchema = z
  .string()
  .regex(/^[0-9a-f]{24}$/i, 'must be an id (24 hexadecimal characters)')
  .transform((id) => id.toLowerCase());

export const LOCALES = ['en', 'es'] as const;
export type RuleLocale = (typeof LOCALES)[number];

const MAX_TEXT = 10_000;

/** Text for every locale, or one text for all: `"Hola"` or `{ "en": "Hello", "es": "Hola" }`. */
export const localizedTextSchema = z.union([
  z.string().min(1, 'must not be empty').max(MAX_TEXT),
  z
    .object({ en: z.string().max(MAX_TEXT).optional(), es: z.string().max(MAX_TEXT).optional() })
    .strict()
    .refine((text) => Boolean(text.en || text.es), 'needs a text for at least one locale (en or es)'),
]);
export type LocalizedText = z.infer<typeof localizedTextSchema>;

const labelSchema = z.string().trim().toLowerCase().min(1).max(64);
const none = z.object({}).strict();

export const ACTIONS = {
  send_message: {
    description: 'post a message to the contact: a template (the bot) or an outgoing message from an agent; {{contact.name}}-style variables',
    params: z
      .object({
        text: localizedTextSchema,
        messageType: z.enum(['template', 'outgoing']).default('template'),
        /** For outgoing messages: the agent who signs it. */
        agentId: objectIdSchema.optional(),
      })
      .strict()
      .refine((params) => params.messageType !== 'outgoing' || params.agentId, { message: 'an outgoing message needs agentId', path: ['agentId'] }),
  },
  request_email: { description: 'ask the contact for an e-mail address ("Give the team a way to reach you." and the e-mail field)', params: none },
  send_csat: { description: 'post the satisfaction survey (once per conversation)', params: none },
  assign_agent: {
    description: 'assign an agent by id, or the next online member in round-robin order',
    params: z.union([z.object({ agentId: objectIdSchema }).strict(), z.object({ roundRobin: z.literal(true) }).strict()]),
  },
  assign_team: { description: 'assign a team (null unassigns)', params: z.object({ teamId: objectIdSchema.nullable() }).strict() },
  add_label: { description: 'add labels', params: z.object({ labels: z.array(labelSchema).min(1).max(20) }).strict() },
  remove_label: { description: 'remove labels', params: z.object({ labels: z.array(labelSchema).min(1).max(20) }).strict() },
  change_status: {
    description: 'set the status; snoozed takes "snooze" (until_next_reply, tomorrow, next_week) or "snoozeMinutes"',
    params: z
      .object({
        status: z.enum(['open', 'pending', 'snoozed', 'resolved']),
        snooze: z.enum(['until_next_reply', 'tomorrow', 'next_week']).optional(),
        snoozeMinutes: z.number().int().min(1).max(60 * 24 * 365).optional(),
      })
      .strict()
      .refine((params) => params.status === 'snoozed' || (params.snooze === undefined && params.snoozeMinutes === undefined), {
        message: 'snooze and snoozeMinutes are only for status snoozed',
      })
      .refine((params) => params.snooze === undefined || params.snoozeMinutes === undefined, { message: 'give snooze or snoozeMinutes, not both' }),
  },
  handoff: { description: 'hand a pending conversation to the team: open it, notify the inbox\'s agents, auto-assign', params: none },
  mute: { description: 'mute the conversation (resolves it; new messages do not reopen it)', params: none },
  add_private_note: { description: 'write a private note for the team', params: z.object({ text: localizedTextSchema }).strict() },
  set_priority: { description: 'set the priority', params: z.object({ priority: z.enum(['none', 'low', 'medium', 'high', 'urgent']) }).strict() },
  send_transcript: {
    description: 'e-mail the transcript to the contact, the assignee or an address',
    params: z
      .object({ to: z.enum(['contact', 'assignee']).optional(), email: z.email().max(254).optional() })
      .strict()
      .refine((params) => Boolean(params.to) !== Boolean(params.email), { message: 'give either "to" or "email"' }),
  },
  show_campaign: {
    description: 'offer the visitor a campaign: its message appears above the launcher (campaigns compile to this; widget.page_viewed only)',
    params: z.object({ campaignId: objectIdSchema }).strict(),
    events: ['widget.page_viewed'],
  },
  send_webhook: {
    description: 'POST the event as JSON to an address (http or https), signed with the rule set\'s webhook secret (X-Charla-Signature)',
    params: z
      .object({
        url: z
          .url({ protocol: /^https?$/, message: 'must be an http or https address' })
          .max(2048),
      })
      .strict(),
  },
} as const satisfies Record<string, { description: string; params: z.ZodType; events?: readonly RuleEvent[] }>;

export type ActionType = keyof typeof ACTIONS;
export const ACTION_TYPES = Object.keys(ACTIONS) as ActionType[];
export type ActionParams<T extends ActionType> = z.output<(typeof ACTIONS)[T]['params']>;

/** An action as it leaves the rules package: type and checked params. */
export type RuleAction = { [T in ActionType]: { type: T; params: ActionParams<T> } }[ActionType];

/** The events whose rules may take the action: those with a conversation unless it says otherwise. */
export function eventsOfAction(type: ActionType): readonly RuleEvent[] {
  const action = ACTIONS[type] as { events?: readonly RuleEvent[] };
  return action.events ?? CONVERSATION_EVENTS;
}
