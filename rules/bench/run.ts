// Rules benchmark: 1,000 generated rules on one inbox, evaluated per event by Charla's RuleIndex
// (one json-rules-engine Engine per event and inbox) and by a naive baseline (one Engine holding
// every rule, the event tested as a fact). Both run in the same process, interleaved.
// json-rules-engine spends tens of microseconds per rule, so the run is sized in hundreds of events:
//   npm run bench -w @charla/rules                       full run (under a minute on 2 cores)
//   npm run bench -w @charla/rules -- --quick            a smoke run (under 10 s; p99 is about the maximum)
//   npm run bench -w @charla/rules -- --iterations 2000  more measured events, for a steadier p99
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Engine, type NestedCondition, type RuleResult } from 'json-rules-engine';
import { parseRuleSet, type RuleSet } from '../src/document.ts';
import { RuleIndex, type RuleSetEntry } from '../src/engine.ts';
import { OPERATOR_IMPLEMENTATIONS } from '../src/operators.ts';
import { OPERATOR_NAMES, RULE_EVENTS, type RuleEvent } from '../src/vocabulary.ts';
import { INBOX_ID, generateEvents, generateRuleSets, type SampleEvent } from './workload.ts';

const here = dirname(fileURLToPath(import.meta.url));
const args = process.argv.slice(2);
const quick = args.includes('--quick');
const iterationsFlag = args.indexOf('--iterations');
// The root `npm run bench -- …` passes its flags to every benchmark; ones meant for another are ignored.
const ignored = args.filter((arg, index) => arg !== '--quick' && arg !== '--iterations' && index !== iterationsFlag + 1);
if (ignored.length > 0) process.stderr.write(`rules bench: ignoring ${ignored.join(' ')}\n`);

const RULE_COUNT = 1_000;
const RULE_SET_COUNT = 4;
const SEED = 20_26;
const DISTINCT_EVENTS = quick ? 40 : 200;
const COMPILE_REPEATS = quick ? 3 : 7;
const ITERATIONS = iterationsFlag >= 0 ? Number(args[iterationsFlag + 1]) : quick ? 100 : 700;
if (!Number.isInteger(ITERATIONS) || ITERATIONS < 100) throw new Error('--iterations takes a whole number of at least 100');

/** The baseline's fact naming the event (no vocabulary fact has this name). */
const EVENT_FACT = 'event';

const elapsedMs = (start: bigint): number => Number(process.hrtime.bigint() - start) / 1e6;

