// Campaigns as JSON documents. Ongoing ones (web widget) become rules: each is a rule on
// widget.page_viewed (page address, time on the page, business hours, no conversation yet) whose
// action offers it; the first that matches is shown. One-off ones go out once, at a set time, to
// the contacts with one of the audience's labels, through a channel that can write first.
import { z } from 'zod';
import { localizedTextSchema, objectIdSchema } from './actions.ts';
import { formatPath, type Condition, type RuleError, type RuleSet } from './document.ts';

const senderSchema = z
  .union([z.object({ type: z.literal('bot') }).strict(), z.object({ type: z.literal('agent'), agentId: objectIdSchema }).strict()])
  .default({ type: 'bot' });

const ongoingCampaignSchema = z
  .object({
    kind: z.literal('ongoing').default('ongoing'),
    title: z.string().trim().min(1, 'must not be empty').max(200),
    message: localizedTextSchema,
    /** Who the message is from: the bot, or an agent of the inbox. */
    sender: senderSchema,
    enabled: z.boolean().default(true),
    triggerRules: z
      .object({
        /** Page address pattern, * for any run of characters. */
        url: z.string().trim().min(1).max(1_000).default('*'),
        /** Seconds on the page before it shows. */
        timeOnPage: z.number().int().min(0).max(86_400).default(10),
      })
      .strict()
      .default({ url: '*', timeOnPage: 10 }),
    onlyDuringBusinessHours: z.boolean().default(false),
  })
  .strict();

const oneOffCampaignSchema = z
  .object({
    kind: z.literal('one_off'),
    title: z.string().trim().min(1, 'must not be empty').max(200),
    message: localizedTextSchema,
    sender: senderSchema,
    enabled: z.boolean().default(true),
    /** When it goes out (ISO 8601 with a time zone). */
    scheduledAt: z.iso.datetime({ offset: true, message: 'must be a date and time like 2027-01-15T09:00:00+01:00' }),
    audience: z.object({ labels: z.array(z.string().trim().toLowerCase().min(1).max(64)).min(1, 'name at least one label').max(20) }).strict(),
  })
  .strict();

export const campaignSchema = z.union([oneOffCampaignSchema, ongoingCampaignSchema], {
  error: () => 'must be an ongoing campaign (triggerRules …) or a one-off one (kind "one_off", scheduledAt, audience)',
});

export type Campaign = z.output<typeof campaignSchema>;
export type OngoingCampaign = z.output<typeof ongoingCampaignSchema>;
export type OneOffCampaign = z.output<typeof oneOffCampaignSchema>;

export function parseCampaign(input: unknown): { ok: true; campaign: Campaign } | { ok: false; errors: RuleError[] } {
  // Parsed by its kind, so errors name the field of that kind rather than "no shape fits".
  const oneOff = typeof input === 'object' && input !== null && (input as { kind?: unknown }).kind === 'one_off';
  const parsed = (oneOff ? oneOffCampaignSchema : ongoingCampaignSchema).safeParse(input);
  if (parsed.success) return { ok: true, campaign: parsed.data };
  return { ok: false, errors: parsed.error.issues.map((issue) => ({ path: formatPath(issue.path), message: issue.message })) };
}

/** The campaigns of one inbox as a rule set; earlier campaigns win. */
export function campaignRuleSet(inboxId: string, campaigns: ReadonlyArray<{ id: string; campaign: OngoingCampaign }>): RuleSet {
  return {
    version: 1,
    name: 'Campaigns',
    description: 'The inbox\'s ongoing campaigns',
    enabled: true,
    inboxes: [inboxId],
    rules: campaigns
      .filter(({ campaign }) => campaign.enabled)
      .map(({ id, campaign }, index) => {
        const conditions: Condition[] = [
          { fact: 'visitor.hasConversation', operator: 'equal', value: false },
          { fact: 'visitor.pageUrl', operator: 'matchesUrlPattern', value: campaign.triggerRules.url },
          { fact: 'visitor.timeOnPage', operator: 'greaterThanInclusive', value: campaign.triggerRules.timeOnPage },
        ];
        if (campaign.onlyDuringBusinessHours) conditions.push({ fact: 'inbox.withinWorkingHours', operator: 'equal', value: true });
        return {
          id: `campaign-${id}`,
          name: campaign.title,
          on: 'widget.page_viewed' as const,
          priority: Math.max(0, 1_000 - index),
          conditions: { all: conditions },
          actions: [{ type: 'show_campaign' as const, params: { campaignId: id } }],
          stopProcessing: true,
        };
      }),
  };
}
