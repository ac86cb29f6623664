// Creates or replaces a rule set from its JSON document. The document is checked first (errors
// name the JSON path, code rules/invalid); nothing is stored unless all of it is right. Every save
// is kept as a new version.
import { parseRuleSet, type RuleError, type RuleSet } from '@charla/rules';
import { Types } from 'mongoose';
import { isDuplicateKey } from '../db/duplicate-key.ts';
import { Inbox } from '../db/models/inbox.ts';
import { Label } from '../db/models/label.ts';
import { Team } from '../db/models/team.ts';
import { User } from '../db/models/user.ts';
import { newWebhookSecret, RuleSetModel, RuleSetVersion, type RuleSetDoc } from '../db/models/rule-set.ts';
import type { AgentActor } from '../events/actor.ts';
import { AppError, notFound } from '../errors.ts';
import { syncRuleSchedules } from '../jobs/run-scheduled-rule.ts';
import type { Services } from '../services.ts';

export interface SaveRuleSetProps {
  accountId: Types.ObjectId;
  /** Absent: a new rule set. */
  ruleSetId?: Types.ObjectId;
  /** The document: an object, or its JSON text. */
  json: unknown;
  performedBy: AgentActor;
}

export function invalidRuleSet(errors: RuleError[]): AppError {
  const first = errors[0]!;
  return new AppError('rules/invalid', `${first.path || 'document'}: ${first.message}`, { errors });
}

/** A reference from the document to a record of the account, with where it stands. */
interface Reference {
  kind: 'inbox' | 'team' | 'agent' | 'label';
  value: string;
  path: string;
}

function referencesOf(ruleSet: RuleSet): Reference[] {
  const references: Reference[] = ruleSet.inboxes.flatMap((inbox, index) => (inbox === '*' ? [] : [{ kind: 'inbox' as const, value: inbox, path: `inboxes[${index}]` }]));
  ruleSet.rules.forEach((rule, ruleIndex) =>
    rule.actions.forEach((action, actionIndex) => {
      const path = `rules[${ruleIndex}].actions[${actionIndex}].params`;
      if (action.type === 'assign_team' && action.params.teamId) references.push({ kind: 'team', value: action.params.teamId, path: `${path}.teamId` });
      if (action.type === 'assign_agent' && 'agentId' in action.params) references.push({ kind: 'agent', value: action.params.agentId, path: `${path}.agentId` });
      if (action.type === 'send_message' && action.params.agentId) references.push({ kind: 'agent', value: action.params.agentId, path: `${path}.agentId` });
      if (action.type === 'add_label') action.params.labels.forEach((label, index) => references.push({ kind: 'label', value: label, path: `${path}.labels[${index}]` }));
    }),
  );
  return references;
}

/**
 * A checked document whose inboxes, teams, agents and added labels exist in the account — a rule
 * that names something that is not there would otherwise fail quietly on every event.
 */
export async function checkedRuleSet(accountId: Types.ObjectId, json: unknown): Promise<RuleSet> {
  const parsed = parseRuleSet(json);
  if (!parsed.ok) throw invalidRuleSet(parsed.errors);
  const references = referencesOf(parsed.ruleSet);
  const wanted = (kind: Reference['kind']) => [...new Set(references.filter((reference) => reference.kind === kind).map((reference) => reference.value))];
  const [inboxes, teams, agents, labels] = await Promise.all([
    Inbox.find({ _id: { $in: wanted('inbox') }, accountId }, { _id: 1 }).lean(),
    Team.find({ _id: { $in: wanted('team') }, accountId }, { _id: 1 }).lean(),
    User.find({ _id: { $in: wanted('agent') }, accountId }, { _id: 1 }).lean(),
    Label.find({ title: { $in: wanted('label') }, accountId }, { title: 1 }).lean(),
  ]);
  const known = {
    inbox: new Set(inboxes.map((inbox) => String(inbox._id))),
    team: new Set(teams.map((team) => String(team._id))),
    agent: new Set(agents.map((agent) => String(agent._id))),
    label: new Set(labels.map((label) => label.title)),
  };
  const errors = references
    .filter((reference) => !known[reference.kind].has(reference.value))
    .map((reference) => ({ path: reference.path, message: `is not ${reference.kind === 'agent' || reference.kind === 'inbox' ? 'an' : 'a'} ${reference.kind} of this account` }));
  if (errors.length > 0) throw invalidRuleSet(errors);
  return parsed.ruleSet;
}

export async function saveRuleSet(services: Services, props: SaveRuleSetProps): Promise<RuleSetDoc> {
  const { accountId, performedBy } = props;
  const document = await checkedRuleSet(accountId, props.json);
  const previous = props.ruleSetId ? await RuleSetModel.findOne({ _id: props.ruleSetId, accountId }, { document: 1 }).lean() : null;
  let saved: RuleSetDoc | null;
  try {
    saved = props.ruleSetId
      ? await RuleSetModel.findOneAndUpdate(
          { _id: props.ruleSetId, accountId },
          { $set: { name: document.name, enabled: document.enabled, document }, $inc: { version: 1 } },
          { returnDocument: 'after' },
        )
      : await RuleSetModel.create({ accountId, name: document.name, enabled: document.enabled, document, version: 1, webhookSecret: newWebhookSecret() });
  } catch (error) {
    if (isDuplicateKey(error)) throw new AppError('rule_set/exists', `A rule set named "${document.name}" already exists`);
    throw error;
  }
  if (!saved) throw notFound('rule_set');
  await RuleSetVersion.create({ accountId, ruleSetId: saved._id, version: saved.version, document, savedById: performedBy.userId });
  // Told first: the saved rules take effect even if scheduling their timetables fails below.
  services.bus.publish('settings.changed', { accountId, entity: 'rule_set', id: saved._id, action: props.ruleSetId ? 'updated' : 'created', performedBy });
  await syncRuleSchedules(services, saved._id, (previous?.document as RuleSet | undefined) ?? null, document);
  return saved;
}

export interface DeleteRuleSetProps {
  accountId: Types.ObjectId;
  ruleSetId: Types.ObjectId;
  performedBy: AgentActor;
}

export async function deleteRuleSet(services: Services, { accountId, ruleSetId, performedBy }: DeleteRuleSetProps): Promise<void> {
  const deleted = await RuleSetModel.findOneAndDelete({ _id: ruleSetId, accountId });
  if (!deleted) throw notFound('rule_set');
  await RuleSetVersion.deleteMany({ ruleSetId });
  services.bus.publish('settings.changed', { accountId, entity: 'rule_set', id: ruleSetId, action: 'deleted', performedBy });
  await syncRuleSchedules(services, ruleSetId, deleted.document as RuleSet, null);
}
