// The end-to-end load section of `npm run bench`: a real Charla server (its own process, on
// embedded-mongo with journaling) under widget visitors and agents from a separate load generator
// process, and in the same run a bare `ws` relay with the same fan-out driven by the same
// generator, so Charla's figures read as ratios of the transport's.
import { fork, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { MongoClient } from 'mongodb';
import { PRESETS } from '@charla/rules';
import { LoggingProcess, startCharlaProcess, startMongoProcess, startReplicaSetMongoProcess, type CharlaProcess, type MongoProcess } from '../support/processes.ts';
import { withDatabase } from '../support/mongo.ts';
import { mergeHistograms, summarize, type LatencySummary } from './histogram.ts';
import type { ChildMessage, ClientSetup, InboxPlan, LatencyKind, ParentMessage, StepRequest, StepResult, Target, Verification } from './load-client.ts';
import type { BenchOptions, BenchRow, BenchSection } from './report.ts';
import { onInterrupt } from './interrupt.ts';
import { cpuMilliseconds, residentBytes } from './process-memory.ts';
import { postGraphQL as graphql } from '../support/graphql-http.ts';

const LOAD_CLIENT = fileURLToPath(new URL('./load-client.ts', import.meta.url));
const WS_RELAY = fileURLToPath(new URL('./ws-relay.ts', import.meta.url));
const METRICS_TOKEN = 'load-benchmark-metrics-token';
const ADMIN_PASSWORD = 'admin-password';
const AGENTS_PER_INBOX = 10;
const REPLY_EVERY = 5;
const P99_TARGET_MS = 50;
const THROUGHPUT_TARGET = 5_000;

interface Plan {
  visitors: number;
  agents: number;
  /** Offered visitor-message rates, in order; the ramp stops at the first one not sustained. */
  rates: number[];
  warmupMs: number;
  measureMs: number;
  drainMs: number;
  /** Load generator processes; inboxes (their visitors and agents together) are split among them. */
  generators: number;
}

const QUICK: Plan = { visitors: 30, agents: 10, rates: [20], warmupMs: 1_000, measureMs: 3_000, drainMs: 1_000, generators: 1 };
const FULL: Plan = {
  visitors: 1_000,
  agents: 50,
  rates: [50, 100, 150, 200, 250, 500, 1_000, 1_500, 2_000, 3_000, 4_000, 5_000, 6_500, 8_000, 10_000, 13_000, 16_000, 20_000],
  warmupMs: 3_000,
  measureMs: 10_000,
  drainMs: 3_000,
  generators: 1,
};

// ---------------------------------------------------------------------------------------------
// Process samples from /proc: CPU over the window, resident memory at its peak.

const cpuSecondsOf = (pid: number): number => cpuMilliseconds(pid) / 1000;
const rssMiBOf = (pid: number): number => residentBytes(pid) / 2 ** 20;

class ProcessSampler {
  private cpuAtStart = 0;
  private startedAt = 0;
  private peakRss = 0;
  private timer: NodeJS.Timeout | undefined;
  cpuPercent = 0;
  rssMiB = 0;

  constructor(readonly pid: number) {}

  start(): void {
    this.cpuAtStart = cpuSecondsOf(this.pid);
    this.startedAt = performance.now();
    this.peakRss = rssMiBOf(this.pid);
    this.timer = setInterval(() => (this.peakRss = Math.max(this.peakRss, rssMiBOf(this.pid))), 250);
  }

  stop(): void {
    clearInterval(this.timer);
    const seconds = (performance.now() - this.startedAt) / 1000;
    this.cpuPercent = ((cpuSecondsOf(this.pid) - this.cpuAtStart) / seconds) * 100;
    this.rssMiB = Math.max(this.peakRss, rssMiBOf(this.pid));
  }
}

interface EventLoopDelay {
  p50: number;
  p99: number;
  max: number;
}

/** Operations run so far per collection of the benchmark's database (mongod's `top` command). */
async function operationCounts(client: MongoClient): Promise<Map<string, number>> {
  const { totals } = (await client.db('admin').command({ top: 1 })) as { totals: Record<string, { total?: { count: number } }> };
  const counts = new Map<string, number>();
  for (const [namespace, entry] of Object.entries(totals)) {
    if (namespace.startsWith('charla.') && entry.total) counts.set(namespace.slice('charla.'.length), entry.total.count);
  }
  return counts;
}

function operationsPerMessage(before: Map<string, number>, after: Map<string, number>, messages: number): { perMessage: number; byCollection: Record<string, number> } {
  const byCollection: Record<string, number> = {};
  let all = 0;
  for (const [collection, count] of after) {
    const ran = count - (before.get(collection) ?? 0);
    if (ran <= 0) continue;
    all += ran;
    byCollection[collection] = Number((ran / Math.max(messages, 1)).toFixed(2));
  }
  const sorted = Object.fromEntries(Object.entries(byCollection).sort(([, a], [, b]) => b - a));
  return { perMessage: Number((all / Math.max(messages, 1)).toFixed(2)), byCollection: sorted };
}

/** Charla's /metrics: reading it also starts a new event-loop delay interval. */
async function scrapeEventLoopDelay(url: string): Promise<EventLoopDelay> {
  const response = await fetch(`${url}/metrics`, { headers: { authorization: `Bearer ${METRICS_TOKEN}` } });
  const text = await response.text();
  const sample = (quantile: string): number => Number(new RegExp(`nodejs_eventloop_delay_seconds\\{quantile="${quantile}"\\} (\\S+)`).exec(text)?.[1] ?? NaN) * 1000;
  return { p50: sample('0.5'), p99: sample('0.99'), max: sample('1') };
}

// ---------------------------------------------------------------------------------------------
// The load generator processes.

class GeneratorProcess {
  readonly child: ChildProcess;
  private readonly inbox: ChildMessage[] = [];
  private readonly waiters: Array<() => void> = [];
  readonly exited: Promise<void>;

  constructor() {
    this.child = fork(LOAD_CLIENT, [], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    this.child.on('message', (message: ChildMessage) => {
      this.inbox.push(message);
      for (const wake of this.waiters.splice(0)) wake();
    });
    this.exited = new Promise((resolve) => this.child.once('exit', () => {
      for (const wake of this.waiters.splice(0)) wake();
      resolve();
    }));
  }

  send(message: ParentMessage): void {
    this.child.send(message);
  }

  /** The next message of `type` (earlier ones of other types are dropped); a failure rejects. */
  async next<T extends ChildMessage['type']>(type: T, timeoutMs: number): Promise<Extract<ChildMessage, { type: T }>> {
    const until = Date.now() + timeoutMs;
    for (;;) {
      const index = this.inbox.findIndex((message) => message.type === type || message.type === 'failed');
      if (index >= 0) {
        const [message] = this.inbox.splice(index, 1);
        if (message!.type === 'failed') throw new Error(`load generator failed: ${message!.error}`);
        return message as Extract<ChildMessage, { type: T }>;
      }
      if (this.child.exitCode !== null || this.child.signalCode !== null) throw new Error(`load generator exited (${this.child.exitCode ?? this.child.signalCode})`);
      if (Date.now() > until) throw new Error(`timed out waiting for the load generator's ${type}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, Math.max(0, until - Date.now()));
        this.waiters.push(() => (clearTimeout(timer), resolve()));
      });
    }
  }

  kill(): void {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGKILL');
  }
}

interface StepFigures {
  rate: number;
  /** Persisted (acknowledged) per second in the window: visitor messages, replies, both. */
  visitorPerSecond: number;
  replyPerSecond: number;
  persistedPerSecond: number;
  deliveriesPerSecond: number;
  inFlightAtEnd: number;
  errors: number;
  errorSamples: string[];
  latency: Record<LatencyKind, LatencySummary>;
  sustained: boolean;
  server?: { cpuPercent: number; rssMiB: number };
  database?: { cpuPercent: number; rssMiB: number };
  generatorCpuPercent: number;
  eventLoop?: EventLoopDelay;
  /** Database operations in the window per persisted message, in all and per collection (mongod's `top`). */
  databaseOperations?: { perMessage: number; byCollection: Record<string, number> };
}

interface TargetRun {
  target: Target;
  steps: StepFigures[];
  verification: Verification;
  setupMs: number;
}

/** Server CPU time per persisted message, ms: comparable across rates and a noisy machine. */
const cpuPerMessage = (step: Pick<StepFigures, 'server' | 'persistedPerSecond'>): number => (step.server && step.persistedPerSecond > 0 ? (step.server.cpuPercent * 10) / step.persistedPerSecond : 0);

/** Keeping up: nearly all offered messages persisted in the window, no backlog, latency not exploding. */
function isSustained(step: Omit<StepFigures, 'sustained'>): boolean {
  return step.visitorPerSecond >= step.rate * 0.95 && step.inFlightAtEnd <= step.rate * 0.5 && step.latency.visitorToAgent.p99 < 1_000 && step.errors === 0;
}

async function driveTarget(
  target: Target,
  url: string,
  inboxes: InboxPlan[],
  plan: Plan,
  observed: { servers?: number[]; database?: number; metricsUrl?: string; mongodbUri?: string; nodeUrls?: string[] },
  log: (line: string) => void,
  stopAtRate?: number,
): Promise<TargetRun> {
  const generators = Array.from({ length: Math.min(plan.generators, inboxes.length) }, () => new GeneratorProcess());
  const cleanup = onInterrupt(() => generators.forEach((generator) => generator.kill()));
  const database = observed.mongodbUri ? new MongoClient(observed.mongodbUri) : undefined;
  try {
    const setups: ClientSetup[] = generators.map((_, n) => ({ target, url, nodeUrls: observed.nodeUrls, replyEvery: REPLY_EVERY, inboxes: inboxes.filter((_, index) => index % generators.length === n) }));
    generators.forEach((generator, n) => generator.send({ type: 'setup', setup: setups[n]! }));
    const ready = await Promise.all(generators.map((generator) => generator.next('ready', 300_000)));
    const setupMs = Math.max(...ready.map((message) => message.setupMs));
    log(`load: ${target}: ${ready.reduce((sum, message) => sum + message.visitors, 0)} visitors and ${ready.reduce((sum, message) => sum + message.agents, 0)} agents connected in ${(setupMs / 1000).toFixed(1)} s`);

    const steps: StepFigures[] = [];
    for (const rate of plan.rates) {
      if (stopAtRate !== undefined && rate > stopAtRate) break;
      const request: StepRequest = { rate: rate / generators.length, warmupMs: plan.warmupMs, measureMs: plan.measureMs, drainMs: plan.drainMs };
      generators.forEach((generator) => generator.send({ type: 'step', step: request }));
      await generators[0]!.next('window-start', plan.warmupMs + 30_000);
      const samplers = {
        servers: (observed.servers ?? []).map((pid) => new ProcessSampler(pid)),
        database: observed.database ? new ProcessSampler(observed.database) : undefined,
        generators: generators.map((generator) => new ProcessSampler(generator.child.pid!)),
      };
      if (observed.metricsUrl) await scrapeEventLoopDelay(observed.metricsUrl);
      const operationsBefore = database ? await operationCounts(database) : undefined;
      [...samplers.servers, samplers.database, ...samplers.generators].forEach((sampler) => sampler?.start());
      await generators[0]!.next('window-end', plan.measureMs + 30_000);
      [...samplers.servers, samplers.database, ...samplers.generators].forEach((sampler) => sampler?.stop());
      const eventLoop = observed.metricsUrl ? await scrapeEventLoopDelay(observed.metricsUrl) : undefined;
      const operationsAfter = database ? await operationCounts(database) : undefined;
      const results: StepResult[] = (await Promise.all(generators.map((generator) => generator.next('step-result', plan.drainMs + 60_000)))).map((message) => message.result);

      const seconds = Math.max(...results.map((result) => result.windowMs)) / 1000;
      const sum = (pick: (result: StepResult) => number): number => results.reduce((total, result) => total + pick(result), 0);
      const latencyOf = (kind: LatencyKind): LatencySummary => summarize(mergeHistograms(results.map((result) => result.histograms[kind])));
      const figures: Omit<StepFigures, 'sustained'> = {
        rate,
        visitorPerSecond: sum((result) => result.counts.visitorAcked) / seconds,
        replyPerSecond: sum((result) => result.counts.replyAcked) / seconds,
        persistedPerSecond: sum((result) => result.counts.visitorAcked + result.counts.replyAcked) / seconds,
        deliveriesPerSecond: sum((result) => result.counts.deliveries) / seconds,
        inFlightAtEnd: sum((result) => result.inFlightAtEnd),
        errors: sum((result) => result.counts.errors),
        errorSamples: results.flatMap((result) => result.errorSamples).slice(0, 5),
        latency: { visitorAck: latencyOf('visitorAck'), visitorToAgent: latencyOf('visitorToAgent'), replyAck: latencyOf('replyAck'), agentToVisitor: latencyOf('agentToVisitor') },
        // Every node together: CPU adds up (100 % is one core), memory too.
        server: samplers.servers.length > 0 ? { cpuPercent: samplers.servers.reduce((total, sampler) => total + sampler.cpuPercent, 0), rssMiB: samplers.servers.reduce((total, sampler) => total + sampler.rssMiB, 0) } : undefined,
        database: samplers.database && { cpuPercent: samplers.database.cpuPercent, rssMiB: samplers.database.rssMiB },
        generatorCpuPercent: samplers.generators.reduce((total, sampler) => total + sampler.cpuPercent, 0),
        eventLoop,
      };
      if (operationsBefore && operationsAfter) {
        figures.databaseOperations = operationsPerMessage(operationsBefore, operationsAfter, sum((result) => result.counts.visitorAcked + result.counts.replyAcked));
      }
      const step = { ...figures, sustained: isSustained(figures) };
      steps.push(step);
      log(
        `load: ${target} @ ${rate}/s: ${step.persistedPerSecond.toFixed(0)} persisted/s, ${step.deliveriesPerSecond.toFixed(0)} deliveries/s, ` +
          `v→a p50/p99 ${step.latency.visitorToAgent.p50}/${step.latency.visitorToAgent.p99} ms, a→v p99 ${step.latency.agentToVisitor.p99} ms, ` +
          `in flight ${step.inFlightAtEnd}, errors ${step.errors}${step.errorSamples[0] ? ` (${step.errorSamples[0]})` : ''}` +
          `${step.server ? `, server CPU ${step.server.cpuPercent.toFixed(0)}% (${cpuPerMessage(step).toFixed(2)} ms per message)` : ''}` +
          `${step.databaseOperations ? `, database operations per message ${step.databaseOperations.perMessage} (${Object.entries(step.databaseOperations.byCollection).map(([name, count]) => `${name} ${count}`).join(', ')})` : ''}, generator CPU ${step.generatorCpuPercent.toFixed(0)}%${step.sustained ? '' : ' — not sustained'}`,
      );
      if (!step.sustained) break;
    }

    generators.forEach((generator) => generator.send({ type: 'finish' }));
    const verifications = (await Promise.all(generators.map((generator) => generator.next('verification', 60_000)))).map((message) => message.verification);
    const verification: Verification = {
      visitorAcked: verifications.reduce((sum, part) => sum + part.visitorAcked, 0),
      replyAcked: verifications.reduce((sum, part) => sum + part.replyAcked, 0),
      undeliveredToAgents: verifications.reduce((sum, part) => sum + part.undeliveredToAgents, 0),
      undeliveredReplies: verifications.reduce((sum, part) => sum + part.undeliveredReplies, 0),
      errors: verifications.reduce((sum, part) => sum + part.errors, 0),
    };
    return { target, steps, verification, setupMs };
  } finally {
    generators.forEach((generator) => generator.kill());
    cleanup();
    await database?.close();
  }
}

// ---------------------------------------------------------------------------------------------
// Charla set up as an administrator would: inboxes with every preset on, agents as members.

const allDay = Array.from({ length: 7 }, () => ({ closed: false, openMinute: 0, closeMinute: 24 * 60 }));

export async function setUpAccount(url: string, plan: Pick<Plan, 'agents' | 'visitors'>): Promise<InboxPlan[]> {
  const { login } = await graphql(url, 'mutation($email: String!, $password: String!) { login(email: $email, password: $password) { token } }', { email: 'admin@charla.local', password: ADMIN_PASSWORD });
  const admin = login.token as string;
  const inboxCount = Math.max(1, Math.round(plan.agents / AGENTS_PER_INBOX));
  const inboxes: InboxPlan[] = [];
  for (let key = 0; key < inboxCount; key++) {
    const settings = {
      greeting: { enabled: true, text: 'Hi! Thanks for writing, an agent will be with you shortly.' },
      emailCollect: true,
      autoAssignment: { enabled: true },
      csat: { enabled: true },
      workingHours: { enabled: true, timezone: 'UTC', outOfOfficeMessage: 'We are away right now and will answer as soon as we are back.', days: allDay },
      botEnabled: true,
    };
    const { createInbox } = await graphql(url, 'mutation($input: CreateInboxInput!) { createInbox(input: $input) { id websiteToken } }', { input: { name: `Support ${key + 1}`, channelType: 'WEB_WIDGET', settings } }, admin);
    const agents = Array.from({ length: Math.round(plan.agents / inboxCount) }, (_, n) => ({ email: `agent-${key}-${n}@bench.example`, password: 'agent-password-1' }));
    const agentIds: string[] = [];
    for (const [n, agent] of agents.entries()) {
      const { createAgent } = await graphql(url, 'mutation($input: CreateAgentInput!) { createAgent(input: $input) { id } }', { input: { name: `Agent ${key}-${n}`, email: agent.email, password: agent.password } }, admin);
      agentIds.push(createAgent.id);
    }
    await graphql(url, 'mutation($inboxId: ID!, $agentIds: [ID!]!) { setInboxMembers(inboxId: $inboxId, agentIds: $agentIds) { id } }', { inboxId: createInbox.id, agentIds }, admin);
    inboxes.push({ key, inboxId: createInbox.id, websiteToken: createInbox.websiteToken, agents, visitors: Math.round(plan.visitors / inboxCount) });
  }
  // The FAQ bot is the one preset no inbox setting switches on: an administrator saves it as a rule set.
  await graphql(url, 'mutation($json: JSON!) { saveRuleSet(json: $json) { id } }', { json: { ...PRESETS['faq-bot'], inboxes: inboxes.map((inbox) => inbox.inboxId) } }, admin);
  return inboxes;
}

/** Messages the benchmark wrote, as stored: visitors' (v…) and agents' replies (r…). */
async function countStored(mongodbUri: string): Promise<{ visitor: number; replies: number }> {
  const client = await MongoClient.connect(mongodbUri);
  try {
    const messages = client.db().collection('messages');
    const [visitor, replies] = await Promise.all([
      messages.countDocuments({ messageType: 'incoming', content: { $regex: '^v\\d+\\.\\d+ ' } }),
      messages.countDocuments({ messageType: 'outgoing', content: { $regex: '^r\\d+\\.\\d+ ' } }),
    ]);
    return { visitor, replies };
  } finally {
    await client.close();
  }
}

// ---------------------------------------------------------------------------------------------

export async function run(options: BenchOptions): Promise<BenchSection> {
  // BENCH_LOAD_RATES (comma-separated), BENCH_LOAD_MEASURE_MS and BENCH_LOAD_GENERATORS override the plan;
  // BENCH_CPU_PROF=<dir> profiles the server, BENCH_SERVER_NODE_ARGS adds to its node flags.
  const plan = { ...(options.quick ? QUICK : FULL) };
  if (process.env.BENCH_LOAD_GENERATORS) plan.generators = Number(process.env.BENCH_LOAD_GENERATORS);
  if (process.env.BENCH_LOAD_MEASURE_MS) plan.measureMs = Number(process.env.BENCH_LOAD_MEASURE_MS);
  if (process.env.BENCH_LOAD_RATES) plan.rates = process.env.BENCH_LOAD_RATES.split(',').map(Number);
  const log = options.log;
  const dataDir = await mkdtemp(path.join(tmpdir(), 'charla-load-'));
  let mongo: MongoProcess | undefined;
  let nodes: CharlaProcess[] = [];
  let relay: LoggingProcess | undefined;
  const stopAll = async (): Promise<void> => {
    await Promise.all([...nodes.map((node) => node.stop()), relay?.stop()]);
    await mongo?.stop();
  };
  const cleanup = onInterrupt(() => [...nodes, relay, mongo].forEach((child) => child?.signal('SIGKILL')));
  // Several nodes share a replica set (events travel by change stream); BENCH_LOAD_REPLICA_SET=1 puts one node there too, to see what the bus costs.
  const replicaSet = options.nodes > 1 || process.env.BENCH_LOAD_REPLICA_SET === '1';
  try {
    // BENCH_MONGO_CPU_PROF=<directory> profiles embedded-mongo the same way.
    const mongoNodeArgs = process.env.BENCH_MONGO_CPU_PROF ? ['--cpu-prof', `--cpu-prof-dir=${path.resolve(process.env.BENCH_MONGO_CPU_PROF)}`] : [];
    mongo = replicaSet
      ? await startReplicaSetMongoProcess({ dbPath: path.join(dataDir, 'db'), nodeArgs: mongoNodeArgs })
      : await startMongoProcess({ dbPath: path.join(dataDir, 'db'), nodeArgs: mongoNodeArgs });
    const mongodbUri = withDatabase(mongo.uri, 'charla');
    // BENCH_CPU_PROF=<directory> writes a V8 CPU profile of each server there when it stops.
    const nodeArgs = [...(process.env.BENCH_CPU_PROF ? ['--cpu-prof', `--cpu-prof-dir=${path.resolve(process.env.BENCH_CPU_PROF)}`] : []), ...(process.env.BENCH_SERVER_NODE_ARGS?.split(' ').filter(Boolean) ?? [])];
    for (let n = 1; n <= options.nodes; n++) {
      nodes.push(
        await startCharlaProcess({
          mongodbUri,
          dataDir,
          nodeArgs,
          env: { METRICS_TOKEN, CHARLA_NODE_ID: `bench-node-${n}`, CHARLA_ADMIN_PASSWORD: ADMIN_PASSWORD, CHARLA_DEMO: '0', NODE_ENV: 'production', VISITOR_MESSAGE_BURST: '1000000', VISITOR_MESSAGES_PER_MINUTE: '1000000000' },
        }),
      );
    }
    const charla = nodes[0]!;
    log(`load: Charla at ${nodes.map((node) => `${node.url} (pid ${node.pid})`).join(', ')}${replicaSet ? ' on a replica set' : ''}, embedded-mongo pid ${mongo.pid}`);
    const inboxes = await setUpAccount(charla.url, plan);

    const charlaRun = await driveTarget('charla', charla.url, inboxes, plan, { servers: nodes.map((node) => node.pid), database: mongo.pid, metricsUrl: charla.url, mongodbUri, nodeUrls: nodes.map((node) => node.url) }, log);
    const stored = await countStored(mongodbUri);
    // A profiled server writes its profile on the way out, after what is still queued.
    const exits = await Promise.all(nodes.map((node) => node.stop(process.env.BENCH_CPU_PROF ? 120_000 : 10_000)));
    for (const exit of exits) if (exit.code !== 0) log(`load: Charla exited with ${exit.code ?? exit.signal}`);
    nodes = [];

    relay = new LoggingProcess(process.execPath, ['--import', 'tsx', WS_RELAY]);
    const { url: relayUrl } = await relay.waitForJsonLine<{ url: string }>((line) => typeof line.url === 'string', 'the relay to listen');
    const relayInboxes = inboxes.map((inbox) => ({ key: inbox.key, agents: inbox.agents, visitors: inbox.visitors }));
    const relayRun = await driveTarget('relay', relayUrl, relayInboxes, plan, { servers: [relay.pid] }, log);
    return report(plan, charlaRun, relayRun, stored);
  } finally {
    cleanup();
    await stopAll();
    await rm(dataDir, { recursive: true, force: true });
  }
}

function report(plan: Plan, charla: TargetRun, relay: TargetRun, stored: { visitor: number; replies: number }): BenchSection {
  const best = (run: TargetRun): StepFigures | undefined => [...run.steps].reverse().find((step) => step.sustained);
  const charlaBest = best(charla) ?? charla.steps[0]!;
  const relayBest = best(relay) ?? relay.steps[0]!;
  // Latency is compared at the same offered rate; throughput at each one's highest sustained rate.
  const relayAtSameRate = relay.steps.find((step) => step.rate === charlaBest.rate) ?? relayBest;
  const ratio = (value: number, baseline: number, better: 'higher' | 'lower'): string => {
    if (!(baseline > 0)) return '';
    const times = value / baseline;
    return better === 'higher' ? `${times.toFixed(2)}×` : `${times.toFixed(1)}×`;
  };
  const latencyRows = (label: string, kind: LatencyKind, target?: string): BenchRow[] =>
    (['p50', 'p95', 'p99'] as const).map((percentile) => ({
      measure: `${label}, ${percentile}`,
      // Nothing received within the window and its drain: no figure rather than a 0.
      value: charlaBest.latency[kind].count > 0 ? charlaBest.latency[kind][percentile] : 'none received',
      baseline: relayAtSameRate.latency[kind][percentile],
      ratio: charlaBest.latency[kind].count > 0 ? ratio(charlaBest.latency[kind][percentile], relayAtSameRate.latency[kind][percentile], 'lower') : '',
      unit: 'ms',
      ...(percentile === 'p99' && target ? { target } : {}),
    }));
  const rows: BenchRow[] = [
    {
      measure: 'sustained throughput: messages persisted and delivered (visitor messages + replies)',
      value: charlaBest.persistedPerSecond,
      baseline: relayBest.persistedPerSecond,
      ratio: ratio(charlaBest.persistedPerSecond, relayBest.persistedPerSecond, 'higher'),
      unit: 'messages/s',
      target: `≥ ${THROUGHPUT_TARGET.toLocaleString('en-US')}`,
    },
    {
      measure: 'deliveries to subscribers at that rate (agents of the inbox, visitors)',
      value: charlaBest.deliveriesPerSecond,
      baseline: relayBest.deliveriesPerSecond,
      ratio: ratio(charlaBest.deliveriesPerSecond, relayBest.deliveriesPerSecond, 'higher'),
      unit: 'frames/s',
    },
    ...latencyRows('visitor → agent delivery', 'visitorToAgent', `< ${P99_TARGET_MS}`),
    ...latencyRows('agent → visitor delivery', 'agentToVisitor'),
    ...latencyRows('visitor send → acknowledged (persisted)', 'visitorAck'),
    { measure: 'server CPU (of 2 cores = 200 %)', value: charlaBest.server?.cpuPercent ?? 0, baseline: relayAtSameRate.server?.cpuPercent ?? 0, unit: '%' },
    { measure: 'server CPU time per persisted message', value: cpuPerMessage(charlaBest), baseline: cpuPerMessage(relayAtSameRate), ratio: ratio(cpuPerMessage(charlaBest), cpuPerMessage(relayAtSameRate), 'lower'), unit: 'ms' },
    { measure: 'server resident memory, peak', value: charlaBest.server?.rssMiB ?? 0, baseline: relayAtSameRate.server?.rssMiB ?? 0, unit: 'MiB' },
    { measure: 'database operations per persisted message (commands the server sent, from `top`)', value: charlaBest.databaseOperations?.perMessage ?? '', unit: '' },
    { measure: 'embedded-mongo CPU / resident memory', value: `${(charlaBest.database?.cpuPercent ?? 0).toFixed(0)} % / ${(charlaBest.database?.rssMiB ?? 0).toFixed(0)} MiB`, unit: '' },
    { measure: 'load generator CPU', value: charlaBest.generatorCpuPercent, baseline: relayAtSameRate.generatorCpuPercent, unit: '%' },
    { measure: 'server event-loop delay p50 / p99 / max', value: charlaBest.eventLoop ? `${charlaBest.eventLoop.p50.toFixed(1)} / ${charlaBest.eventLoop.p99.toFixed(1)} / ${charlaBest.eventLoop.max.toFixed(1)}` : '', unit: 'ms' },
    {
      measure: 'acknowledged messages persisted (visitor + replies, whole run)',
      value: `${stored.visitor + stored.replies} of ${charla.verification.visitorAcked + charla.verification.replyAcked}`,
      unit: '',
    },
    {
      measure: 'acknowledged messages not delivered to every receiver',
      value: charla.verification.undeliveredToAgents + charla.verification.undeliveredReplies,
      baseline: relay.verification.undeliveredToAgents + relay.verification.undeliveredReplies,
      unit: 'messages',
    },
  ];
  const inboxes = Math.max(1, Math.round(plan.agents / AGENTS_PER_INBOX));
  const notes = [
    `${plan.visitors.toLocaleString('en-US')} widget visitors and ${plan.agents} agents in ${inboxes} inbox${inboxes > 1 ? 'es' : ''} (${AGENTS_PER_INBOX} agents each, every agent subscribed to its inbox's events: a visitor message fans out to ${AGENTS_PER_INBOX} agents); messages of 60–200 characters; the responsible agent answers one message in ${REPLY_EVERY}. Every rules preset is on (greeting, e-mail capture, out-of-office with all-day working hours, CSAT, bot hand-off, FAQ bot), auto-assignment on; embedded-mongo journals every write.`,
    `Open loop: visitors send at an offered rate whatever the answers do (${plan.rates.join(', ')} messages/s in turn, ${plan.warmupMs / 1000} s warm-up then a ${plan.measureMs / 1000} s window each); a rate is sustained when ≥ 95 % of it is persisted in the window, the backlog at its end is under half a second of sending, p99 stays under 1 s and nothing fails. The table shows the highest sustained rate (Charla ${charlaBest.rate}/s${charlaBest.sustained ? '' : ', not sustained'}; relay ${relayBest.rate}/s${relayBest.sustained ? '' : ', not sustained'}${relay.steps.at(-1)?.sustained && relay.steps.at(-1)?.rate === plan.rates.at(-1) ? ', the last rate tried' : ''}); latencies and CPU are compared with the relay at the same offered rate.`,
    `Latency is measured in the load generator from the send to the receipt of the subscription event (HDR histogram, every receiving agent counted), warm-up excluded; the generator and the server share the machine's 2 cores (${plan.generators} generator process${plan.generators > 1 ? 'es' : ''}, its CPU shown above), so at high rates both sides compete for CPU, the relay's figures most.`,
    'Baseline: a bare `ws` relay process (no database, no GraphQL, no rules) with the same visitors, agents, fan-out, message sizes and rates, acknowledging each message to its sender.',
    `Server at its default info log level, NODE_ENV=production. Charla steps: ${charla.steps.map((step) => `${step.rate}/s → ${step.persistedPerSecond.toFixed(0)} persisted/s, v→a p99 ${step.latency.visitorToAgent.p99} ms${step.sustained ? '' : ' (not sustained)'}`).join('; ')}.`,
  ];
  return {
    name: 'load',
    title: 'End-to-end load: widget visitors and agents over graphql-ws, against a bare WebSocket relay',
    rows,
    notes,
    details: { plan, charla, relay, stored },
  };
}
