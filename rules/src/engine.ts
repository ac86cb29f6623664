// Evaluates rule sets with json-rules-engine. Rule sets are compiled once per change into one
// engine per (event, inbox), so an event only meets the rules that listen to it; each engine
// knows the facts its rules read, so the server computes only those.
import { Engine, type NestedCondition, type RuleResult, type TopLevelCondition } from 'json-rules-engine';
import type { RuleAction } from './actions.ts';
import { forEachLeaf, type Condition, type ConditionGroup, type Rule, type RuleSet } from './document.ts';
import { OPERATOR_IMPLEMENTATIONS } from './operators.ts';
import { OPERATOR_NAMES, type FactName, type FactValues, type RuleEvent } from './vocabulary.ts';

export interface RuleSetEntry {
  /** Who the rule set is: a stored rule set's id, or a preset's key. Actions report it. */
  key: string;
  ruleSet: RuleSet;
}

export interface MatchedRule {
  ruleSetKey: string;
  rule: Rule;
  actions: RuleAction[];
}

export interface ExplainedCondition {
  /** `all`, `any`, `not`, or the fact of a single condition. */
  kind: 'all' | 'any' | 'not' | 'fact';
  fact?: FactName;
  operator?: string;
  value?: unknown;
  path?: string;
  /** The fact's value in this evaluation. */
  factValue?: unknown;
  /** Undefined when the engine did not need to look (an `all` already failed). */
  result?: boolean;
  conditions?: ExplainedCondition[];
}

export interface RuleExplanation {
  ruleSetKey: string;
  ruleId: string;
  name: string;
  matched: boolean;
  /** Matched, but a higher rule of the same set said stopProcessing. */
  stopped: boolean;
  conditions: ExplainedCondition;
}

export interface Evaluation {
  /** Rules whose conditions hold, in the order their actions run. */
  matched: MatchedRule[];
  /** Every rule that listened to the event, with why it did or did not match (explain mode). */
  explanations?: RuleExplanation[];
}

interface CompiledRule {
  entry: RuleSetEntry;
  rule: Rule;
  /** Position in the bucket: documents in order, rules in order. */
  order: number;
}

interface Bucket {
  rules: CompiledRule[];
  engine: Engine;
  facts: Set<FactName>;
  /** json-rules-engine keeps run state on the engine, so one run at a time per engine. */
  queue: Promise<unknown>;
}

const WILDCARD = '*';

export class RuleIndex {
  private readonly buckets = new Map<string, Bucket>();
  private readonly inboxesWithRules = new Map<RuleEvent, Set<string>>();

  constructor(entries: readonly RuleSetEntry[]) {
    const grouped = new Map<string, CompiledRule[]>();
    const specific = new Map<RuleEvent, Set<string>>();
    const all: Array<{ entry: RuleSetEntry; rule: Rule; inboxes: string[] }> = [];
    for (const entry of entries) {
      if (!entry.ruleSet.enabled) continue;
      for (const rule of entry.ruleSet.rules) {
        all.push({ entry, rule, inboxes: entry.ruleSet.inboxes });
        for (const inbox of entry.ruleSet.inboxes) if (inbox !== WILDCARD) (specific.get(rule.on) ?? specific.set(rule.on, new Set()).get(rule.on)!).add(inbox);
      }
    }
    // Each inbox that has rules of its own gets them plus the account-wide ones, in document order.
    all.forEach(({ entry, rule, inboxes }, order) => {
      const targets = inboxes.includes(WILDCARD) ? [WILDCARD, ...(specific.get(rule.on) ?? [])] : inboxes;
      for (const inbox of new Set(targets)) {
        const key = bucketKey(rule.on, inbox);
        (grouped.get(key) ?? grouped.set(key, []).get(key)!).push({ entry, rule, order });
      }
    });
    for (const [key, rules] of grouped) this.buckets.set(key, compileBucket(rules));
    this.inboxesWithRules = specific;
  }

  private bucketFor(event: RuleEvent, inboxId: string | null): Bucket | undefined {
    if (inboxId && this.inboxesWithRules.get(event)?.has(inboxId)) return this.buckets.get(bucketKey(event, inboxId));
    return this.buckets.get(bucketKey(event, WILDCARD));
  }

  /** The facts the rules listening to this event in this inbox read (empty: nothing to evaluate). */
  factsNeeded(event: RuleEvent, inboxId: string | null): ReadonlySet<FactName> {
    return this.bucketFor(event, inboxId)?.facts ?? new Set();
  }

  hasRules(event: RuleEvent, inboxId: string | null): boolean {
    return this.bucketFor(event, inboxId) !== undefined;
  }

