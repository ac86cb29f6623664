// Evaluates rule sets with json-rules-engine. Rule sets are compiled once per change into one
// bucket per (event, inbox), so an event only meets the rules that listen to it; each bucket knows
// the facts its rules read, so the server computes only those. Within a bucket an index of each
// rule's necessary condition (a word it needs in the message, a value a fact must equal) picks
// the candidates, and json-rules-engine evaluates just those — like a database index, it only
// skips rules that cannot match.
import { Almanac, Engine, type NestedCondition, type Rule as EngineRule, type RuleResult, type TopLevelCondition } from 'json-rules-engine';
import type { RuleAction } from './actions.ts';
import { forEachLeaf, type Condition, type ConditionGroup, type Rule, type RuleSet } from './document.ts';
import { OPERATOR_IMPLEMENTATIONS, wordsOf } from './operators.ts';
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
  /**
   * Rules whose conditions hold, in the order their actions would run — before stopProcessing,
   * which depends on what actually runs (a rule held back by its limit stops nothing).
   */
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

/** A condition every match of a rule satisfies, cheap to look up before evaluating the rule. */
type Guard = { kind: 'value'; fact: FactName; values: ReadonlyArray<string | number | boolean> } | { kind: 'words'; fact: FactName; firstWords: string[] };

interface Bucket {
  rules: CompiledRule[];
  /** The json-rules-engine rules, by position; their engine holds the operators. */
  engineRules: EvaluableRule[];
  facts: Set<FactName>;
  /** Rules without a guard: always evaluated. */
  unguarded: number[];
  /** fact → value → rules that need the fact to equal it. */
  byValue: Map<FactName, Map<unknown, number[]>>;
  /** fact → word → rules that need the word in the fact's text. */
  byWord: Map<FactName, Map<string, number[]>>;
}

/**
 * json-rules-engine's Rule evaluates itself against an almanac (Engine.run does just that for each
 * rule, but keeps run state on the engine, which concurrent runs would share).
 */
type EvaluableRule = EngineRule & { evaluate(almanac: Almanac): Promise<RuleResult> };

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
    // Explaining covers every rule; otherwise only those the guards leave.
    const candidates = options.explain ? bucket.rules.map((_rule, index) => index) : candidatesOf(bucket, facts);
    const almanac = new Almanac(ALMANAC_OPTIONS);
    for (const [fact, value] of Object.entries(factsFor(bucket, facts))) almanac.addRuntimeFact(fact, value);
    const evaluated = await Promise.all(candidates.map((index) => bucket.engineRules[index]!.evaluate(almanac)));
    const results = evaluated.filter((result) => result.result === true);
    const failureResults = evaluated.filter((result) => result.result !== true);

    const matchedIndexes = new Set(results.map(indexOf));
    const matched: MatchedRule[] = [...matchedIndexes]
      .sort((a, b) => compareRules(bucket.rules[a]!, bucket.rules[b]!))
      .map((index) => ({ ruleSetKey: bucket.rules[index]!.entry.key, rule: bucket.rules[index]!.rule, actions: bucket.rules[index]!.rule.actions }));
    if (!options.explain) return { matched };

    // Explained as if every match ran: a stopProcessing rule hides the later ones of its set.
    const running = new Set(withStopProcessing(matched));
    const stoppedIds = new Set(matched.filter((match) => !running.has(match)).map((match) => `${match.ruleSetKey}\u0000${match.rule.id}`));
    const explanations = [...results, ...failureResults]
      .map((result) => ({ result, index: indexOf(result) }))
      .sort((a, b) => compareRules(bucket.rules[a.index]!, bucket.rules[b.index]!))
      .map(({ result, index }): RuleExplanation => {
        const { entry, rule } = bucket.rules[index]!;
        return {
          ruleSetKey: entry.key,
          ruleId: rule.id,
          name: rule.name,
          matched: matchedIndexes.has(index) && !stoppedIds.has(`${entry.key}\u0000${rule.id}`),
          stopped: stoppedIds.has(`${entry.key}\u0000${rule.id}`),
          conditions: explain(result.conditions as unknown as EngineCondition, facts),
        };
      });
    return { matched, explanations };
  }
}

/**
 * stopProcessing: once a rule that says so has run, the later rules of its set do not. `blocks`
 * before running a match, `ran` after.
 */
export class StopProcessing {
  private readonly stoppedSets = new Set<string>();
  blocks(match: MatchedRule): boolean {
    return this.stoppedSets.has(match.ruleSetKey);
  }
  ran(match: MatchedRule): void {
    if (match.rule.stopProcessing) this.stoppedSets.add(match.ruleSetKey);
  }
}

/** The matches that run when each one that is not stopped runs (dry-runs, plain evaluation). */
export function withStopProcessing(matched: readonly MatchedRule[]): MatchedRule[] {
  const stop = new StopProcessing();
  return matched.filter((match) => {
    if (stop.blocks(match)) return false;
    stop.ran(match);
    return true;
  });
}

