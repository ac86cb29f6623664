// Agenda job 'rules.run-scheduled': a rule on schedule meets each open, pending or snoozed
// conversation of its inboxes, the longest idle first, in pages, up to MAX_CONVERSATIONS_PER_RUN
// a run. Idempotent enough to repeat: a rule that changed or went away cancels its own job.
import { RuleIndex, type Rule, type RuleSet } from '@charla/rules';
import { Types } from 'mongoose';
import { runRules } from '../automation/run-rules.ts';
import { Conversation, type ConversationFields } from '../db/models/conversation.ts';
import { RuleSetModel } from '../db/models/rule-set.ts';
import type { Stored } from '../events/event-map.ts';
import type { Services } from '../services.ts';
import { JOB_NAMES } from './scheduler.ts';

/** Bounds one run's work: the longest idle conversations come first, the rest wait for the next run. */
export const MAX_CONVERSATIONS_PER_RUN = 10_000;
const PAGE_SIZE = 500;
const ACTIVE_STATUSES = ['open', 'pending', 'snoozed'] as const;

export interface ScheduledRuleData {
  ruleSetId: string;
  ruleId: string;
  /** The timetable the job was made for; a rule saved with another one has its own job. */
  cron: string;
  timezone: string;
}

/** Schedules the rule set's scheduled rules and cancels those `previous` had that it has no more. */
export async function syncRuleSchedules(services: Services, ruleSetId: Types.ObjectId, previous: RuleSet | null, current: RuleSet | null): Promise<void> {
  const jobsOf = (document: RuleSet | null): ScheduledRuleData[] =>
    document?.enabled
      ? document.rules.flatMap((rule) => (rule.on === 'schedule' && rule.schedule ? [{ ruleSetId: String(ruleSetId), ruleId: rule.id, ...rule.schedule }] : []))
      : [];
  const wanted = jobsOf(current);
  const key = (job: ScheduledRuleData) => JSON.stringify([job.ruleId, job.cron, job.timezone]);
  const kept = new Set(wanted.map(key));
  for (const job of jobsOf(previous)) if (!kept.has(key(job))) await services.scheduler.cancel(JOB_NAMES.runScheduledRule, { ...job });
  for (const job of wanted) await services.scheduler.scheduleRepeating(JOB_NAMES.runScheduledRule, job.cron, job.timezone, { ...job });
}

export async function runScheduledRule(services: Services, data: ScheduledRuleData): Promise<void> {
  const stored = Types.ObjectId.isValid(data.ruleSetId) ? await RuleSetModel.findById(data.ruleSetId).lean() : null;
  const document = stored?.document as RuleSet | undefined;
  const rule = document?.enabled ? document.rules.find((candidate) => candidate.id === data.ruleId) : undefined;
  if (!stored || !document || !rule || !sameSchedule(rule, data)) {
    await services.scheduler.cancel(JOB_NAMES.runScheduledRule, { ...data });
    return;
  }
  const index = new RuleIndex([{ key: String(stored._id), ruleSet: { ...document, rules: [rule] } }]);
  const inboxIds = document.inboxes.includes('*') ? null : document.inboxes.map((id) => new Types.ObjectId(id));
  const filter = { accountId: stored.accountId, status: { $in: ACTIVE_STATUSES }, ...(inboxIds && { inboxId: { $in: inboxIds } }) };
  const performedBy = { type: 'system' as const, accountId: stored.accountId };
  let seen = 0;
  let after: Pick<ConversationFields, 'lastActivityAt'> & { _id: Types.ObjectId } | undefined;
  while (seen < MAX_CONVERSATIONS_PER_RUN) {
    // Keyset pages on (lastActivityAt, _id): what the rule changes cannot make a page skip or repeat one.
    const page = (await Conversation.find(
      after ? { ...filter, $or: [{ lastActivityAt: { $gt: after.lastActivityAt } }, { lastActivityAt: after.lastActivityAt, _id: { $gt: after._id } }] } : filter,
    )
      .sort({ lastActivityAt: 1, _id: 1 })
      .limit(Math.min(PAGE_SIZE, MAX_CONVERSATIONS_PER_RUN - seen))
      .lean()) as Array<Stored<ConversationFields>>;
    for (const conversation of page) {
      await runRules(services, { event: 'schedule', accountId: stored.accountId, conversation, message: null, contact: null }, performedBy, index);
    }
    seen += page.length;
    if (page.length < PAGE_SIZE) break;
    after = page[page.length - 1];
  }
  services.logger.info({ ruleSetId: data.ruleSetId, ruleId: data.ruleId, conversations: seen }, 'scheduled rule ran');
}

function sameSchedule(rule: Rule, data: ScheduledRuleData): boolean {
  return rule.on === 'schedule' && rule.schedule?.cron === data.cron && rule.schedule.timezone === data.timezone;
}

export function defineRunScheduledRuleJob(services: Services): void {
  services.scheduler.define<ScheduledRuleData>(JOB_NAMES.runScheduledRule, (data) => runScheduledRule(services, data));
}
