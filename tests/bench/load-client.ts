// The load benchmark's load generator, run as its own process (never in the server's): widget
// visitors sending messages at an offered rate and agents receiving them and replying, against
// Charla over graphql-ws or against the bare `ws` relay with the same fan-out. The parent
// (load.ts) drives it over IPC; latencies are measured where a message is received, from the send
// time the same process noted (the message's content carries its key).
import { performance } from 'node:perf_hooks';
import { WebSocket } from 'ws';
import { encodeHistogram, latencyHistogram, recordMs, type Histogram } from './histogram.ts';
import { postGraphQL } from '../support/graphql-http.ts';

export type Target = 'charla' | 'relay';

export interface InboxPlan {
  /** Small integer naming the inbox inside the run. */
  key: number;
  /** Charla's inbox id and website token (absent for the relay). */
  inboxId?: string;
  websiteToken?: string;
  /** Charla credentials per agent; for the relay only their number matters. */
  agents: Array<{ email: string; password: string }>;
  visitors: number;
}

export interface ClientSetup {
  target: Target;
  /** http://… of Charla, ws://… of the relay. */
  url: string;
  /** Every Charla node (url among them): visitors and agents spread over them, an agent on another node than most of its visitors. */
  nodeUrls?: string[];
  inboxes: InboxPlan[];
  /** The responsible agent replies to one visitor message in this many. */
  replyEvery: number;
}

export interface StepRequest {
  rate: number;
  warmupMs: number;
  measureMs: number;
  /** How long to wait after sending stops for answers still on their way. */
  drainMs: number;
}

export interface StepCounts {
  visitorSent: number;
  visitorAcked: number;
  replySent: number;
  replyAcked: number;
  /** Frames carrying a measured message that reached an agent or a visitor. */
  deliveries: number;
  errors: number;
}

export interface StepResult {
  rate: number;
  /** Window length as measured, ms. */
  windowMs: number;
  counts: StepCounts;
  /** Sent in the window and still unacknowledged when the window closed. */
  inFlightAtEnd: number;
  histograms: Record<LatencyKind, string>;
  errorSamples: string[];
}

export interface Verification {
  visitorAcked: number;
  replyAcked: number;
  /** Acknowledged visitor messages that did not reach every agent of their inbox. */
  undeliveredToAgents: number;
  /** Acknowledged replies that did not reach their visitor. */
  undeliveredReplies: number;
  errors: number;
}

export type LatencyKind = 'visitorAck' | 'visitorToAgent' | 'replyAck' | 'agentToVisitor';

export type ParentMessage = { type: 'setup'; setup: ClientSetup } | { type: 'step'; step: StepRequest } | { type: 'finish' };
export type ChildMessage =
  | { type: 'ready'; visitors: number; agents: number; setupMs: number }
  | { type: 'window-start' }
  | { type: 'window-end' }
  | { type: 'step-result'; result: StepResult }
  | { type: 'verification'; verification: Verification }
  | { type: 'failed'; error: string };

const VISITOR_SUBSCRIPTION = 'subscription WidgetEvents { widgetEvents { type message { id messageType content createdAt sender { type name } } } }';
const VISITOR_SEND = 'mutation Send($content: String!) { sendVisitorMessage(content: $content) { id createdAt } }';
const AGENT_SUBSCRIPTION = process.env.BENCH_AGENT_SUBSCRIPTION ?? `subscription Events($inboxId: ID) { conversationEvents(inboxId: $inboxId) {
  type conversation { id status assignee { id name } } message { id messageType content private createdAt sender { type name } } } }`;
const AGENT_REPLY = 'mutation Reply($input: SendMessageInput!) { sendMessage(input: $input) { id createdAt } }';

// Words of everyday support chat, none that a preset reacts to (FAQ topics, asking for a person).
const WORDS = 'hola gracias pedido cuenta factura tarjeta pago cambio talla color problema pregunta ayuda please thanks order invoice account card payment size colour question problem help today tomorrow number reference'.split(' ');

/** Content of `length` characters (60–200 like a chat line) that starts with the message's key. */
function contentOf(prefix: string, length: number, seed: number): string {
  let text = prefix;
  let index = seed;
  while (text.length < length) {
    index = (index * 1103515245 + 12345) & 0x7fffffff;
    text += ` ${WORDS[index % WORDS.length]}`;
  }
  return text.slice(0, length);
}

const lengthOf = (seq: number, visitor: number): number => 60 + ((seq * 7919 + visitor * 104729) % 141);