/** Higher priority first; equal priorities in document order. */
function compareRules(a: CompiledRule, b: CompiledRule): number {
  return b.rule.priority - a.rule.priority || a.order - b.order;
}

const bucketKey = (event: RuleEvent, inbox: string): string => `${event}\u0000${inbox}`;

const indexOf = (result: RuleResult): number => Number((result.event?.params as { index: number }).index);

const ALMANAC_OPTIONS = {
  allowUndefinedFacts: true,
  // A path names one attribute ("$.plan"); looked up directly, never evaluated as JSONPath.
  pathResolver: (value: object, path: string): unknown => {
    const key = path.slice(2);
    return value !== null && typeof value === 'object' && Object.hasOwn(value, key) ? (value as Record<string, unknown>)[key] : undefined;
  },
};

function compileBucket(rules: CompiledRule[]): Bucket {
  const engine = new Engine([], ALMANAC_OPTIONS);
  for (const name of OPERATOR_NAMES) engine.addOperator(name, OPERATOR_IMPLEMENTATIONS[name]);
  const bucket: Bucket = { rules, engineRules: [], facts: new Set(), unguarded: [], byValue: new Map(), byWord: new Map() };
  rules.forEach(({ rule }, index) => {
    forEachLeaf(rule.conditions, '', (leaf) => bucket.facts.add(leaf.fact));
    engine.addRule({ name: String(index), conditions: toEngineCondition(rule.conditions) as TopLevelCondition, event: { type: 'match', params: { index } } });
    const guard = guardOf(rule.conditions);
    if (!guard) bucket.unguarded.push(index);
    else if (guard.kind === 'value') for (const value of guard.values) listIn(mapIn(bucket.byValue, guard.fact), value).push(index);
    else for (const word of guard.firstWords) listIn(mapIn(bucket.byWord, guard.fact), word).push(index);
  });
  // Engine.addRule keeps the rules in its list, each bound to the engine and its operators.
  bucket.engineRules = (engine as unknown as { rules: EvaluableRule[] }).rules;
  return bucket;
}

const mapIn = <K, V>(map: Map<FactName, Map<K, V>>, key: FactName): Map<K, V> => map.get(key) ?? map.set(key, new Map()).get(key)!;
const listIn = <K>(map: Map<K, number[]>, key: K): number[] => map.get(key) ?? map.set(key, []).get(key)!;

/**
 * The most selective condition the rule cannot match without: one of the conditions that all of
 * its top-level `all` groups require. A `hasWord` needs the first word of one of its phrases; an
 * `equal` or `in` needs one of its values.
 */
function guardOf(conditions: ConditionGroup): Guard | undefined {
  const required: Condition[] = [];
  const collect = (condition: Condition): void => {
    if ('all' in condition) condition.all.forEach(collect);
    else if (!('any' in condition) && !('not' in condition)) required.push(condition);
  };
  collect(conditions);
  let best: { guard: Guard; rank: number } | undefined;
  for (const leaf of required) {
    if (!('fact' in leaf) || leaf.path) continue;
    let candidate: { guard: Guard; rank: number } | undefined;
    if (leaf.operator === 'hasWord') {
      const phrases = typeof leaf.value === 'string' ? [leaf.value] : (leaf.value as string[]);
      const firstWords = phrases.map((phrase) => wordsOf(phrase)[0]);
      if (firstWords.every((word): word is string => word !== undefined)) candidate = { guard: { kind: 'words', fact: leaf.fact, firstWords: [...new Set(firstWords)] }, rank: 3 };
    } else if (leaf.operator === 'equal' && ['string', 'number', 'boolean'].includes(typeof leaf.value)) {
      candidate = { guard: { kind: 'value', fact: leaf.fact, values: [leaf.value as string] }, rank: typeof leaf.value === 'boolean' ? 0 : 2 };
    } else if (leaf.operator === 'in' && Array.isArray(leaf.value)) {
      candidate = { guard: { kind: 'value', fact: leaf.fact, values: leaf.value as string[] }, rank: 1 };
    }
    if (candidate && (!best || candidate.rank > best.rank)) best = candidate;
  }
  return best?.guard;
}

/** The rules whose guard the facts meet, plus the unguarded ones, in bucket order. */
function candidatesOf(bucket: Bucket, facts: FactValues): number[] {
  const found = new Set(bucket.unguarded);
  for (const [fact, rulesByValue] of bucket.byValue) {
    for (const index of rulesByValue.get(facts[fact] ?? null) ?? []) found.add(index);
  }
  for (const [fact, rulesByWord] of bucket.byWord) {
    const value = facts[fact];
    if (typeof value !== 'string') continue;
    for (const word of new Set(wordsOf(value))) for (const index of rulesByWord.get(word) ?? []) found.add(index);
  }
  return [...found].sort((a, b) => a - b);
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
