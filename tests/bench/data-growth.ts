// Data growth: how the console's conversation list answers as an account's conversations grow
// from 10,000 to 1,000,000. The account, agents, inboxes, teams and labels are made through the
// API; conversations and their contacts are bulk-inserted with the driver in the shape the
// mongoose models store, while the server runs (so its indexes are kept up as data arrives, as
// in production); then an agent asks for the list exactly as the console does.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MongoClient, ObjectId, type Db } from 'mongodb';
import { startCharlaProcess, startMongoProcess, type CharlaProcess } from '../support/processes.ts';
import { cpuMilliseconds, mebibytes, residentBytes } from './process-memory.ts';
import type { BenchOptions, BenchRow, BenchSection } from './report.ts';
import { postGraphQL as graphql } from '../support/graphql-http.ts';

// The console's list query (agent-ui/src/conversations/operations.ts: LIST), field for field.
const SUMMARY = 'id displayId status snoozedUntil lastActivityAt muted priority labels team { id name } assignee { id name } contact { id name email } inbox { id name channelType }';
const LIST = `query($filter: ConversationFilter, $after: String) {
  conversations(filter: $filter, first: 25, after: $after) {
    edges { node { ${SUMMARY} } }
    pageInfo { hasNextPage endCursor }
    counts { mine unassigned all }
  }
}`;

const INBOXES = ['Website', 'Support site', 'Shop', 'Partners'];
// Share of the conversations each inbox gets (the demo inbox "Website" first).
const INBOX_WEIGHTS = [0.5, 0.25, 0.15, 0.1];
const AGENTS = ['Bruno', 'Carmen', 'Diego', 'Elena', 'Félix'];
const LABELS = ['billing', 'bug', 'feature-request', 'vip', 'refund', 'onboarding', 'spam', 'urgent'];
// Share of conversations carrying each label (independently).
const LABEL_SHARES = [0.12, 0.08, 0.05, 0.02, 0.04, 0.06, 0.03, 0.02];
const MEASURED_LABEL = 'vip';
// Added and removed between requests of the row that measures counting afresh.
const CHANGED_LABEL = 'urgent';
// Small enough that one insertMany never holds the database long enough for the driver to give up on it.
const INSERT_BATCH = 1_000;
const DAY_MS = 24 * 60 * 60 * 1000;

interface Fixture {
  accountId: ObjectId;
  inboxIds: ObjectId[];
  /** The measuring agent first, then the others. */
  agentIds: ObjectId[];
  teamIds: ObjectId[];
  agentToken: string;
  /** The account's conversation number before seeding (seeded ones continue from it). */
  displayIdBase: number;
}

interface Timing {
  samples: number;
  p50: number;
  p95: number;
  p99: number;
  /** CPU time per request of the Charla process and of the database process. */
  serverCpuMs: number;
  databaseCpuMs: number;
}

/** Small deterministic generator (mulberry32), so every run seeds the same data. */
function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function pick<T>(values: readonly T[], weights: readonly number[], roll: number): T {
  let sum = 0;
  for (let i = 0; i < values.length; i++) {
    sum += weights[i]!;
    if (roll < sum) return values[i]!;
  }
  return values.at(-1)!;
}