function median(values: number[]): number {
  return [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
}

function percentile(sorted: Float64Array | number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

// --- The workload -------------------------------------------------------------------------------

const documents = generateRuleSets(RULE_COUNT, RULE_SET_COUNT, SEED).map((document) => JSON.stringify(document));
const events = generateEvents(DISTINCT_EVENTS, SEED + 1);

let start = process.hrtime.bigint();
const ruleSets: RuleSet[] = documents.map((text, index) => {
  const parsed = parseRuleSet(text);
  if (!parsed.ok) throw new Error(`generated rule set ${index} is invalid: ${JSON.stringify(parsed.errors.slice(0, 5))}`);
  return parsed.ruleSet;
});
const parseMs = elapsedMs(start);
const entries: RuleSetEntry[] = ruleSets.map((ruleSet, index) => ({ key: `team-${index + 1}`, ruleSet }));
const rulesPerEvent = new Map<RuleEvent, number>(RULE_EVENTS.map((event) => [event, 0]));
for (const ruleSet of ruleSets) for (const rule of ruleSet.rules) rulesPerEvent.set(rule.on, rulesPerEvent.get(rule.on)! + 1);

// --- (a) RuleIndex, and (b) one Engine with every rule -----------------------------------------

/** Same engine options as RuleIndex: undefined facts allowed, "$.name" reads one attribute directly. */
function attributeByName(value: object, path: string): unknown {
  const key = path.slice(2);
  return value !== null && typeof value === 'object' && Object.hasOwn(value, key) ? (value as Record<string, unknown>)[key] : undefined;
}

function buildBaseline(): Engine {
  const engine = new Engine([], { allowUndefinedFacts: true, pathResolver: attributeByName });
  for (const name of OPERATOR_NAMES) engine.addOperator(name, OPERATOR_IMPLEMENTATIONS[name]);
  for (const ruleSet of ruleSets) {
    for (const rule of ruleSet.rules) {
      engine.addRule({
        name: rule.id,
        // The event test has a higher priority, so it runs first and the rest is skipped when it
        // fails: the baseline does not evaluate rules of other events.
        conditions: { all: [{ fact: EVENT_FACT, operator: 'equal', value: rule.on, priority: 10 }, rule.conditions as NestedCondition] },
        event: { type: 'match', params: { id: rule.id } },
      });
    }
  }
  return engine;
}

const indexCompileMs: number[] = [];
const baselineBuildMs: number[] = [];
let index!: RuleIndex;
let baseline!: Engine;
for (let repeat = 0; repeat < COMPILE_REPEATS; repeat += 1) {
  start = process.hrtime.bigint();
  index = new RuleIndex(entries);
  indexCompileMs.push(elapsedMs(start));
  start = process.hrtime.bigint();
  baseline = buildBaseline();
  baselineBuildMs.push(elapsedMs(start));
}

async function matchedByIndex(sample: SampleEvent): Promise<string[]> {
  const { matched } = await index.evaluate(sample.event, INBOX_ID, sample.facts);
  return matched.map(({ rule }) => rule.id);
}

async function matchedByBaseline(sample: SampleEvent): Promise<string[]> {
  const { results } = await baseline.run({ ...sample.facts, [EVENT_FACT]: sample.event });
  return results.map((result: RuleResult) => (result.event!.params as { id: string }).id);
}

// --- Same answers, or no numbers; the first pass over every event is also the warm-up ----------

function checkSame(position: number, sample: SampleEvent, ours: string[], theirs: string[]): void {
  const a = [...ours].sort().join();
  const b = [...theirs].sort().join();
  if (a === b) return;
  process.exitCode = 1;
  throw new Error(`event ${position} (${sample.event}): RuleIndex matched [${a}] but the single engine matched [${b}]\nfacts: ${JSON.stringify(sample.facts)}`);
}

let matchedTotal = 0;
let eventsWithMatches = 0;
for (const [position, sample] of events.entries()) {
  const ours = await matchedByIndex(sample);
  checkSame(position, sample, ours, await matchedByBaseline(sample));
  matchedTotal += ours.length;
  if (ours.length > 0) eventsWithMatches += 1;
}
if (matchedTotal === 0) throw new Error('no rule matched any sample event: the comparison would prove nothing');

// --- Measure ------------------------------------------------------------------------------------

const indexTimes = new Float64Array(ITERATIONS);
const baselineTimes = new Float64Array(ITERATIONS);
const timesByEvent = new Map<RuleEvent, { index: number[]; baseline: number[] }>(RULE_EVENTS.map((event) => [event, { index: [], baseline: [] }]));

async function timed(evaluate: (sample: SampleEvent) => Promise<string[]>, sample: SampleEvent): Promise<{ ms: number; ids: string[] }> {
  const begin = process.hrtime.bigint();
  const ids = await evaluate(sample);
  return { ms: elapsedMs(begin), ids };
}

const measureStart = process.hrtime.bigint();
for (let iteration = 0; iteration < ITERATIONS; iteration += 1) {
  const position = iteration % events.length;
  const sample = events[position]!;
  // Alternate which goes first, so neither always runs right after the other's garbage.
  let ours: { ms: number; ids: string[] };
  let theirs: { ms: number; ids: string[] };
  if (iteration % 2 === 0) {
    ours = await timed(matchedByIndex, sample);
    theirs = await timed(matchedByBaseline, sample);
  } else {
    theirs = await timed(matchedByBaseline, sample);
    ours = await timed(matchedByIndex, sample);
  }
  checkSame(position, sample, ours.ids, theirs.ids);
  indexTimes[iteration] = ours.ms;
  baselineTimes[iteration] = theirs.ms;
  timesByEvent.get(sample.event)!.index.push(indexTimes[iteration]!);
  timesByEvent.get(sample.event)!.baseline.push(baselineTimes[iteration]!);
}
const measureMs = elapsedMs(measureStart);

// --- Report -------------------------------------------------------------------------------------

interface Row {
  measure: string;
  unit: string;
  ruleIndex: number;
  oneEngine: number;
}
const rows: Row[] = [];
function round(value: number, unit: string): number {
  const decimals = unit === 'events/s' ? (value >= 10 ? 0 : 1) : value >= 1 ? 2 : 3;
  return Number(value.toFixed(decimals));
}
function record(measure: string, unit: string, ruleIndex: number, oneEngine: number): void {
  rows.push({ measure, unit, ruleIndex: round(ruleIndex, unit), oneEngine: round(oneEngine, unit) });
}

function mean(values: Float64Array): number {
  let sum = 0;
  for (const value of values) sum += value;
  return sum / values.length;
}
const sortedIndex = indexTimes.slice().sort();
const sortedBaseline = baselineTimes.slice().sort();
record(`compile ${RULE_COUNT.toLocaleString('en')} parsed rules (median of ${COMPILE_REPEATS})`, 'ms', median(indexCompileMs), median(baselineBuildMs));
record('evaluate one event, mean', 'ms', mean(indexTimes), mean(baselineTimes));
record('evaluate one event, p50', 'ms', percentile(sortedIndex, 50), percentile(sortedBaseline, 50));
record('evaluate one event, p99', 'ms', percentile(sortedIndex, 99), percentile(sortedBaseline, 99));
record('evaluations per second (1 / mean, one at a time)', 'events/s', 1000 / mean(indexTimes), 1000 / mean(baselineTimes));
for (const event of RULE_EVENTS) {
  const times = timesByEvent.get(event)!;
  if (times.index.length === 0) continue;
  const sortedEvent = (values: number[]): number[] => [...values].sort((a, b) => a - b);
  record(`${event} (${rulesPerEvent.get(event)} rules listen), p50`, 'ms', percentile(sortedEvent(times.index), 50), percentile(sortedEvent(times.baseline), 50));
}

const machine = `${cpus().length} × ${cpus()[0]?.model.trim() ?? 'cpu'}, ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}`;
const ratio = (row: Row): string => (row.unit === 'events/s' ? row.ruleIndex / row.oneEngine : row.oneEngine / row.ruleIndex).toFixed(1) + '×';
const table = [
  '| measure | RuleIndex | one Engine, all rules | RuleIndex speed-up |',
  '|---|---:|---:|---:|',
  ...rows.map((row) => `| ${row.measure}, ${row.unit} | ${row.ruleIndex.toLocaleString('en')} | ${row.oneEngine.toLocaleString('en')} | ${ratio(row)} |`),
].join('\n');
const workload =
  `${RULE_COUNT.toLocaleString('en')} rules in ${RULE_SET_COUNT} rule sets on one inbox (parsed in ${Math.round(parseMs)} ms); ` +
  `${ITERATIONS.toLocaleString('en')} measured evaluations each over ${events.length.toLocaleString('en')} distinct events ` +
  `(${Math.round((100 * eventsWithMatches) / events.length)}% match at least one rule, ${(matchedTotal / events.length).toFixed(1)} rules on average); ` +
  `both matched the same rules on every evaluation`;

const resultsDir = join(here, 'results');
mkdirSync(resultsDir, { recursive: true });
const file = join(resultsDir, `${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
writeFileSync(
  file,
  JSON.stringify(
    {
      date: new Date().toISOString(),
      quick,
      machine,
      workload: { rules: RULE_COUNT, ruleSets: RULE_SET_COUNT, rulesPerEvent: Object.fromEntries(rulesPerEvent), distinctEvents: events.length, iterations: ITERATIONS, matchedTotal, eventsWithMatches, parseMs, measureMs },
      rows,
    },
    null,
    2,
  ),
);
process.stdout.write(`\nrules benchmark${quick ? ' (quick)' : ''} — ${machine}\n${workload}\n\n${table}\n\nSaved ${file}\n`);
