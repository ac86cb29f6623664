// Creates or replaces a rule set from its JSON document. The document is checked first (errors
// name the JSON path, code rules/invalid); nothing is stored unless all of it is right. Every save
// is kept as a new version.
import { parseRuleSet, type RuleError, type RuleSet } from '@charla/rules';
import { Types } from 'mongoose';
import { isDuplicateKey } from '../db/duplicate-key.ts';
import { Inbox } from '../db/models/inbox.ts';
import { RuleSetModel, RuleSetVersion, type RuleSetDoc } from '../db/models/rule-set.ts';
import type { AgentActor } from '../events/actor.ts';
import { AppError, notFound } from '../errors.ts';
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

/** A checked document whose inbox ids are inboxes of the account. */
export async function checkedRuleSet(accountId: Types.ObjectId, json: unknown): Promise<RuleSet> {
  const parsed = parseRuleSet(json);
  if (!parsed.ok) throw invalidRuleSet(parsed.errors);
  const ids = parsed.ruleSet.inboxes.filter((inbox) => inbox !== '*');
  if (ids.length > 0) {
    const known = new Set((await Inbox.find({ _id: { $in: ids }, accountId }, { _id: 1 }).lean()).map((inbox) => String(inbox._id)));
    const errors = parsed.ruleSet.inboxes.flatMap((inbox, index) =>
      inbox !== '*' && !known.has(inbox) ? [{ path: `inboxes[${index}]`, message: 'is not an inbox of this account' }] : [],
    );
    if (errors.length > 0) throw invalidRuleSet(errors);
  }
  return parsed.ruleSet;
}

export async function saveRuleSet(services: Services, props: SaveRuleSetProps): Promise<RuleSetDoc> {
  const { accountId, performedBy } = props;
  const document = await checkedRuleSet(accountId, props.json);
  let saved: RuleSetDoc | null;
  try {
    saved = props.ruleSetId
      ? await RuleSetModel.findOneAndUpdate(
          { _id: props.ruleSetId, accountId },
          { $set: { name: document.name, enabled: document.enabled, document }, $inc: { version: 1 } },
          { returnDocument: 'after' },
        )
      : await RuleSetModel.create({ accountId, name: document.name, enabled: document.enabled, document, version: 1 });
  } catch (error) {
    if (isDuplicateKey(error)) throw new AppError('rule_set/exists', `A rule set named "${document.name}" already exists`);
    throw error;
  }
  if (!saved) throw notFound('rule_set');
  await RuleSetVersion.create({ accountId, ruleSetId: saved._id, version: saved.version, document, savedById: performedBy.userId });
  services.bus.publish('settings.changed', { accountId, entity: 'rule_set', id: saved._id, action: props.ruleSetId ? 'updated' : 'created', performedBy });
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
}