/** Agents, inboxes, teams and labels through the admin API; the measuring agent is the demo agent, a member of three inboxes. */
async function createFixture(charla: CharlaProcess, db: Db): Promise<Fixture> {
  const url = charla.url;
  const demo = charla.lines.map((line) => (line.includes('"demoAgentPassword"') ? (JSON.parse(line) as { demoAgentEmail: string; demoAgentPassword: string }) : undefined)).find(Boolean);
  if (!demo) throw new Error('the server created no demo agent');
  const admin = (await graphql<{ login: { token: string } }>(url, 'mutation($e:String!,$p:String!){login(email:$e,password:$p){token}}', { e: 'admin@charla.local', p: 'admin-password' })).login.token;
  const agent = await graphql<{ login: { token: string; agent: { id: string } } }>(url, 'mutation($e:String!,$p:String!){login(email:$e,password:$p){token agent{id}}}', { e: demo.demoAgentEmail, p: demo.demoAgentPassword });

  const agentIds = [agent.login.agent.id];
  for (const [i, name] of AGENTS.entries()) {
    const { createAgent } = await graphql<{ createAgent: { id: string } }>(url, 'mutation($i:CreateAgentInput!){createAgent(input:$i){id}}', {
      i: { name, email: `agent${i}@bench.example`, password: 'bench-password-1' },
    }, admin);
    agentIds.push(createAgent.id);
  }
  const { inboxes } = await graphql<{ inboxes: Array<{ id: string; name: string }> }>(url, '{inboxes{id name}}', {}, admin);
  const inboxIds = [inboxes[0]!.id];
  for (const name of INBOXES.slice(1)) {
    const { createInbox } = await graphql<{ createInbox: { id: string } }>(url, 'mutation($i:CreateInboxInput!){createInbox(input:$i){id}}', { i: { name, channelType: 'WEB_WIDGET' } }, admin);
    inboxIds.push(createInbox.id);
  }
  // The measuring agent sees three of the four inboxes; everyone else sees all of them.
  for (const [i, inboxId] of inboxIds.entries()) {
    const members = i === inboxIds.length - 1 ? agentIds.slice(1) : agentIds;
    await graphql(url, 'mutation($i:ID!,$a:[ID!]!){setInboxMembers(inboxId:$i,agentIds:$a){id}}', { i: inboxId, a: members }, admin);
  }
  const teamIds: string[] = [];
  for (const name of ['Sales', 'Support']) {
    const { createTeam } = await graphql<{ createTeam: { id: string } }>(url, 'mutation($i:CreateTeamInput!){createTeam(input:$i){id}}', { i: { name, memberIds: agentIds } }, admin);
    teamIds.push(createTeam.id);
  }
  for (const title of LABELS) await graphql(url, 'mutation($i:CreateLabelInput!){createLabel(input:$i){id}}', { i: { title } }, admin);
  const account = await db.collection('accounts').findOne({});
  if (!account) throw new Error('no account');
  return {
    accountId: account._id as ObjectId,
    inboxIds: inboxIds.map((id) => new ObjectId(id)),
    agentIds: agentIds.map((id) => new ObjectId(id)),
    teamIds: teamIds.map((id) => new ObjectId(id)),
    agentToken: agent.login.token,
    displayIdBase: typeof account.lastDisplayId === 'number' ? account.lastDisplayId : 0,
  };
}

/**
 * Conversations `from`…`to`-1 and their contacts (one contact per two conversations), in the
 * shape mongoose stores them. Roughly a support team's year: a third open, most resolved, a fifth
 * of the open ones unassigned, recent activity on open conversations, older on resolved ones.
 */
