// The rule-set document (version 1): its zod schema — the one definition the parser and the JSON
// Schema are made from — and the checks zod cannot express (a fact's event, operator and value).
import { z } from 'zod';
import { ACTIONS, ACTION_TYPES, eventsOfAction, objectIdSchema, type ActionType, type RuleAction } from './actions.ts';
import { FACTS, FACT_NAMES, OPERATORS, OPERATOR_NAMES, RULE_EVENTS, eventsOfFact, type FactDefinition, type FactName, type OperatorName, type RuleEvent } from './vocabulary.ts';

export const LIMITS = {
  /** JSON text of one document. */
  documentBytes: 512 * 1024,
  rules: 2_000,
  actionsPerRule: 20,
  conditionsPerRule: 100,
  /** all/any/not groups inside each other. */
  conditionDepth: 8,
  listValues: 200,
  textValue: 1_000,
} as const;

export interface ConditionLeaf {
  fact: FactName;
  operator: OperatorName;
  value: unknown;
  /** Only for attribute facts: "$.name" picks one attribute. */
  path?: string;
}
export type ConditionGroup = { all: Condition[] } | { any: Condition[] } | { not: Condition };
export type Condition = ConditionLeaf | ConditionGroup;

export interface Rule {
  id: string;
  name: string;
  on: RuleEvent;
  priority: number;
  conditions: ConditionGroup;
  actions: RuleAction[];
  stopProcessing: boolean;
  /** Fire at most once per conversation, or once per conversation within `everyMinutes`. */
  limit?: { per: 'conversation'; everyMinutes?: number };
  /** For `on: "schedule"`: when it runs — five cron fields (minute hour day-of-month month weekday) in a time zone. */
  schedule?: { cron: string; timezone: string };
}

export interface RuleSet {
  version: 1;
  name: string;
  description: string;
  enabled: boolean;
  /** "*" for every inbox of the account, or inbox ids. */
  inboxes: string[];
  rules: Rule[];
}

export interface RuleError {
  /** Where in the document: `rules[0].conditions.all[1].operator` ("" = the document). */
  path: string;
  message: string;
}

const leafSchema = z
  .object({
    fact: z.enum(FACT_NAMES as [FactName, ...FactName[]], { error: (issue) => `unknown fact ${JSON.stringify(issue.input)}` }),
    operator: z.enum(OPERATOR_NAMES as [OperatorName, ...OperatorName[]], { error: (issue) => `unknown operator ${JSON.stringify(issue.input)}` }),
    value: z.unknown(),
    path: z.string().regex(/^\$\.[A-Za-z0-9_-]{1,64}$/, 'must name one attribute, like "$.plan"').optional(),
  })
  .strict();

// The shape of conditions for the JSON Schema. Parsing does not use these unions (a union can
// only say "none of the shapes fit"): `checkConditions` picks the shape by its keys and reports the
// exact field that is wrong.
const conditionSchema: z.ZodType<Condition> = z.lazy(() => z.union([leafSchema, groupSchema]));
const groupSchema: z.ZodType<ConditionGroup> = z.lazy(() =>
  z.union([
    z.object({ all: z.array(conditionSchema).max(LIMITS.conditionsPerRule) }).strict(),
    z.object({ any: z.array(conditionSchema).max(LIMITS.conditionsPerRule) }).strict(),
    z.object({ not: conditionSchema }).strict(),
  ]),
);

const GROUP_KEYS = ['all', 'any', 'not'] as const;

