// Dry-run of a rule-set document: which rules would match a sample event, why the others would
// not, and the actions that would run — against a real conversation (and message) of the
// account, sample facts, or both (sample facts win). Nothing is changed.
import { RuleIndex, FACTS, withStopProcessing, type FactName, type FactValues, type RuleEvent, type RuleExplanation, type RuleSet } from '@charla/rules';
import type { Types } from 'mongoose';
import type { InboxDirectory } from '../db/inbox-directory.ts';
import { Conversation, type ConversationFields } from '../db/models/conversation.ts';
import { Message, type MessageFields } from '../db/models/message.ts';
import type { Stored } from '../events/event-map.ts';
import { invalidInput, notFound } from '../errors.ts';
import { completeTrigger, computeFacts } from './facts.ts';

export interface DryRunProps {
  accountId: Types.ObjectId;
  ruleSet: RuleSet;
  event: RuleEvent;
  conversationId?: Types.ObjectId;
  messageId?: Types.ObjectId;
  facts?: Record<string, unknown>;
  now: Date;
  inboxes: InboxDirectory;
}

export interface DryRunResult {
  /** False when the rule set names inboxes and the sample conversation is in none of them. */
  appliesToInbox: boolean;
  rules: RuleExplanation[];
  actions: Array<{ ruleId: string; type: string; params: unknown }>;
}

export async function dryRunRuleSet(props: DryRunProps): Promise<DryRunResult> {
  const overrides = checkedFacts(props.facts ?? {});
  let conversation: Stored<ConversationFields> | null = null;
  let message: Stored<MessageFields> | null = null;
  if (props.conversationId) {
    conversation = (await Conversation.findOne({ _id: props.conversationId, accountId: props.accountId }).lean()) as Stored<ConversationFields> | null;
    if (!conversation) throw notFound('conversation');
  }
  if (props.messageId) {
    if (!conversation) throw invalidInput('event.messageId', 'give the conversationId of the message too');
    message = (await Message.findOne({ _id: props.messageId, conversationId: conversation._id }).lean()) as Stored<MessageFields> | null;
    if (!message) throw notFound('message');
  }
  // Every inbox, so the rules are explained even for a sample outside the set's inboxes.
  const index = new RuleIndex([{ key: 'dry-run', ruleSet: { ...props.ruleSet, inboxes: ['*'] } }]);
  const needed = [...index.factsNeeded(props.event, null)].filter((fact) => !(fact in overrides));
  const trigger = await completeTrigger({ event: props.event, accountId: props.accountId, conversation, message, contact: null }, props.inboxes);
  const computed = conversation ? await computeFacts(trigger, needed, props.now) : {};
  const evaluation = await index.evaluate(props.event, null, { ...computed, ...overrides }, { explain: true });
  const inboxes = props.ruleSet.inboxes;
  return {
    appliesToInbox: inboxes.includes('*') || !conversation || inboxes.includes(String(conversation.inboxId)),
    rules: evaluation.explanations ?? [],
    actions: withStopProcessing(evaluation.matched).flatMap((match) => match.actions.map((action) => ({ ruleId: match.rule.id, type: action.type, params: action.params }))),
  };
}

function checkedFacts(facts: Record<string, unknown>): FactValues {
  if (typeof facts !== 'object' || facts === null || Array.isArray(facts)) throw invalidInput('event.facts', 'must be an object of fact values');
  for (const name of Object.keys(facts)) {
    if (!Object.hasOwn(FACTS, name)) throw invalidInput(`event.facts.${name}`, 'is not a fact of the vocabulary');
  }
  return facts as Partial<Record<FactName, unknown>>;
}
