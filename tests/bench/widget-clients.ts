// A client process of the idle-sockets benchmark: holds many widget connections the way the widget
// app opens them (a `widgetSession`, then graphql-transport-ws with the visitor token and one
// `widgetEvents` subscription, a ping every 10 s) and reports to its parent over IPC.
// Started with `fork()`; the argument is JSON: { url, websiteToken }.
import WebSocket from 'ws';
import { postGraphQL } from '../support/graphql-http.ts';

export type ClientCommand =
  | { type: 'open'; count: number }
  /** The first `count` visitors each write a message, so an agent can answer them. */
  | { type: 'probe'; count: number }
  | { type: 'close' };

export type ClientReport =
  | { type: 'opened'; open: number; failed: number; ms: number; firstError?: string }
  | { type: 'probed'; conversationIds: string[] }
  /** An agent's message reached a visitor's socket (`at`: Date.now() on arrival). */
  | { type: 'received'; conversationId: string; content: string; at: number }
  | { type: 'failed'; error: string };

const { url, websiteToken } = JSON.parse(process.argv[2] ?? '{}') as { url: string; websiteToken: string };
const socketUrl = `${url.replace(/^http/, 'ws')}/graphql`;
// Sessions asked for at once by this process; several processes run side by side.
const CONCURRENT_OPENINGS = 16;
const PING_EVERY_MS = 10_000;
const SUBSCRIPTION = 'subscription{widgetEvents{type message{id content messageType} conversation{id status}}}';

interface Visitor {
  token: string;
  socket: WebSocket;
  conversationId?: string;
}

const visitors: Visitor[] = [];

const report = (message: ClientReport): void => {
  process.send!(message);
};

/** One widget connection, resolved once the server acknowledged it and the subscription is sent. */
async function openVisitor(): Promise<Visitor> {
  const { widgetSession } = await postGraphQL<{ widgetSession: { visitorToken: string } }>(
    url,
    'mutation($w:String!){widgetSession(websiteToken:$w){visitorToken}}',
    { w: websiteToken },
  );
  const token = widgetSession.visitorToken;
  // Like a browser, the client offers permessage-deflate; the server decides.
  const socket = new WebSocket(socketUrl, 'graphql-transport-ws');
  const visitor: Visitor = { token, socket };
  await new Promise<void>((resolve, reject) => {
    socket.once('error', reject);
    socket.once('close', (code, reason) => reject(new Error(`closed ${code} ${String(reason)}`)));
    socket.once('open', () => socket.send(JSON.stringify({ type: 'connection_init', payload: { authorization: `Bearer ${token}` } })));
    socket.on('message', (data) => {
      const message = JSON.parse(String(data)) as { type: string; payload?: any };
      if (message.type === 'connection_ack') {
        socket.send(JSON.stringify({ id: '1', type: 'subscribe', payload: { query: SUBSCRIPTION } }));
        resolve();
      } else if (message.type === 'ping') {
        socket.send(JSON.stringify({ type: 'pong' }));
      } else if (message.type === 'next') {
        const event = message.payload?.data?.widgetEvents;
        if (event?.type === 'MESSAGE_CREATED' && event.message?.messageType === 'OUTGOING' && visitor.conversationId) {
          report({ type: 'received', conversationId: visitor.conversationId, content: event.message.content, at: Date.now() });
        }
      } else if (message.type === 'error') {
        report({ type: 'failed', error: `subscription refused: ${JSON.stringify(message.payload)}` });
      }
    });
  });
  socket.removeAllListeners('error');
  socket.on('error', () => undefined);
  // The widget's own keep-alive: a graphql-ws ping every 10 s, spread so they do not all coincide.
  const ping = setInterval(() => socket.readyState === WebSocket.OPEN && socket.send('{"type":"ping"}'), PING_EVERY_MS + Math.random() * 1000);
  socket.once('close', () => clearInterval(ping));
  return visitor;
}

async function open(count: number): Promise<void> {
  const started = performance.now();
  let failed = 0;
  let firstError: string | undefined;
  let left = count;
  const opener = async (): Promise<void> => {
    while (left > 0) {
      left--;
      try {
        visitors.push(await openVisitor());
      } catch (error) {
        failed++;
        firstError ??= (error as Error).message;
      }
    }
  };
  await Promise.all(Array.from({ length: CONCURRENT_OPENINGS }, opener));
  const open = visitors.filter((visitor) => visitor.socket.readyState === WebSocket.OPEN).length;
  report({ type: 'opened', open, failed, ms: performance.now() - started, ...(firstError && { firstError }) });
}

async function probe(count: number): Promise<void> {
  const conversationIds: string[] = [];
  for (const visitor of visitors.slice(0, count)) {
    await postGraphQL(url, 'mutation($c:String!){sendVisitorMessage(content:$c){id}}', { c: 'Is anyone there?' }, visitor.token);
    const { visitorConversation } = await postGraphQL<{ visitorConversation: { id: string } }>(url, '{visitorConversation{id}}', {}, visitor.token);
    visitor.conversationId = visitorConversation.id;
    conversationIds.push(visitorConversation.id);
  }
  report({ type: 'probed', conversationIds });
}

process.on('message', (command: ClientCommand) => {
  const done = (error: unknown): void => report({ type: 'failed', error: (error as Error).stack ?? String(error) });
  if (command.type === 'open') open(command.count).catch(done);
  else if (command.type === 'probe') probe(command.count).catch(done);
  else if (command.type === 'close') {
    for (const visitor of visitors) visitor.socket.terminate();
    process.exit(0);
  }
});
process.on('disconnect', () => process.exit(0));