/** Adds an issue for each problem in a condition tree (depth is already bounded by `findTooDeep`). */
function checkConditions(value: unknown, path: Array<string | number>, context: z.RefinementCtx, mustBeGroup: boolean): void {
  const isObject = typeof value === 'object' && value !== null && !Array.isArray(value);
  const keys = isObject ? Object.keys(value) : [];
  const groupKeys = GROUP_KEYS.filter((key) => keys.includes(key));
  if (!isObject || (mustBeGroup && groupKeys.length === 0)) {
    const message = mustBeGroup
      ? 'must be a group: { "all": [...] }, { "any": [...] } or { "not": {...} }'
      : 'must be a condition { "fact", "operator", "value" } or a group { "all" | "any" | "not" }';
    context.addIssue({ code: 'custom', message, path });
    return;
  }
  if (groupKeys.length === 0) {
    const parsed = leafSchema.safeParse(value);
    if (!parsed.success) for (const issue of parsed.error.issues) context.addIssue({ code: 'custom', message: issue.message, path: [...path, ...(issue.path as Array<string | number>)] });
    return;
  }
  if (keys.length !== 1) {
    context.addIssue({ code: 'custom', message: 'a group has exactly one key: all, any or not', path });
    return;
  }
  const key = groupKeys[0]!;
  const children = (value as Record<string, unknown>)[key];
  if (key === 'not') return checkConditions(children, [...path, 'not'], context, false);
  if (!Array.isArray(children)) {
    context.addIssue({ code: 'custom', message: `"${key}" must be a list of conditions`, path: [...path, key] });
    return;
  }
  if (children.length > LIMITS.conditionsPerRule) {
    context.addIssue({ code: 'custom', message: `has more than ${LIMITS.conditionsPerRule} conditions`, path: [...path, key] });
    return;
  }
  children.forEach((child, index) => checkConditions(child, [...path, key, index], context, false));
}

const checkedConditionsSchema = z.unknown().superRefine((value, context) => checkConditions(value, [], context, true)) as unknown as z.ZodType<ConditionGroup>;

const actionSchema = z.discriminatedUnion(
  'type',
  ACTION_TYPES.map((type) => z.object({ type: z.literal(type), params: (ACTIONS[type].params as z.ZodType).default({}) }).strict()) as unknown as [
    z.ZodObject<{ type: z.ZodLiteral<ActionType>; params: z.ZodType }>,
  ],
  { error: (issue) => (issue.code === 'invalid_union' ? `unknown action type; known types: ${ACTION_TYPES.join(', ')}` : undefined) },
);

const ruleShape = {
    id: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/, 'must be 1–64 letters, digits, "-", "_" or "." (starting with a letter or digit)'),
    name: z.string().trim().min(1, 'must not be empty').max(200),
    on: z.enum(RULE_EVENTS, { error: (issue) => `unknown event ${JSON.stringify(issue.input)}; events: ${RULE_EVENTS.join(', ')}` }),
    priority: z.number().int().min(0).max(1_000).default(0),
    conditions: checkedConditionsSchema,
    actions: z.array(actionSchema).min(1, 'needs at least one action').max(LIMITS.actionsPerRule),
    stopProcessing: z.boolean().default(false),
    limit: z
      .object({ per: z.literal('conversation'), everyMinutes: z.number().int().min(1).max(525_600).optional() })
      .strict()
      .optional(),
    schedule: z
      .object({
        cron: z.string().trim().max(100).refine(isCron, 'must be five cron fields: minute hour day-of-month month weekday, like "0 9 * * 1-5"'),
        timezone: z.string().max(64).refine(isTimezone, 'is not a known IANA time zone such as Europe/Madrid').default('UTC'),
      })
      .strict()
      .optional(),
};

const ruleSetShape = {
    version: z.literal(1, { error: () => 'must be 1 (the only document version so far)' }),
    name: z.string().trim().min(1, 'must not be empty').max(200),
    description: z.string().max(2_000).default(''),
    enabled: z.boolean().default(true),
    inboxes: z
      .array(z.union([z.literal('*'), objectIdSchema], { error: () => 'must be "*" or an inbox id' }))
      .min(1, 'needs "*" or at least one inbox id')
      .max(1_000)
      .default(['*']),
    rules: z.array(z.object(ruleShape).strict()).max(LIMITS.rules),
};

/** Parses documents (conditions checked by `checkConditions`). */
const ruleSetSchema = z.object(ruleSetShape).strict();

/** The same document with conditions as plain unions: what the JSON Schema is made from. */
export const ruleSetDocumentSchema = z
  .object({ ...ruleSetShape, rules: z.array(z.object({ ...ruleShape, conditions: groupSchema }).strict()).max(LIMITS.rules) })
  .strict();