async function seed(db: Db, fixture: Fixture, from: number, to: number, now: number): Promise<void> {
  const conversations = db.collection('conversations');
  const contacts = db.collection('contacts');
  const roll = random(from + 1);
  for (let start = from; start < to; start += INSERT_BATCH) {
    const end = Math.min(to, start + INSERT_BATCH);
    const contactDocs: Record<string, unknown>[] = [];
    const conversationDocs: Record<string, unknown>[] = [];
    let contact: { _id: ObjectId; contactInboxId: ObjectId; inboxId: ObjectId; previous?: ObjectId } | undefined;
    for (let i = start; i < end; i++) {
      if (i % 2 === 0 || !contact) {
        const createdAt = new Date(now - roll() * 400 * DAY_MS);
        contact = { _id: new ObjectId(), contactInboxId: new ObjectId(), inboxId: pick(fixture.inboxIds, INBOX_WEIGHTS, roll()) };
        contactDocs.push({
          _id: contact._id,
          accountId: fixture.accountId,
          name: `Visitor ${i / 2 + 1}`,
          email: `visitor${i / 2 + 1}@example.com`,
          customAttributes: {},
          labels: [],
          additionalAttributes: {},
          blocked: false,
          lastActivityAt: createdAt,
          createdAt,
          updatedAt: createdAt,
          __v: 0,
        });
      }
      const statusRoll = roll();
      const status = statusRoll < 0.3 ? 'open' : statusRoll < 0.35 ? 'pending' : statusRoll < 0.4 ? 'snoozed' : 'resolved';
      const assigned = status === 'open' ? roll() >= 0.2 : roll() >= 0.05;
      const ageDays = status === 'resolved' ? roll() * 365 : roll() * 30;
      const lastActivityAt = new Date(now - ageDays * DAY_MS);
      const createdAt = new Date(lastActivityAt.getTime() - roll() * 3 * DAY_MS);
      const labels = LABELS.filter((_, k) => roll() < LABEL_SHARES[k]!);
      const assigneeId = assigned ? fixture.agentIds[Math.floor(roll() * fixture.agentIds.length)]! : null;
      // Creation time in the id, as the server's own ids carry it; the sequence number keeps them unique.
      const _id = new ObjectId(Math.floor(createdAt.getTime() / 1000).toString(16).padStart(8, '0') + i.toString(16).padStart(16, '0'));
      conversationDocs.push({
        _id,
        accountId: fixture.accountId,
        displayId: fixture.displayIdBase + i + 1,
        inboxId: contact.inboxId,
        contactId: contact._id,
        contactInboxId: contact.contactInboxId,
        status,
        snoozedUntil: status === 'snoozed' ? new Date(now + roll() * 7 * DAY_MS) : null,
        assigneeId,
        teamId: roll() < 0.5 ? fixture.teamIds[Math.floor(roll() * fixture.teamIds.length)]! : null,
        labels,
        priority: roll() < 0.9 ? 'none' : 'high',
        campaignId: null,
        muted: false,
        participants: assigneeId ? [assigneeId] : [],
        lastActivityAt,
        waitingSince: status === 'open' && roll() < 0.5 ? lastActivityAt : null,
        firstReplyAt: assigneeId ? new Date(createdAt.getTime() + 10 * 60 * 1000) : null,
        emailRequestedAt: null,
        csatSentAt: null,
        lastTranscriptAt: null,
        emailedUpToMessageId: null,
        additionalAttributes: {},
        ...(contact.previous && { previousConversationId: contact.previous }),
        createdAt,
        updatedAt: lastActivityAt,
        __v: 0,
      });
      contact.previous = _id;
    }
    if (contactDocs.length > 0) await contacts.insertMany(contactDocs, { ordered: false });
    await conversations.insertMany(conversationDocs, { ordered: false });
  }
  // New conversations the server numbers continue after the seeded ones.
  await db.collection('accounts').updateOne({ _id: fixture.accountId }, { $max: { lastDisplayId: fixture.displayIdBase + to } });
}

function percentile(sorted: number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!;
}

interface Query {
  request: () => Promise<unknown>;
  /** Untimed work before each request (its CPU is counted with the request's). */
  before?: () => Promise<unknown>;
}

/** Sequential requests of one query: `count` of them, or fewer when `budgetMs` runs out (at least 10). */
async function time(query: Query, count: number, budgetMs: number, pids: { server: number; database: number }): Promise<Timing> {
  const { request, before } = query;
  for (let i = 0; i < 3; i++) {
    await before?.();
    await request();
  }
  const durations: number[] = [];
  const cpuBefore = await Promise.all([cpuMilliseconds(pids.server), cpuMilliseconds(pids.database)]);
  const started = performance.now();
  while (durations.length < count && (durations.length < 10 || performance.now() - started < budgetMs)) {
    await before?.();
    const t = performance.now();
    await request();
    durations.push(performance.now() - t);
  }
  const cpuAfter = await Promise.all([cpuMilliseconds(pids.server), cpuMilliseconds(pids.database)]);
  durations.sort((a, b) => a - b);
  return {
    samples: durations.length,
    p50: percentile(durations, 0.5),
    p95: percentile(durations, 0.95),
    p99: percentile(durations, 0.99),
    serverCpuMs: (cpuAfter[0] - cpuBefore[0]) / durations.length,
    databaseCpuMs: (cpuAfter[1] - cpuBefore[1]) / durations.length,
  };
}

