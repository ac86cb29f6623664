// Charla as several nodes on one replica set: separate server processes sharing one embedded-mongo
// replica set. A visitor on one node and an agent on another talk live; a node killed and
// restarted catches up on the events it missed; a job runs once although two nodes run jobs.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createClient, type Client } from 'graphql-ws';
import { MongoClient, ObjectId, type Db } from 'mongodb';
import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { postGraphQL } from '../../support/graphql-http.ts';
import { withDatabase } from '../../support/mongo.ts';
import { startCharlaProcess, startReplicaSetMongoProcess, type CharlaProcess, type MongoProcess } from '../../support/processes.ts';

const DATABASE = 'charla';
const DEMO_GREETING_START = 'Hi there';

const WIDGET_EVENTS = `subscription { widgetEvents { type typing message { id content messageType } conversation { id status } } }`;
const AGENT_EVENTS = `subscription { conversationEvents { type conversation { id status } message { id content messageType } typing { on } } }`;

interface Received<T> {
  all: T[];
  /** Resolves with the first event (already received or coming) that `match` accepts. */
  waitFor(match: (event: T) => boolean, what: string): Promise<T>;
}

/** Subscribes and keeps every event, so a test can wait for the one it expects. */
function receive<T>(client: Client, query: string, field: string): Received<T> {
  const all: T[] = [];
  const waiters = new Set<() => void>();
  client.subscribe<Record<string, T>>({ query }, {
    next: (result) => {
      if (result.data) all.push(result.data[field]!);
      for (const wake of waiters) wake();
    },
    error: () => {},
    complete: () => {},
  });
  return {
    all,
    waitFor(match, what) {
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`no event: ${what}; received ${JSON.stringify(all.slice(-5))}`));
        }, 30_000);
        const check = (): void => {
          const found = all.find(match);
          if (found === undefined) return;
          clearTimeout(timer);
          waiters.delete(check);
          resolve(found);
        };
        waiters.add(check);
        check();
      });
    },
  };
}

interface WidgetEvent {
  type: string;
  typing: boolean | null;
  message: { id: string; content: string; messageType: string } | null;
  conversation: { id: string; status: string } | null;
}
interface AgentEvent {
  type: string;
  conversation: { id: string; status: string };
  message: { id: string; content: string; messageType: string } | null;
  typing: { on: boolean } | null;
}

let mongo: MongoProcess;
let db: Db;
let driver: MongoClient;
let dataDir: string;
const nodes = new Map<string, CharlaProcess>();
const clients: Client[] = [];
let websiteToken: string;

async function startNode(nodeId: string, env: NodeJS.ProcessEnv = {}): Promise<CharlaProcess> {
  const node = await startCharlaProcess({
    mongodbUri: withDatabase(mongo.uri, DATABASE),
    dataDir,
    env: { NODE_ENV: 'development', CHARLA_DEMO: '1', CHARLA_NODE_ID: nodeId, LOG_LEVEL: 'debug', ...env },
  });
  nodes.set(nodeId, node);
  return node;
}

function socketTo(node: CharlaProcess, token: string): Client {
  const client = createClient({ url: `${node.url.replace(/^http/, 'ws')}/graphql`, webSocketImpl: WebSocket, connectionParams: { authorization: `Bearer ${token}` }, lazy: false, retryAttempts: 0, onNonLazyError: () => {} });
  clients.push(client);
  return client;
}

async function visitorOn(node: CharlaProcess): Promise<{ token: string; events: Received<WidgetEvent> }> {
  const session = await postGraphQL<{ widgetSession: { visitorToken: string } }>(node.url, `mutation($t: String!) { widgetSession(websiteToken: $t) { visitorToken } }`, { t: websiteToken });
  const token = session.widgetSession.visitorToken;
  return { token, events: receive<WidgetEvent>(socketTo(node, token), WIDGET_EVENTS, 'widgetEvents') };
}

/** The administrator signed in on `node`, following every inbox's conversations there. */
async function agentOn(node: CharlaProcess): Promise<{ token: string; events: Received<AgentEvent> }> {
  const login = await postGraphQL<{ login: { token: string } }>(node.url, `mutation { login(email: "admin@charla.local", password: "admin-password") { token } }`);
  const token = login.login.token;
  return { token, events: receive<AgentEvent>(socketTo(node, token), AGENT_EVENTS, 'conversationEvents') };
}

const sendVisitorMessage = (node: CharlaProcess, token: string, content: string) =>
  postGraphQL<{ sendVisitorMessage: { id: string } }>(node.url, `mutation($c: String!) { sendVisitorMessage(content: $c) { id } }`, { c: content }, token);

const greetingsIn = (conversationId: string) =>
  db.collection('messages').countDocuments({ conversationId: new ObjectId(conversationId), content: { $regex: `^${DEMO_GREETING_START}` } });

beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'charla-cluster-'));
  mongo = await startReplicaSetMongoProcess();
  driver = await MongoClient.connect(mongo.uri);
  db = driver.db(DATABASE);
  // Node 1 takes HTTP only; node 2 does everything, jobs and listeners included.
  const first = await startNode('node-1', { CHARLA_ROLE: 'web' });
  websiteToken = first.websiteToken!;
  await startNode('node-2', { CHARLA_ROLE: 'all' });
}, 120_000);

afterAll(async () => {
  await Promise.all(clients.map((client) => client.dispose()));
  for (const node of nodes.values()) node.signal('SIGKILL');
  await Promise.all([...nodes.values()].map((node) => node.exited));
  await driver?.close();
  await mongo?.stop();
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
});