const CRON_FIELDS: ReadonlyArray<[number, number]> = [
  [0, 59],
  [0, 23],
  [1, 31],
  [1, 12],
  [0, 7],
];

/** Five fields of numbers, ranges, lists and steps ("*\/15", "1-5", "0,30"), each within its bounds. */
function isCron(expression: string): boolean {
  const fields = expression.split(/\s+/);
  if (fields.length !== CRON_FIELDS.length) return false;
  return fields.every((field, index) => {
    const [low, high] = CRON_FIELDS[index]!;
    return field.split(',').every((part) => {
      const match = /^(\*|(\d{1,2})(?:-(\d{1,2}))?)(?:\/(\d{1,2}))?$/.exec(part);
      if (!match) return false;
      const [, , from, to, step] = match;
      const inBounds = (value: string | undefined) => value === undefined || (Number(value) >= low && Number(value) <= high);
      return inBounds(from) && inBounds(to) && (to === undefined || Number(to) >= Number(from)) && (step === undefined || Number(step) >= 1);
    });
  });
}

function isTimezone(name: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: name });
    return true;
  } catch {
    return false;
  }
}

export type ParseResult = { ok: true; ruleSet: RuleSet } | { ok: false; errors: RuleError[] };

const MAX_ERRORS = 50;
/** Far above what a valid document needs (conditions 8 groups deep are about 25 levels). */
const MAX_JSON_DEPTH = 64;

/** How deep brackets nest in JSON text, counted without parsing (JSON.parse recurses). */
function jsonTextDepth(text: string): number {
  let depth = 0;
  let deepest = 0;
  let inString = false;
  for (let index = 0; index < text.length; index += 1) {
    const char = text[index];
    if (inString) {
      if (char === '\\') index += 1;
      else if (char === '"') inString = false;
    } else if (char === '"') inString = true;
    else if (char === '{' || char === '[') deepest = Math.max(deepest, ++depth);
    else if (char === '}' || char === ']') depth -= 1;
  }
  return deepest;
}

/** Checks a rule-set document (an object, or its JSON text) and returns it with defaults filled in. */
export function parseRuleSet(input: unknown): ParseResult {
  let document = input;
  if (typeof input === 'string') {
    if (Buffer.byteLength(input) > LIMITS.documentBytes) return tooLarge();
    if (jsonTextDepth(input) > MAX_JSON_DEPTH) return failure('', `is nested more than ${MAX_JSON_DEPTH} levels deep`);
    try {
      document = JSON.parse(input);
    } catch (error) {
      return failure('', `is not valid JSON: ${(error as Error).message}`);
    }
  }
  const depthProblem = findTooDeep(document);
  if (depthProblem) return failure(depthProblem, `conditions are nested more than ${LIMITS.conditionDepth} groups deep`);
  if (typeof input !== 'string' && jsonSize(input) > LIMITS.documentBytes) return tooLarge();

  const parsed = ruleSetSchema.safeParse(document);
  if (!parsed.success) {
    return { ok: false, errors: parsed.error.issues.slice(0, MAX_ERRORS).map((issue) => ({ path: formatPath(issue.path), message: issue.message })) };
  }
  const ruleSet = parsed.data as RuleSet;
  const errors = checkMeaning(ruleSet);
  return errors.length > 0 ? { ok: false, errors: errors.slice(0, MAX_ERRORS) } : { ok: true, ruleSet };
}

function failure(path: string, message: string): ParseResult {
  return { ok: false, errors: [{ path, message }] };
}

function tooLarge(): ParseResult {
  return failure('', `is larger than ${LIMITS.documentBytes / 1024} KB`);
}

/** The JSON size of a value, giving up (and answering "too big") past the limit or on a cycle. */
function jsonSize(value: unknown): number {
  try {
    return Buffer.byteLength(JSON.stringify(value) ?? '');
  } catch {
    return Number.POSITIVE_INFINITY;
  }
}

