// The server SIGKILLed while visitors and an agent write: after a restart every message that was
// acknowledged is stored exactly once, retries of sends whose answer was lost make no copies, and
// each widget — reconnecting on its own, then fetching what it missed — shows exactly the
// conversation, in order.
import type { Client } from 'graphql-ws';
import { ObjectId } from 'mongodb';
import { afterEach, describe, expect, it } from 'vitest';
import { cleanUpInstallations, eventually, request, startInstallation, type Installation } from './installation.ts';

const VISITORS = 20;
// Sends each writer makes before the kill and again after the restart, at least.
const SENDS_PER_PHASE = 3;
const AGENT_TABS = 4;
// Writes that happen together may be stored slightly out of id order, so a client catches up from
// a message this much older than the newest one it has and drops what it already shows.
const CATCH_UP_OVERLAP_MS = 5_000;

const SESSION = `mutation($websiteToken: String!) { widgetSession(websiteToken: $websiteToken) { visitorToken } }`;
const SEND_VISITOR = `mutation($content: String!, $clientMessageId: String) { sendVisitorMessage(content: $content, clientMessageId: $clientMessageId) { id createdAt } }`;
const SEND_AGENT = `mutation($input: SendMessageInput!) { sendMessage(input: $input) { id } }`;
const EVENTS = `subscription { widgetEvents { type message { id createdAt } } }`;
const PAGE = `query($after: ID, $before: ID) { visitorMessages(after: $after, before: $before, first: 50) {
  edges { node { id createdAt } } pageInfo { hasNextPage hasPreviousPage } } }`;

interface Shown {
  id: string;
  createdAt: string;
}

/** What the widget does: live events, its own sends' answers, and a catch-up after reconnecting. */
class Widget {
  readonly shown = new Map<string, Shown>();
  readonly acknowledged: string[] = [];
  conversationId = '';
  repliesAcknowledged = 0;
  private connections = 0;
  private catchingUp: Promise<void> = Promise.resolve();

  constructor(
    readonly name: string,
    readonly client: Client,
  ) {
    client.subscribe<{ widgetEvents: { message: Shown | null } }>({ query: EVENTS }, {
      next: (result) => {
        const message = result.data?.widgetEvents.message;
        if (message) this.show(message);
      },
      error: () => {},
      complete: () => {},
    });
    client.on('connected', () => {
      if (++this.connections === 1) return;
      // Events sent while the socket was down are gone: fetch what was missed. The server sets up
      // the renewed subscription and answers the fetch concurrently, so a message written just
      // then can be in neither: fetch once more a moment later, from the same place.
      const from = this.catchUpCursor();
      this.catchingUp = this.catchingUp
        .then(() => retried(() => this.catchUp(from)))
        .then(() => new Promise((resolve) => setTimeout(resolve, 1_000)))
        .then(() => retried(() => this.catchUp(from)));
    });
  }

  show(message: Shown): void {
    this.shown.set(message.id, message);
  }

  /** Ids in the order the conversation has them (the server's: by id). */
  ids(): string[] {
    return [...this.shown.keys()].sort();
  }

  /** A message a little older than the newest one shown (undefined: none is old enough). */
  catchUpCursor(): string | undefined {
    const newest = [...this.shown.values()].reduce((latest, message) => Math.max(latest, Date.parse(message.createdAt)), 0);
    return this.ids().filter((id) => Date.parse(this.shown.get(id)!.createdAt) <= newest - CATCH_UP_OVERLAP_MS).at(-1);
  }

  async catchUp(from = this.catchUpCursor()): Promise<void> {
    if (from === undefined) {
      // Nothing old enough to start after: read the whole conversation, newest page first.
      for (const message of await this.fullConversation()) this.show(message);
      return;
    }
    let after = from;
    for (;;) {
      const page = (await request(this.client, PAGE, { after })).visitorMessages;
      for (const edge of page.edges) this.show(edge.node);
      if (!page.pageInfo.hasNextPage) return;
      after = page.edges.at(-1).node.id;
    }
  }

  async fullConversation(): Promise<Shown[]> {
    const messages: Shown[] = [];
    let before: string | undefined;
    for (;;) {
      const page = (await request(this.client, PAGE, { before })).visitorMessages;
      messages.unshift(...page.edges.map((edge: { node: Shown }) => edge.node));
      if (!page.pageInfo.hasPreviousPage) return messages;
      before = page.edges[0].node.id;
    }
  }

  async settled(): Promise<void> {
    await this.catchingUp;
  }
}

// Which server process is running (counts kills), to tell the sends that were under way at the kill.
let serverGeneration = 0;
let sendsAcrossTheKill = 0;