/** `v<visitor>.<seq>` or `r<visitor>.<seq>` at the start of a measured message. */
const KEY = /^([vr])(\d+)\.(\d+) /;

// ---------------------------------------------------------------------------------------------
// A minimal graphql-transport-ws client: what the widget and the console speak.

type OperationHandler = { next(data: any): void; error(message: string): void };

class GraphQLSocket {
  private readonly socket: WebSocket;
  private readonly operations = new Map<string, OperationHandler>();
  private nextId = 0;
  readonly acknowledged: Promise<void>;

  constructor(url: string, authorization: string) {
    this.socket = new WebSocket(url, 'graphql-transport-ws', { perMessageDeflate: false });
    this.acknowledged = new Promise((resolve, reject) => {
      this.socket.once('open', () => this.send({ type: 'connection_init', payload: { authorization } }));
      this.socket.once('error', reject);
      this.socket.once('close', (code, reason) => reject(new Error(`socket closed before acknowledgement: ${code} ${reason}`)));
      this.socket.on('message', (data) => {
        const message = JSON.parse(String(data)) as { type: string; id?: string; payload?: any };
        switch (message.type) {
          case 'connection_ack':
            resolve();
            break;
          case 'ping':
            this.send({ type: 'pong' });
            break;
          case 'next': {
            const operation = this.operations.get(message.id!);
            if (!operation) break;
            if (message.payload?.errors) operation.error(String(message.payload.errors[0]?.message ?? 'error'));
            else operation.next(message.payload.data);
            break;
          }
          case 'error':
            this.operations.get(message.id!)?.error(String(message.payload?.[0]?.message ?? 'error'));
            this.operations.delete(message.id!);
            break;
          case 'complete':
            this.operations.delete(message.id!);
            break;
        }
      });
    });
  }

  private send(message: unknown): void {
    this.socket.send(JSON.stringify(message));
  }

  subscribe(query: string, variables: Record<string, unknown>, handler: OperationHandler): void {
    const id = `s${this.nextId++}`;
    this.operations.set(id, handler);
    this.send({ id, type: 'subscribe', payload: { query, variables } });
  }

  /** One mutation over the socket; resolves with its data. */
  mutate(query: string, variables: Record<string, unknown>): Promise<any> {
    return new Promise((resolve, reject) => {
      const id = `m${this.nextId++}`;
      this.operations.set(id, {
        next: (data) => {
          this.operations.delete(id);
          resolve(data);
        },
        error: (message) => {
          this.operations.delete(id);
          reject(new Error(message));
        },
      });
      this.send({ id, type: 'subscribe', payload: { query, variables } });
    });
  }

  close(): void {
    this.socket.close(1000);
  }
}

/** Runs `work` over `items` with at most `limit` at a time. */
async function inBatches<T>(items: T[], limit: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) await work(items[next++]!);
  }));
}

// ---------------------------------------------------------------------------------------------
// The participants, for both targets.

interface Visitor {
  index: number;
  inbox: InboxPlan;
  seq: number;
  send(content: string): Promise<void>;
  close(): void;
}

interface Agent {
  reply(visitor: number, conversationId: string | undefined, content: string): Promise<void>;
  close(): void;
}

/** Message keys sent in this process: send time, and how many receivers still wait for it. */
interface Pending {
  sentAt: number;
  waiting: number;
  acked: boolean;
  inWindow: boolean;
}

class LoadGenerator {
  private readonly visitors: Visitor[] = [];
  private readonly agentsByInbox = new Map<number, Agent[]>();
  private readonly visitorMessages = new Map<string, Pending>();
  private readonly replies = new Map<string, Pending>();
  private histograms = this.freshHistograms();
  private counts = this.freshCounts();
  private errorSamples: string[] = [];
  private measuring = false;
  private totals = { visitorAcked: 0, replyAcked: 0, errors: 0 };

  constructor(private readonly setup: ClientSetup) {}

  private freshHistograms(): Record<LatencyKind, Histogram> {
    return { visitorAck: latencyHistogram(), visitorToAgent: latencyHistogram(), replyAck: latencyHistogram(), agentToVisitor: latencyHistogram() };
  }

  private freshCounts(): StepCounts {
    return { visitorSent: 0, visitorAcked: 0, replySent: 0, replyAcked: 0, deliveries: 0, errors: 0 };
  }

