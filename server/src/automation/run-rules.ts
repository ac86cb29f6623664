// Automation for one event: the account's compiled rules for the event and the conversation's
// inbox are evaluated on the event's facts, and each matching rule's actions run in order. One
// failing action does not stop the others; every matching rule leaves a ruleRuns record.
import { StopProcessing, type MatchedRule, type RuleIndex } from '@charla/rules';
import { isDuplicateKey } from '../db/duplicate-key.ts';
import { RuleFiring, RuleRun } from '../db/models/rule-run.ts';
import type { Actor } from '../events/actor.ts';
import type { Services } from '../services.ts';
import { completeTrigger, computeFacts, type RuleTrigger, type TriggerInput } from './facts.ts';
import { runAction } from './run-action.ts';

/** Rule actions may set off rules again this many times deep (a rule's resolve → the CSAT preset). */
export const MAX_RULE_DEPTH = 3;

/**
 * Runs the matching rules' actions (of `index`, else the account's rules); returns the rules that
 * ran, in order. The event's inbox and contact are loaded only when some rule listens.
 */
export async function runRules(services: Services, input: TriggerInput, performedBy: Actor, index?: RuleIndex): Promise<MatchedRule[]> {
  const depth = performedBy.type === 'rule' ? (performedBy.depth ?? 1) : 0;
  if (depth >= MAX_RULE_DEPTH) return [];
  const inbox = input.inbox?._id ?? input.conversation?.inboxId;
  const inboxId = inbox ? String(inbox) : null;
  index ??= await services.rules.indexFor(input.accountId);
  if (!index.hasRules(input.event, inboxId)) return [];
  const trigger = await completeTrigger(input, services.inboxes);

  const now = services.now();
  const facts = await computeFacts(trigger, index.factsNeeded(trigger.event, inboxId), now);
  const { matched } = await index.evaluate(trigger.event, inboxId, facts);
  const ran: MatchedRule[] = [];
  const stop = new StopProcessing();
  for (const match of matched) {
    if (stop.blocks(match)) continue;
    // A rule's own changes never set it off again; a rule held back by its limit does not run.
    // Neither stops the rules after it.
    if (performedBy.type === 'rule' && performedBy.ruleSetKey === match.ruleSetKey && performedBy.ruleId === match.rule.id) continue;
    if (!(await claimLimit(match, trigger, now))) continue;
    await runMatch(services, trigger, match, { type: 'rule', accountId: trigger.accountId, ruleId: match.rule.id, ruleSetKey: match.ruleSetKey, depth: depth + 1 });
    stop.ran(match);
    ran.push(match);
  }
  return ran;
}

async function runMatch(services: Services, trigger: RuleTrigger, match: MatchedRule, actor: Extract<Actor, { type: 'rule' }>): Promise<void> {
  const results: Array<{ type: string; outcome: 'done' | 'skipped' | 'failed'; detail?: string }> = [];
  for (const action of match.actions) {
    try {
      results.push({ type: action.type, ...(await runAction(services, trigger, action, actor)) });
    } catch (error) {
      const detail = error instanceof Error ? error.message : String(error);
      services.logger.warn({ ruleSet: match.ruleSetKey, rule: match.rule.id, action: action.type, err: error }, 'rule action failed');
      results.push({ type: action.type, outcome: 'failed', detail });
    }
  }
  // A campaign offered on a page view is the answer to that view, not worth a record each time.
  if (match.actions.every((action) => action.type === 'show_campaign')) return;
  await RuleRun.create({
    accountId: trigger.accountId,
    ruleSetKey: match.ruleSetKey,
    ruleId: match.rule.id,
    event: trigger.event,
    conversationId: trigger.conversation?._id ?? null,
    actions: results,
    createdAt: services.now(),
  });
}

/**
 * A rule with a limit fires once per conversation, or once within `everyMinutes`: the firing is
 * claimed atomically, so two events at the same moment fire it once.
 */
async function claimLimit(match: MatchedRule, trigger: RuleTrigger, now: Date): Promise<boolean> {
  const limit = match.rule.limit;
  if (!limit) return true;
  if (!trigger.conversation) return false;
  const key = { conversationId: trigger.conversation._id, ruleSetKey: match.ruleSetKey, ruleId: match.rule.id };
  if (limit.everyMinutes) {
    const renewed = await RuleFiring.updateOne({ ...key, firedAt: { $lte: new Date(now.getTime() - limit.everyMinutes * 60_000) } }, { $set: { firedAt: now } });
    if (renewed.modifiedCount === 1) return true;
  }
  try {
    await RuleFiring.create({ ...key, firedAt: now });
    return true;
  } catch (error) {
    if (isDuplicateKey(error)) return false;
    throw error;
  }
}