/** A read that a server going away interrupted is simply made again. */
async function retried(read: () => Promise<void>): Promise<void> {
  for (;;) {
    try {
      return await read();
    } catch {
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }
}

/** Sends until the server answers; every try of one message carries the same client id. */
async function sendUntilAcknowledged<T>(send: () => Promise<T>): Promise<T> {
  const startedOn = serverGeneration;
  for (;;) {
    try {
      const answer = await send();
      if (serverGeneration !== startedOn) sendsAcrossTheKill++;
      return answer;
    } catch {
      // The server went away mid-request (or answered while shutting down): the same send again.
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
}

afterEach(cleanUpInstallations);

describe('the server killed under load', () => {
  it('keeps every acknowledged message exactly once, and every widget catches up without gaps or duplicates', async () => {
    // Visitors here write faster than the widget's per-visitor limit allows: that limit is not what is tested.
    const installation: Installation = await startInstallation({ VISITOR_MESSAGES_PER_MINUTE: '0' });
    const adminToken = await installation.login();

    const widgets = await Promise.all(
      Array.from({ length: VISITORS }, async (_unused, index) => {
        const { widgetSession } = await installation.mutate(SESSION, { websiteToken: installation.websiteToken });
        const widget = new Widget(`visitor-${index}`, installation.liveClient(widgetSession.visitorToken));
        const first = await request(widget.client, SEND_VISITOR, { content: `hola de ${widget.name}`, clientMessageId: `${widget.name}-0` });
        widget.show(first.sendVisitorMessage);
        widget.acknowledged.push(first.sendVisitorMessage.id);
        widget.conversationId = (await request(widget.client, `{ visitorConversation { id } }`)).visitorConversation.id;
        return widget;
      }),
    );
    const agent = installation.liveClient(adminToken);
    const agentAcknowledged: string[] = [];

    let writing = true;
    const visitorLoops = widgets.map(async (widget) => {
      for (let n = 1; writing; n++) {
        const answer = await sendUntilAcknowledged(() => request(widget.client, SEND_VISITOR, { content: `mensaje ${n} de ${widget.name}`, clientMessageId: `${widget.name}-${n}` }));
        widget.show(answer.sendVisitorMessage);
        widget.acknowledged.push(answer.sendVisitorMessage.id);
        await new Promise((resolve) => setTimeout(resolve, 20 + Math.random() * 80));
      }
    });
    // The agent answers from a few console tabs at once, each going round its share of the conversations.
    const agentLoops = Array.from({ length: AGENT_TABS }, async (_unused, tab) => {
      const mine = widgets.filter((_widget, index) => index % AGENT_TABS === tab);
      for (let n = 0; writing; n++) {
        const widget = mine[n % mine.length]!;
        const input = { conversationId: widget.conversationId, content: `respuesta ${n} de la pestaña ${tab}`, clientMessageId: `agent-${tab}-${n}` };
        const answer = await sendUntilAcknowledged(() => request(agent, SEND_AGENT, { input }));
        agentAcknowledged.push(answer.sendMessage.id);
        widget.repliesAcknowledged++;
      }
    });

    const everyoneSent = (since: Array<{ sent: number; replies: number }>) =>
      eventually('every writer to be acknowledged a few more times', () =>
        widgets.every((widget, index) => widget.acknowledged.length >= since[index]!.sent + SENDS_PER_PHASE && widget.repliesAcknowledged >= since[index]!.replies + 1) ? true : undefined,
      );
    const progress = () => widgets.map((widget) => ({ sent: widget.acknowledged.length, replies: widget.repliesAcknowledged }));
    await everyoneSent(progress());

    await installation.kill();
    serverGeneration++;
    const acknowledgedBeforeKill = [...widgets.flatMap((widget) => widget.acknowledged), ...agentAcknowledged];
    const atKill = progress();
    await installation.restart({ VISITOR_MESSAGES_PER_MINUTE: '0' });
    // The clients find the new server by themselves and go on writing.
    await everyoneSent(atKill);
    writing = false;
    await Promise.all([...visitorLoops, ...agentLoops]);

    // Some sends were under way when the server died: their tries went on after the restart
    // (graphql-ws sends an operation again after reconnecting), whether or not it had stored them.
    expect(sendsAcrossTheKill).toBeGreaterThan(0);

    // In the database: every acknowledged message, once; no copy of any send.
    const messages = installation.db.collection('messages');
    const acknowledged = [...widgets.flatMap((widget) => widget.acknowledged), ...agentAcknowledged];
    expect(new Set(acknowledged).size).toBe(acknowledged.length);
    const stored = await messages.find({ clientMessageId: { $type: 'string' } }, { projection: { _id: 1, clientMessageId: 1, conversationId: 1 } }).toArray();
    const storedIds = new Set(stored.map((message) => String(message._id)));
    expect(acknowledgedBeforeKill.filter((id) => !storedIds.has(id))).toEqual([]);
    expect(acknowledged.filter((id) => !storedIds.has(id))).toEqual([]);
    // Each client id names one message: nothing sent was stored twice (or stored without its answer arriving).
    expect(stored.length).toBe(acknowledged.length);
    expect(new Set(stored.map((message) => `${String(message.conversationId)}/${String(message.clientMessageId)}`)).size).toBe(stored.length);

    // Each widget, after its last catch-up, shows exactly its conversation, in order.
    for (const widget of widgets) {
      await widget.settled();
      await widget.catchUp();
      const conversation = (await widget.fullConversation()).map((message) => message.id);
      expect(new Set(conversation).size).toBe(conversation.length);
      expect(widget.ids()).toEqual(conversation);
      expect(widget.acknowledged.filter((id) => !conversation.includes(id))).toEqual([]);
      // As many visitor messages and replies as were acknowledged: a retry made no copy.
      const conversationId = new ObjectId(widget.conversationId);
      expect(await messages.countDocuments({ conversationId, 'sender.type': 'contact' })).toBe(widget.acknowledged.length);
      expect(await messages.countDocuments({ conversationId, 'sender.type': 'agent' })).toBe(widget.repliesAcknowledged);
    }
  }, 240_000);
});