  private failed(error: unknown): void {
    this.totals.errors++;
    if (this.measuring) this.counts.errors++;
    if (this.errorSamples.length < 5) this.errorSamples.push(error instanceof Error ? error.message : String(error));
  }

  async start(): Promise<{ visitors: number; agents: number }> {
    let agentCount = 0;
    for (const inbox of this.setup.inboxes) {
      const agents = await Promise.all(inbox.agents.map((credentials, index) => this.connectAgent(inbox, credentials, index)));
      this.agentsByInbox.set(inbox.key, agents);
      agentCount += agents.length;
    }
    // Subscriptions start asynchronously on the server: give them a moment before the first message.
    await new Promise((resolve) => setTimeout(resolve, 500));
    const plans = this.setup.inboxes.flatMap((inbox) => Array.from({ length: inbox.visitors }, (_, n) => ({ inbox, index: inbox.key * 100_000 + n })));
    await inBatches(plans, 20, async ({ inbox, index }) => {
      const visitor = await this.connectVisitor(inbox, index);
      this.visitors.push(visitor);
      // The first message opens the conversation (greeting, hand-off, assignment) before the load starts.
      await this.sendFrom(visitor);
    });
    await this.waitForDeliveries(10_000);
    return { visitors: this.visitors.length, agents: agentCount };
  }

  // -- Charla / relay connections -----------------------------------------------------------

  /** The Charla node the n-th visitor (or agent) of an inbox connects to, as a load balancer would spread them. */
  private nodeUrl(n: number): string {
    const urls = this.setup.nodeUrls ?? [this.setup.url];
    return urls[n % urls.length]!;
  }

  private async connectAgent(inbox: InboxPlan, credentials: { email: string; password: string }, indexInInbox: number): Promise<Agent> {
    if (this.setup.target === 'relay') {
      const socket = await openSocket(`${this.setup.url}/?role=agent&inbox=${inbox.key}`);
      const acks = new Map<number, () => void>();
      let nextId = 0;
      socket.on('message', (data) => {
        const frame = JSON.parse(String(data)) as { type: string; id?: number; visitor?: string; content?: string };
        if (frame.type === 'ack') {
          acks.get(frame.id!)?.();
          acks.delete(frame.id!);
        } else this.agentReceived(inbox, indexInInbox, frame.content ?? '', undefined);
      });
      return {
        reply: (visitor, _conversationId, content) =>
          new Promise((resolve) => {
            const id = nextId++;
            acks.set(id, resolve);
            socket.send(JSON.stringify({ id, visitor, content }));
          }),
        close: () => socket.close(),
      };
    }
    const url = this.nodeUrl(indexInInbox + 1);
    const { login } = await postGraphQL(url, 'mutation Login($email: String!, $password: String!) { login(email: $email, password: $password) { token } }', credentials);
    const socket = new GraphQLSocket(`${url.replace(/^http/, 'ws')}/graphql`, `Bearer ${login.token}`);
    await socket.acknowledged;
    socket.subscribe(AGENT_SUBSCRIPTION, { inboxId: inbox.inboxId }, {
      next: (data) => {
        const event = data.conversationEvents;
        if (event.type === 'MESSAGE_CREATED' && event.message?.messageType === 'INCOMING') this.agentReceived(inbox, indexInInbox, event.message.content, event.conversation.id);
      },
      error: (message) => this.failed(new Error(`agent subscription: ${message}`)),
    });
    return {
      reply: (_visitor, conversationId, content) => socket.mutate(AGENT_REPLY, { input: { conversationId, content } }).then(() => undefined),
      close: () => socket.close(),
    };
  }

