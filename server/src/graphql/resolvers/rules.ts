// Resolvers for schema/rules.graphql: rule sets, presets, the vocabulary and dry-runs. The enums
// RuleEvent, RuleActionType and RuleOperator are generated from the rules vocabulary.
import { ACTIONS, ACTION_TYPES, FACTS, OPERATORS, PRESETS, RULE_EVENTS, type PresetKey, type RuleEvent, type RuleSet } from '@charla/rules';
import { presetKeyOf } from '../../automation/account-rules.ts';
import type { Types } from 'mongoose';
import { z } from 'zod';
import { parseId } from '../../auth/input.ts';
import { dryRunRuleSet } from '../../automation/dry-run.ts';
import { checkedRuleSet, deleteRuleSet, saveRuleSet } from '../../commands/save-rule-set.ts';
import { RuleRun } from '../../db/models/rule-run.ts';
import { RuleSetModel, ruleSetWebhookSecret, RuleSetVersion, type RuleSetFields } from '../../db/models/rule-set.ts';
import { User } from '../../db/models/user.ts';
import type { Stored } from '../../events/event-map.ts';
import { notFound } from '../../errors.ts';
import { requireAdministrator } from '../../policies/index.ts';
import type { GraphQLContext } from '../context.ts';
import { clampFirst } from '../paging.ts';

/** `conversation.created` ↔ CONVERSATION_CREATED */
const enumName = (value: string): string => value.replace(/[.]/g, '_').replace(/([a-z])([A-Z])/g, '$1_$2').toUpperCase();
const enumOf = (values: readonly string[]): Record<string, string> => Object.fromEntries(values.map((value) => [enumName(value), value]));

const ENUMS = {
  RuleEvent: enumOf(RULE_EVENTS),
  RuleActionType: enumOf(ACTION_TYPES),
  RuleOperator: enumOf(Object.keys(OPERATORS)),
};

export const rulesEnumTypeDefs = Object.entries(ENUMS)
  .map(([name, values]) => `enum ${name} {\n${Object.keys(values).map((value) => `  ${value}`).join('\n')}\n}`)
  .join('\n\n');

const SETTING_OF_PRESET: Partial<Record<keyof typeof PRESETS, string>> = {
  'out-of-office': 'workingHours',
  greeting: 'greeting',
  'email-capture': 'emailCollect',
  csat: 'csat',
  'bot-handoff': 'botEnabled',
};

type StoredRuleSet = Stored<RuleSetFields>;

export const rulesResolvers = {
  ...ENUMS,

  Query: {
    ruleSets: async (_parent: unknown, _args: unknown, { viewer }: GraphQLContext) => {
      const admin = requireAdministrator(viewer);
      return RuleSetModel.find({ accountId: admin.accountId }).sort({ name: 1 }).limit(1_000).lean().exec();
    },
    ruleSet: async (_parent: unknown, args: { id: unknown }, { viewer }: GraphQLContext) => {
      const admin = requireAdministrator(viewer);
      const ruleSet = await RuleSetModel.findOne({ _id: parseId(args.id), accountId: admin.accountId }).lean();
      if (!ruleSet) throw notFound('rule_set');
      return ruleSet;
    },
    rulePresets: (_parent: unknown, _args: unknown, { viewer }: GraphQLContext) => {
      requireAdministrator(viewer);
      return Object.entries(PRESETS).map(([key, document]) => ({
        key,
        name: document.name,
        description: document.description,
        document,
        setting: SETTING_OF_PRESET[key as keyof typeof PRESETS] ?? null,
      }));
    },
    ruleVocabulary: (_parent: unknown, _args: unknown, { viewer }: GraphQLContext) => {
      requireAdministrator(viewer);
      return {
        events: RULE_EVENTS,
        facts: FACTS,
        operators: OPERATORS,
        actions: Object.fromEntries(Object.entries(ACTIONS).map(([type, action]) => [type, { description: action.description, params: z.toJSONSchema(action.params, { io: 'input' }) }])),
      };
    },
  },

  Mutation: {
    saveRuleSet: async (_parent: unknown, args: { id?: unknown; json: unknown }, { viewer, services }: GraphQLContext) => {
      const admin = requireAdministrator(viewer);
      const ruleSetId = args.id === undefined || args.id === null ? undefined : parseId(args.id);
      return saveRuleSet(services, { accountId: admin.accountId, ruleSetId, json: args.json, performedBy: admin.actor });
    },
    deleteRuleSet: async (_parent: unknown, args: { id: unknown }, { viewer, services }: GraphQLContext) => {
      const admin = requireAdministrator(viewer);
      await deleteRuleSet(services, { accountId: admin.accountId, ruleSetId: parseId(args.id), performedBy: admin.actor });
      return true;
    },
    dryRunRuleSet: async (
      _parent: unknown,
      args: { json: unknown; event: { on: RuleEvent; conversationId?: unknown; messageId?: unknown; facts?: Record<string, unknown> | null } },
      { viewer, services }: GraphQLContext,
    ) => {
      const admin = requireAdministrator(viewer);
      const ruleSet: RuleSet = await checkedRuleSet(admin.accountId, args.json);
      const { event } = args;
      return dryRunRuleSet({
        accountId: admin.accountId,
        ruleSet,
        event: event.on,
        conversationId: event.conversationId == null ? undefined : parseId(event.conversationId, 'event.conversationId'),
        messageId: event.messageId == null ? undefined : parseId(event.messageId, 'event.messageId'),
        facts: event.facts ?? {},
        now: services.now(),
        inboxes: services.inboxes,
      });
    },
  },

  RuleSet: {
    id: (ruleSet: StoredRuleSet) => String(ruleSet._id),
    description: (ruleSet: StoredRuleSet) => (ruleSet.document as RuleSet).description,
    inboxes: (ruleSet: StoredRuleSet) => (ruleSet.document as RuleSet).inboxes,
    webhookSecret: async (ruleSet: StoredRuleSet) => ruleSet.webhookSecret ?? (await ruleSetWebhookSecret(ruleSet.accountId, String(ruleSet._id))),
    versions: async (ruleSet: StoredRuleSet, args: { first?: number | null }) =>
      RuleSetVersion.find({ ruleSetId: ruleSet._id }).sort({ version: -1 }).limit(clampFirst(args.first)).lean().exec(),
    runs: async (ruleSet: StoredRuleSet, args: { first?: number | null }) =>
      RuleRun.find({ accountId: ruleSet.accountId, ruleSetKey: String(ruleSet._id) }).sort({ createdAt: -1 }).limit(clampFirst(args.first)).lean().exec(),
  },

  RulePreset: {
    // What the preset did in this account: it runs for every inbox whose setting switches it on.
    runs: async (preset: { key: string }, args: { first?: number | null }, { viewer }: GraphQLContext) => {
      const admin = requireAdministrator(viewer);
      return RuleRun.find({ accountId: admin.accountId, ruleSetKey: presetKeyOf(preset.key as PresetKey) }).sort({ createdAt: -1 }).limit(clampFirst(args.first)).lean().exec();
    },
  },

  RuleSetVersion: {
    savedAt: (version: { createdAt: Date }) => version.createdAt,
    savedBy: (version: { savedById?: Types.ObjectId | null; accountId: Types.ObjectId }) =>
      version.savedById ? User.findOne({ _id: version.savedById, accountId: version.accountId }, { passwordHash: 0 }).lean().exec() : null,
  },

  RuleRun: {
    at: (run: { createdAt: Date }) => run.createdAt,
    conversationId: (run: { conversationId?: unknown }) => (run.conversationId ? String(run.conversationId) : null),
  },
};