interface ListPage {
  conversations: { edges: Array<{ node: { id: string; labels: string[] } }>; pageInfo: { hasNextPage: boolean; endCursor: string | null }; counts: { mine: number; unassigned: number; all: number } };
}

/** For profiling runs: other sizes, and Node flags (--cpu-prof) for the two server processes. */
export interface DataGrowthTuning {
  sizes?: number[];
  requests?: number;
  mongoNodeArgs?: string[];
  charlaNodeArgs?: string[];
}

// A million conversations with their indexes need more than Node's default heap in the database.
const DATABASE_HEAP_MB = 12_288;

export async function run(options: BenchOptions, tuning: DataGrowthTuning = {}): Promise<BenchSection> {
  const sizes = tuning.sizes ?? (options.quick ? [5_000] : [10_000, 100_000, 1_000_000]);
  const requests = tuning.requests ?? (options.quick ? 20 : 300);
  const budgetMs = options.quick ? 2_000 : 30_000;
  const directory = await mkdtemp(join(tmpdir(), 'charla-bench-growth-'));
  const mongo = await startMongoProcess({ dbPath: join(directory, 'db'), nodeArgs: [`--max-old-space-size=${DATABASE_HEAP_MB}`, ...(tuning.mongoNodeArgs ?? [])] });
  const client = new MongoClient(`${mongo.uri}/charla`);
  let charla: CharlaProcess | undefined;
  try {
    charla = await startCharlaProcess({ mongodbUri: `${mongo.uri}/charla`, dataDir: join(directory, 'data'), env: { CHARLA_DEMO: '1' }, nodeArgs: tuning.charlaNodeArgs });
    const url = charla.url;
    await client.connect();
    const db = client.db('charla');
    const fixture = await createFixture(charla, db);
    const now = Date.now();
    const list = (filter: Record<string, unknown>, after?: string | null) => graphql<ListPage>(url, LIST, { filter, after }, fixture.agentToken);

    const rows: BenchRow[] = [];
    const details: Record<string, unknown>[] = [];
    let seeded = 0;
    for (const size of sizes) {
      const started = performance.now();
      await seed(db, fixture, seeded, size, now);
      const seedSeconds = (performance.now() - started) / 1000;
      const inserted = size - seeded;
      seeded = size;
      const label = size.toLocaleString('en-US');
      options.log(`data growth: ${label} conversations (+${inserted} and ${Math.ceil(inserted / 2)} contacts in ${seedSeconds.toFixed(1)} s)`);

      const firstAll = await list({ assignee: 'ALL', status: 'OPEN' });
      const cursor = firstAll.conversations.pageInfo.endCursor;
      const labelled = await list({ assignee: 'ALL', status: 'OPEN', labels: [MEASURED_LABEL] });
      if (labelled.conversations.edges.some((edge) => !edge.node.labels.includes(MEASURED_LABEL))) throw new Error('the label filter returned an unlabelled conversation');
      // Counts are kept until a conversation changes tab; this one changes before every request.
      const changing = firstAll.conversations.edges[0]!.node.id;
      let hasLabel = false;
      const changeLabel = () => {
        hasLabel = !hasLabel;
        return graphql(url, `mutation($id: ID!) { ${hasLabel ? 'addLabels' : 'removeLabels'}(conversationId: $id, labels: ["${CHANGED_LABEL}"]) { id } }`, { id: changing }, fixture.agentToken);
      };
      const queries: Array<[string, Query]> = [
        ['mine, open', { request: () => list({ assignee: 'MINE', status: 'OPEN' }) }],
        ['unassigned, open', { request: () => list({ assignee: 'UNASSIGNED', status: 'OPEN' }) }],
        ['all, open', { request: () => list({ assignee: 'ALL', status: 'OPEN' }) }],
        ['all, open, next page', { request: () => list({ assignee: 'ALL', status: 'OPEN' }, cursor) }],
        [`all, open, label "${MEASURED_LABEL}"`, { request: () => list({ assignee: 'ALL', status: 'OPEN', labels: [MEASURED_LABEL] }) }],
        ['all, open, counted again after a label change', { request: () => list({ assignee: 'ALL', status: 'OPEN' }), before: changeLabel }],
      ];
      const timings: Record<string, Timing> = {};
      for (const [name, request] of queries) {
        const timing = await time(request, requests, budgetMs, { server: charla.pid, database: mongo.pid });
        timings[name] = timing;
        rows.push(
          {
            measure: `${name}, ${label} conversations (p50 / p95 / p99)`,
            value: `${timing.p50.toFixed(1)} / ${timing.p95.toFixed(1)} / ${timing.p99.toFixed(1)}`,
            unit: 'ms',
            ...(size === 1_000_000 && { target: 'p99 < 20' }),
          },
          { measure: `${name}, ${label}: CPU per request (server / database)`, value: `${timing.serverCpuMs.toFixed(1)} / ${timing.databaseCpuMs.toFixed(1)}`, unit: 'ms' },
        );
        options.log(`data growth: ${label} ${name}: p50 ${timing.p50.toFixed(1)} p99 ${timing.p99.toFixed(1)} ms, CPU ${timing.serverCpuMs.toFixed(1)} + ${timing.databaseCpuMs.toFixed(1)} ms (${timing.samples} requests)`);
      }
      const databaseMiB = mebibytes(await residentBytes(mongo.pid));
      rows.push(
        { measure: `seeding to ${label} (conversations + contacts, insertMany through the driver)`, value: (inserted * 1.5) / seedSeconds, unit: 'docs/s' },
        { measure: `database RSS at ${label} conversations`, value: databaseMiB, unit: 'MiB' },
      );
      details.push({ conversations: size, seedSeconds, databaseMiB, counts: firstAll.conversations.counts, timings });
    }
    return {
      name: 'data-growth',
      title: 'Conversation list as data grows',
      rows,
      notes: [
        `One account, ${INBOXES.length} inboxes, ${AGENTS.length + 1} agents, 2 teams, ${LABELS.length} labels; about 30 % of the conversations open, 60 % resolved, a fifth of the open ones unassigned; one contact per two conversations (contact-inbox records are not seeded: the list does not read them).`,
        `Measured over HTTP as a non-administrator agent who is a member of 3 of the 4 inboxes, with the console's own list query (25 conversations with contact, inbox, assignee and team, plus the mine/unassigned/all counts); ${requests} sequential requests per query (fewer when one query took over ${budgetMs / 1000} s), after 3 warm-up requests.`,
        'The tab counts are kept per account and scope until a conversation changes tab (status, assignee, team, labels): the rows but the last answer them from memory, the last one adds or removes a label on a listed conversation before each request (untimed, its CPU counted), so it counts afresh every time.',
        'The server and embedded-mongo run as separate processes with the benchmark on the same machine; the database keeps every document and index in memory and journals to disk.',
        'CPU per request: user + system time of each process over the sequential requests (from /proc), divided by their number — less distorted than latency when other work shares the cores.',
      ],
      details,
    };
  } finally {
    await client.close();
    await charla?.stop();
    await mongo.stop();
    await rm(directory, { recursive: true, force: true });
  }
}