  private async connectVisitor(inbox: InboxPlan, index: number): Promise<Visitor> {
    if (this.setup.target === 'relay') {
      const socket = await openSocket(`${this.setup.url}/?role=visitor&inbox=${inbox.key}&visitor=${index}`);
      const acks = new Map<number, () => void>();
      let nextId = 0;
      socket.on('message', (data) => {
        const frame = JSON.parse(String(data)) as { type: string; id?: number; content?: string };
        if (frame.type === 'ack') {
          acks.get(frame.id!)?.();
          acks.delete(frame.id!);
        } else this.visitorReceived(frame.content ?? '');
      });
      return {
        index,
        inbox,
        seq: 0,
        send: (content) =>
          new Promise((resolve) => {
            const id = nextId++;
            acks.set(id, resolve);
            socket.send(JSON.stringify({ id, content }));
          }),
        close: () => socket.close(),
      };
    }
    const identity = { identifier: `bench-visitor-${index}`, email: `visitor-${index}@bench.example`, name: `Visitor ${index}` };
    const url = this.nodeUrl(index);
    const { widgetSession } = await postGraphQL(url, 'mutation Session($websiteToken: String!, $identity: VisitorIdentityInput) { widgetSession(websiteToken: $websiteToken, identity: $identity) { visitorToken } }', {
      websiteToken: inbox.websiteToken,
      identity,
    });
    const socket = new GraphQLSocket(`${url.replace(/^http/, 'ws')}/graphql`, `Bearer ${widgetSession.visitorToken}`);
    await socket.acknowledged;
    socket.subscribe(VISITOR_SUBSCRIPTION, {}, {
      next: (data) => {
        const event = data.widgetEvents;
        if (event.type === 'MESSAGE_CREATED' && event.message?.messageType === 'OUTGOING') this.visitorReceived(event.message.content);
      },
      error: (message) => this.failed(new Error(`visitor subscription: ${message}`)),
    });
    return {
      index,
      inbox,
      seq: 0,
      send: (content) => socket.mutate(VISITOR_SEND, { content }).then(() => undefined),
      close: () => socket.close(),
    };
  }

  // -- Sending and receiving ----------------------------------------------------------------

  private sendFrom(visitor: Visitor): Promise<void> {
    const seq = visitor.seq++;
    const key = `${visitor.index}.${seq}`;
    const agents = this.agentsByInbox.get(visitor.inbox.key)!.length;
    const pending: Pending = { sentAt: performance.now(), waiting: agents, acked: false, inWindow: this.measuring };
    this.visitorMessages.set(key, pending);
    if (this.measuring) this.counts.visitorSent++;
    return this.acknowledged(visitor.send(contentOf(`v${key} `, lengthOf(seq, visitor.index), seq + visitor.index)), 'visitor', this.visitorMessages, key, pending);
  }

  /** Counts a send's acknowledgement (or failure); the entry goes once every receiver has it too. */
  private acknowledged(sending: Promise<unknown>, sender: 'visitor' | 'reply', pendingByKey: Map<string, Pending>, key: string, pending: Pending): Promise<void> {
    return sending.then(
      () => {
        pending.acked = true;
        this.totals[`${sender}Acked`]++;
        if (this.measuring) this.counts[`${sender}Acked`]++;
        if (pending.inWindow) recordMs(this.histograms[`${sender}Ack`], performance.now() - pending.sentAt);
        if (pending.waiting === 0) pendingByKey.delete(key);
      },
      (error: unknown) => {
        pendingByKey.delete(key);
        this.failed(error);
      },
    );
  }

  private agentReceived(inbox: InboxPlan, indexInInbox: number, content: string, conversationId: string | undefined): void {
    const match = KEY.exec(content);
    if (!match || match[1] !== 'v') return;
    const now = performance.now();
    const key = `${match[2]}.${match[3]}`;
    const pending = this.visitorMessages.get(key);
    if (!pending) return;
    if (this.measuring) this.counts.deliveries++;
    if (pending.inWindow) recordMs(this.histograms.visitorToAgent, now - pending.sentAt);
    if (--pending.waiting === 0 && pending.acked) this.visitorMessages.delete(key);
    const visitor = Number(match[2]);
    const seq = Number(match[3]);
    // One agent of the inbox answers the visitor, to one message in `replyEvery`.
    const agents = this.agentsByInbox.get(inbox.key)!;
    if (seq === 0 || (seq + visitor) % this.setup.replyEvery !== 0 || visitor % agents.length !== indexInInbox) return;
    const replyKey = `${visitor}.${seq}`;
    const reply: Pending = { sentAt: performance.now(), waiting: 1, acked: false, inWindow: this.measuring };
    this.replies.set(replyKey, reply);
    if (this.measuring) this.counts.replySent++;
    void this.acknowledged(agents[indexInInbox]!.reply(visitor, conversationId, contentOf(`r${replyKey} `, lengthOf(seq + 1, visitor), seq)), 'reply', this.replies, replyKey, reply);
  }

  private visitorReceived(content: string): void {
    const match = KEY.exec(content);
    if (!match || match[1] !== 'r') return;
    const key = `${match[2]}.${match[3]}`;
    const reply = this.replies.get(key);
    if (!reply) return;
    if (this.measuring) this.counts.deliveries++;
    if (reply.inWindow) recordMs(this.histograms.agentToVisitor, performance.now() - reply.sentAt);
    reply.waiting = 0;
    if (reply.acked) this.replies.delete(key);
  }