/** `rules[0].conditions.all[1]` */
export function formatPath(path: ReadonlyArray<PropertyKey>): string {
  return path.reduce<string>((text, key) => (typeof key === 'number' ? `${text}[${key}]` : text ? `${text}.${String(key)}` : String(key)), '');
}

/** The path of the first condition group nested too deep, found without recursion (no stack to blow). */
function findTooDeep(document: unknown): string | undefined {
  const rules = (document as { rules?: unknown } | null)?.rules;
  if (!Array.isArray(rules)) return undefined;
  const stack: Array<{ node: unknown; depth: number; path: Array<string | number> }> = rules.map((rule, index) => ({
    node: (rule as { conditions?: unknown } | null)?.conditions,
    depth: 1,
    path: ['rules', index, 'conditions'],
  }));
  while (stack.length > 0) {
    const { node, depth, path } = stack.pop()!;
    if (typeof node !== 'object' || node === null) continue;
    const group = node as { all?: unknown; any?: unknown; not?: unknown };
    const children: Array<{ node: unknown; path: Array<string | number> }> = [];
    for (const key of ['all', 'any'] as const) {
      const list = group[key];
      if (Array.isArray(list)) list.slice(0, LIMITS.conditionsPerRule + 1).forEach((child, index) => children.push({ node: child, path: [...path, key, index] }));
    }
    if (group.not !== undefined) children.push({ node: group.not, path: [...path, 'not'] });
    for (const child of children) {
      const isGroup = typeof child.node === 'object' && child.node !== null && ('all' in child.node || 'any' in child.node || 'not' in child.node);
      if (!isGroup) continue;
      if (depth + 1 > LIMITS.conditionDepth) return formatPath(child.path);
      stack.push({ node: child.node, depth: depth + 1, path: child.path });
    }
  }
  return undefined;
}

/** What zod cannot see: unique rule ids, facts the event carries, operators and values that fit the fact. */
function checkMeaning(ruleSet: RuleSet): RuleError[] {
  const errors: RuleError[] = [];
  const seen = new Map<string, number>();
  ruleSet.rules.forEach((rule, index) => {
    const first = seen.get(rule.id);
    if (first !== undefined) errors.push({ path: `rules[${index}].id`, message: `repeats the id of rules[${first}]` });
    else seen.set(rule.id, index);

    let leaves = 0;
    forEachLeaf(rule.conditions, `rules[${index}].conditions`, (leaf, path) => {
      leaves += 1;
      errors.push(...checkLeaf(leaf, path, rule.on));
    });
    if (leaves > LIMITS.conditionsPerRule) errors.push({ path: `rules[${index}].conditions`, message: `has more than ${LIMITS.conditionsPerRule} conditions` });
    if (rule.on === 'schedule' && !rule.schedule) errors.push({ path: `rules[${index}].schedule`, message: 'a rule on schedule needs "schedule": { "cron": "…" }' });
    if (rule.on !== 'schedule' && rule.schedule) errors.push({ path: `rules[${index}].schedule`, message: 'only rules on schedule take a schedule' });
    rule.actions.forEach((action, actionIndex) => {
      const events = eventsOfAction(action.type);
      if (!events.includes(rule.on)) {
        errors.push({ path: `rules[${index}].actions[${actionIndex}].type`, message: `${action.type} cannot run on ${rule.on} events (only on ${events.join(', ')})` });
      }
    });
  });
  return errors;
}

export function forEachLeaf(condition: Condition, path: string, visit: (leaf: ConditionLeaf, path: string) => void): void {
  if ('all' in condition) condition.all.forEach((child, index) => forEachLeaf(child, `${path}.all[${index}]`, visit));
  else if ('any' in condition) condition.any.forEach((child, index) => forEachLeaf(child, `${path}.any[${index}]`, visit));
  else if ('not' in condition) forEachLeaf(condition.not, `${path}.not`, visit);
  else visit(condition, path);
}