describe('two Charla nodes on one replica set', () => {
  let conversationId: string;

  it('delivers a visitor on node 1 and an agent on node 2 each other’s messages, typing and status live', { timeout: 60_000 }, async () => {
    const node1 = nodes.get('node-1')!;
    const node2 = nodes.get('node-2')!;
    const agent = await agentOn(node2);
    const visitor = await visitorOn(node1);
    // The greeting comes from node 2's rules, for a message node 1 stored: node 1 runs no listeners.
    await sendVisitorMessage(node1, visitor.token, 'Hola');
    const hola = await agent.events.waitFor((event) => event.type === 'MESSAGE_CREATED' && event.message?.content === 'Hola', 'the visitor’s Hola on node 2');
    conversationId = hola.conversation.id;
    await visitor.events.waitFor((event) => event.type === 'MESSAGE_CREATED' && event.message!.content.startsWith(DEMO_GREETING_START), 'the greeting on node 1');

    await postGraphQL(node1.url, `mutation { visitorTyping(on: true) }`, {}, visitor.token);
    await agent.events.waitFor((event) => event.type === 'TYPING' && event.conversation.id === conversationId && event.typing?.on === true, 'the visitor typing, on node 2');

    await postGraphQL(node2.url, `mutation($id: ID!) { toggleTyping(conversationId: $id, on: true) }`, { id: conversationId }, agent.token);
    await visitor.events.waitFor((event) => event.type === 'TYPING' && event.typing === true, 'the agent typing, on node 1');

    await postGraphQL(node2.url, `mutation($input: SendMessageInput!) { sendMessage(input: $input) { id } }`, { input: { conversationId, content: '¿En qué puedo ayudarte?' } }, agent.token);
    await visitor.events.waitFor((event) => event.message?.content === '¿En qué puedo ayudarte?', 'the agent’s reply on node 1');

    await postGraphQL(node2.url, `mutation($id: ID!) { changeConversationStatus(conversationId: $id, status: RESOLVED) { id } }`, { id: conversationId }, agent.token);
    await visitor.events.waitFor((event) => event.type === 'CONVERSATION_UPDATED' && event.conversation?.status === 'RESOLVED', 'the resolution on node 1');

    // Each event reached each subscriber once: no node delivered another's event twice.
    const holas = agent.events.all.filter((event) => event.type === 'MESSAGE_CREATED' && event.message?.content === 'Hola');
    expect(holas).toHaveLength(1);
    const replies = visitor.events.all.filter((event) => event.type === 'MESSAGE_CREATED' && event.message?.content === '¿En qué puedo ayudarte?');
    expect(replies).toHaveLength(1);
    expect(await greetingsIn(conversationId)).toBe(1);
  });

  it('catches up on the events a killed node missed once it is restarted', { timeout: 120_000 }, async () => {
    const node1 = nodes.get('node-1')!;
    const killed = nodes.get('node-2')!;
    killed.signal('SIGKILL');
    await killed.exited;

    // With no node running listeners, the message is stored and waits: nobody greets the visitor yet.
    const visitor = await visitorOn(node1);
    const sent = await sendVisitorMessage(node1, visitor.token, 'Buenas tardes');
    const message = await db.collection('messages').findOne({ _id: new ObjectId(sent.sendVisitorMessage.id) });
    const waiting = String(message!.conversationId);
    expect(await greetingsIn(waiting)).toBe(0);

    // The same node, restarted, continues from its stored place in the event stream.
    await startNode('node-2', { CHARLA_ROLE: 'all' });
    await visitor.events.waitFor((event) => event.type === 'MESSAGE_CREATED' && event.message!.content.startsWith(DEMO_GREETING_START), 'the greeting after node 2 came back');
    expect(await greetingsIn(waiting)).toBe(1);
    // Events seen again from before the kill were not worked on twice.
    expect(await greetingsIn(conversationId)).toBe(1);
  });

  it('runs a snooze wake-up set on a web node once, although two nodes run jobs', { timeout: 120_000 }, async () => {
    const worker = await startNode('node-3', { CHARLA_ROLE: 'worker' });
    // A worker answers health checks only.
    expect((await fetch(`${worker.url}/healthz`)).status).toBe(200);
    expect((await fetch(`${worker.url}/graphql`, { method: 'POST' })).status).toBe(404);

    // Snoozed on the web node, which stores the jobs without running any.
    const [node1, node2] = [nodes.get('node-1')!, nodes.get('node-2')!];
    const agent = await agentOn(node1);
    const snoozed: string[] = [];
    for (const content of ['one', 'two', 'three']) {
      const visitor = await visitorOn(node1);
      const sent = await sendVisitorMessage(node1, visitor.token, content);
      const message = await db.collection('messages').findOne({ _id: new ObjectId(sent.sendVisitorMessage.id) });
      snoozed.push(String(message!.conversationId));
    }
    const until = new Date(Date.now() + 3_000).toISOString();
    for (const id of snoozed) {
      await postGraphQL(node1.url, `mutation($id: ID!, $until: DateTime) { changeConversationStatus(conversationId: $id, status: SNOOZED, snoozedUntil: $until) { id } }`, { id, until }, agent.token);
    }
    for (const id of snoozed) {
      await agent.events.waitFor((event) => event.conversation.id === id && event.conversation.status === 'OPEN' && event.type === 'CONVERSATION_UPDATED', `conversation ${id} woken`);
    }
    // Each job's document says it finished; each was started by one node only.
    const jobs = await db.collection('agendaJobs').find({ name: 'conversation.wake-snoozed', 'data.conversationId': { $in: snoozed } }).toArray();
    expect(jobs).toHaveLength(3);
    for (const job of jobs) {
      const runs = [node1, node2, worker].flatMap((node) => node.lines.filter((line) => line.includes('"job started"') && line.includes(String(job._id))));
      expect(runs, `runs of the wake-up of ${String(job.data.conversationId)}`).toHaveLength(1);
    }
  });
});