  /** The rules that match, in the order their actions run; with `explain`, why each did or did not. */
  async evaluate(event: RuleEvent, inboxId: string | null, facts: FactValues, options: { explain?: boolean } = {}): Promise<Evaluation> {
    const bucket = this.bucketFor(event, inboxId);
    if (!bucket) return { matched: [], explanations: options.explain ? [] : undefined };
    const run = bucket.queue.then(() => bucket.engine.run(factsFor(bucket, facts)));
    bucket.queue = run.catch(() => undefined);
    const { results, failureResults } = await run;

    const matchedIndexes = new Set(results.map(indexOf));
    const stoppedSets = new Set<string>();
    const stopped = new Set<number>();
    const matched: MatchedRule[] = [];
    for (const index of [...matchedIndexes].sort((a, b) => compareRules(bucket.rules[a]!, bucket.rules[b]!))) {
      const compiled = bucket.rules[index]!;
      if (stoppedSets.has(compiled.entry.key)) {
        stopped.add(index);
        continue;
      }
      matched.push({ ruleSetKey: compiled.entry.key, rule: compiled.rule, actions: compiled.rule.actions });
      if (compiled.rule.stopProcessing) stoppedSets.add(compiled.entry.key);
    }
    if (!options.explain) return { matched };

    const explanations = [...results, ...failureResults]
      .map((result) => ({ result, index: indexOf(result) }))
      .sort((a, b) => compareRules(bucket.rules[a.index]!, bucket.rules[b.index]!))
      .map(({ result, index }): RuleExplanation => {
        const { entry, rule } = bucket.rules[index]!;
        return {
          ruleSetKey: entry.key,
          ruleId: rule.id,
          name: rule.name,
          matched: matchedIndexes.has(index) && !stopped.has(index),
          stopped: stopped.has(index),
          conditions: explain(result.conditions as unknown as EngineCondition, facts),
        };
      });
    return { matched, explanations };
  }
}

/** Higher priority first; equal priorities in document order. */
function compareRules(a: CompiledRule, b: CompiledRule): number {
  return b.rule.priority - a.rule.priority || a.order - b.order;
}

const bucketKey = (event: RuleEvent, inbox: string): string => `${event}\u0000${inbox}`;

const indexOf = (result: RuleResult): number => Number((result.event?.params as { index: number }).index);

function compileBucket(rules: CompiledRule[]): Bucket {
  const engine = new Engine([], {
    allowUndefinedFacts: true,
    // A path names one attribute ("$.plan"); looked up directly, never evaluated as JSONPath.
    pathResolver: (value, path) => {
      const key = path.slice(2);
      return value !== null && typeof value === 'object' && Object.hasOwn(value, key) ? (value as Record<string, unknown>)[key] : undefined;
    },
  });
  for (const name of OPERATOR_NAMES) engine.addOperator(name, OPERATOR_IMPLEMENTATIONS[name]);
  const facts = new Set<FactName>();
  rules.forEach(({ rule }, index) => {
    forEachLeaf(rule.conditions, '', (leaf) => facts.add(leaf.fact));
    // One priority for the engine: ordering is ours (priority, then document order), and rules
    // of one priority are evaluated together in a single pass.
    engine.addRule({ name: String(index), priority: 1, conditions: toEngineCondition(rule.conditions) as TopLevelCondition, event: { type: 'match', params: { index } } });
  });
  return { rules, engine, facts, queue: Promise.resolve() };
}

function toEngineCondition(condition: Condition | ConditionGroup): NestedCondition {
  if ('all' in condition) return { all: condition.all.map(toEngineCondition) };
  if ('any' in condition) return { any: condition.any.map(toEngineCondition) };
  if ('not' in condition) return { not: toEngineCondition(condition.not) };
  return { fact: condition.fact, operator: condition.operator, value: condition.value, ...(condition.path && { path: condition.path }) };
}

/** Only the facts this bucket reads, as runtime facts (absent ones stay undefined). */
function factsFor(bucket: Bucket, facts: FactValues): Record<string, unknown> {
  const values: Record<string, unknown> = {};
  for (const fact of bucket.facts) values[fact] = facts[fact] ?? null;
  return values;
}

interface EngineCondition {
  all?: EngineCondition[];
  any?: EngineCondition[];
  not?: EngineCondition;
  fact?: string;
  operator?: string;
  value?: unknown;
  path?: string;
  factResult?: unknown;
  result?: boolean;
}

function explain(condition: EngineCondition, facts: FactValues): ExplainedCondition {
  // The engine marks single conditions only; a group's result follows from its children.
  if (condition.all) {
    const conditions = condition.all.map((child) => explain(child, facts));
    return { kind: 'all', result: conditions.every((child) => child.result === true), conditions };
  }
  if (condition.any) {
    const conditions = condition.any.map((child) => explain(child, facts));
    return { kind: 'any', result: conditions.some((child) => child.result === true), conditions };
  }
  if (condition.not) {
    const inner = explain(condition.not, facts);
    return { kind: 'not', result: inner.result === undefined ? undefined : !inner.result, conditions: [inner] };
  }
  const fact = condition.fact as FactName;
  return {
    kind: 'fact',
    fact,
    operator: condition.operator,
    value: condition.value,
    ...(condition.path && { path: condition.path }),
    factValue: 'factResult' in condition ? condition.factResult : (facts[fact] ?? null),
    result: condition.result,
  };
}