function checkLeaf(leaf: ConditionLeaf, path: string, event: RuleEvent): RuleError[] {
  const fact: FactDefinition = FACTS[leaf.fact];
  const operator = OPERATORS[leaf.operator];
  const errors: RuleError[] = [];
  if (!eventsOfFact(leaf.fact).includes(event)) {
    errors.push({ path: `${path}.fact`, message: `${leaf.fact} is not known for ${event} events (only for ${eventsOfFact(leaf.fact).join(', ')})` });
  }
  if (fact.type === 'attributes') {
    if (!leaf.path) errors.push({ path: `${path}.path`, message: `${leaf.fact} needs "path" naming the attribute, like "$.plan"` });
  } else if (leaf.path !== undefined) {
    errors.push({ path: `${path}.path`, message: `only attribute facts take a path; ${leaf.fact} is of type ${fact.type}` });
  }
  // An attribute can hold any scalar, so it takes every scalar operator.
  const effectiveType = fact.type === 'attributes' ? undefined : fact.type;
  if (effectiveType && !(operator.appliesTo as readonly string[]).includes(effectiveType)) {
    errors.push({
      path: `${path}.operator`,
      message: `${leaf.operator} does not apply to ${leaf.fact}, a fact of type ${fact.type}; use one of ${operatorsFor(fact).join(', ')}`,
    });
    return errors;
  }
  const valueProblem = checkValue(leaf, fact, operator.value);
  if (valueProblem) errors.push({ path: `${path}.value`, message: valueProblem });
  return errors;
}

export function operatorsFor(fact: FactDefinition): OperatorName[] {
  if (fact.type === 'attributes') return OPERATOR_NAMES;
  return OPERATOR_NAMES.filter((name) => (OPERATORS[name].appliesTo as readonly string[]).includes(fact.type));
}

function checkValue(leaf: ConditionLeaf, fact: FactDefinition, expects: (typeof OPERATORS)[OperatorName]['value']): string | undefined {
  const { value } = leaf;
  const scalar = (item: unknown): string | undefined => {
    switch (fact.type) {
      case 'string':
        return typeof item === 'string' && item.length <= LIMITS.textValue ? undefined : `must be a text of at most ${LIMITS.textValue} characters`;
      case 'number':
        return typeof item === 'number' && Number.isFinite(item) ? undefined : 'must be a number';
      case 'boolean':
        return typeof item === 'boolean' ? undefined : 'must be true or false';
      case 'enum':
        return fact.values!.includes(item as string) ? undefined : `must be one of ${fact.values!.join(', ')}`;
      case 'id':
        return objectIdSchema.safeParse(item).success ? undefined : 'must be an id (24 hexadecimal characters)';
      case 'stringList':
        return typeof item === 'string' && item.length <= LIMITS.textValue ? undefined : 'must be a text';
      case 'attributes':
        return ['string', 'number', 'boolean'].includes(typeof item) ? undefined : 'must be a text, a number or true/false';
    }
  };
  const text = (item: unknown): string | undefined =>
    typeof item === 'string' && item.length > 0 && item.length <= LIMITS.textValue ? undefined : `must be a non-empty text of at most ${LIMITS.textValue} characters`;
  switch (expects) {
    case 'same':
      return scalar(value);
    case 'list':
      if (!Array.isArray(value) || value.length === 0 || value.length > LIMITS.listValues) return `must be a list of 1–${LIMITS.listValues} values`;
      for (const [index, item] of value.entries()) {
        const problem = scalar(item);
        if (problem) return `[${index}] ${problem}`;
      }
      return undefined;
    case 'boolean':
      return typeof value === 'boolean' ? undefined : 'must be true or false';
    case 'number':
      return typeof value === 'number' && Number.isFinite(value) ? undefined : 'must be a number';
    case 'text':
      return text(value);
    case 'words':
      if (typeof value === 'string') return text(value);
      if (!Array.isArray(value) || value.length === 0 || value.length > LIMITS.listValues) return `must be a word or a list of 1–${LIMITS.listValues} words`;
      for (const [index, item] of value.entries()) {
        const problem = text(item);
        if (problem) return `[${index}] ${problem}`;
      }
      return undefined;
  }
}
