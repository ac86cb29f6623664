// Ongoing web campaigns as JSON documents, and how they become rules: each campaign is a rule on
// widget.page_viewed (page address, time on the page, business hours, no conversation yet) whose
// action offers it. The first campaign that matches is the one shown.
import { z } from 'zod';
import { localizedTextSchema, objectIdSchema } from './actions.ts';
import { formatPath, type Condition, type RuleError, type RuleSet } from './document.ts';

export const campaignSchema = z
  .object({
    title: z.string().trim().min(1, 'must not be empty').max(200),
    message: localizedTextSchema,
    /** Who the message is from: the bot, or an agent of the inbox. */
    sender: z.union([z.object({ type: z.literal('bot') }).strict(), z.object({ type: z.literal('agent'), agentId: objectIdSchema }).strict()]).default({ type: 'bot' }),
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

export type Campaign = z.output<typeof campaignSchema>;

export function parseCampaign(input: unknown): { ok: true; campaign: Campaign } | { ok: false; errors: RuleError[] } {
  const parsed = campaignSchema.safeParse(input);
  if (parsed.success) return { ok: true, campaign: parsed.data };
  return { ok: false, errors: parsed.error.issues.map((issue) => ({ path: formatPath(issue.path), message: issue.message })) };
}

/** The campaigns of one inbox as a rule set; earlier campaigns win. */
export function campaignRuleSet(inboxId: string, campaigns: ReadonlyArray<{ id: string; campaign: Campaign }>): RuleSet {
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