  /** Resolves once nothing sent is waiting for an acknowledgement or a receiver, or after `timeoutMs`. */
  private async waitForDeliveries(timeoutMs: number): Promise<void> {
    const until = performance.now() + timeoutMs;
    while (performance.now() < until && (this.visitorMessages.size > 0 || this.replies.size > 0)) await new Promise((resolve) => setTimeout(resolve, 50));
  }

  /** Open loop: messages go out at `rate` whatever the answers do, round-robin over the visitors. */
  async step(request: StepRequest, notify: (message: ChildMessage) => void): Promise<StepResult> {
    this.histograms = this.freshHistograms();
    this.counts = this.freshCounts();
    this.errorSamples = [];
    const startedAt = performance.now();
    let sent = 0;
    let next = 0;
    let windowStart = 0;
    let windowEnd = 0;
    let inFlightAtEnd = 0;
    await new Promise<void>((resolve) => {
      const timer = setInterval(() => {
        const now = performance.now();
        if (!this.measuring && windowStart === 0 && now - startedAt >= request.warmupMs) {
          this.measuring = true;
          windowStart = now;
          notify({ type: 'window-start' });
        }
        if (this.measuring && now - windowStart >= request.measureMs) {
          this.measuring = false;
          windowEnd = now;
          inFlightAtEnd = [...this.visitorMessages.values()].filter((pending) => pending.inWindow && !pending.acked).length;
          notify({ type: 'window-end' });
          clearInterval(timer);
          resolve();
          return;
        }
        const due = Math.floor(((now - startedAt) / 1000) * request.rate) - sent;
        for (let n = 0; n < due; n++) {
          void this.sendFrom(this.visitors[next]!);
          next = (next + 1) % this.visitors.length;
          sent++;
        }
      }, 2);
    });
    await this.waitForDeliveries(request.drainMs);
    return {
      rate: request.rate,
      windowMs: windowEnd - windowStart,
      counts: this.counts,
      inFlightAtEnd,
      histograms: {
        visitorAck: encodeHistogram(this.histograms.visitorAck),
        visitorToAgent: encodeHistogram(this.histograms.visitorToAgent),
        replyAck: encodeHistogram(this.histograms.replyAck),
        agentToVisitor: encodeHistogram(this.histograms.agentToVisitor),
      },
      errorSamples: this.errorSamples,
    };
  }

  async finish(): Promise<Verification> {
    await this.waitForDeliveries(10_000);
    const verification: Verification = {
      visitorAcked: this.totals.visitorAcked,
      replyAcked: this.totals.replyAcked,
      undeliveredToAgents: [...this.visitorMessages.values()].filter((pending) => pending.acked).length,
      undeliveredReplies: [...this.replies.values()].filter((pending) => pending.acked).length,
      errors: this.totals.errors,
    };
    for (const visitor of this.visitors) visitor.close();
    for (const agents of this.agentsByInbox.values()) for (const agent of agents) agent.close();
    return verification;
  }
}

function openSocket(url: string): Promise<WebSocket> {
  const socket = new WebSocket(url, { perMessageDeflate: false });
  return new Promise((resolve, reject) => {
    socket.once('open', () => resolve(socket));
    socket.once('error', reject);
  });
}

// ---------------------------------------------------------------------------------------------
// As a child process: commands from the parent over IPC.

if (process.send && process.argv[1] && import.meta.url.endsWith(process.argv[1].replace(/\\/g, '/'))) {
  const send = (message: ChildMessage): void => void process.send!(message);
  let generator: LoadGenerator | undefined;
  process.on('message', (message: ParentMessage) => {
    void (async () => {
      try {
        if (message.type === 'setup') {
          const started = performance.now();
          generator = new LoadGenerator(message.setup);
          const { visitors, agents } = await generator.start();
          send({ type: 'ready', visitors, agents, setupMs: performance.now() - started });
        } else if (message.type === 'step') {
          send({ type: 'step-result', result: await generator!.step(message.step, send) });
        } else {
          send({ type: 'verification', verification: await generator!.finish() });
          process.disconnect();
        }
      } catch (error) {
        send({ type: 'failed', error: error instanceof Error ? (error.stack ?? error.message) : String(error) });
      }
    })();
  });
  // The parent going away (Ctrl-C, a crash) ends the generator too.
  process.on('disconnect', () => setTimeout(() => process.exit(0), 100).unref());
}
