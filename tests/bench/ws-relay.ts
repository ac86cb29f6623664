// The load benchmark's baseline: a bare `ws` relay with Charla's fan-out and nothing else — no
// database, no GraphQL, no rules. A visitor's message goes to every agent connected to its inbox
// (and is acknowledged to the visitor); an agent's reply goes to that visitor (and is
// acknowledged to the agent). Run as its own process; prints {"url": …} when listening.
//
//   visitor: ws://HOST/?role=visitor&inbox=I&visitor=V   sends {"id", "content"}
//   agent:   ws://HOST/?role=agent&inbox=I               sends {"id", "visitor", "content"}
import { WebSocketServer, type WebSocket } from 'ws';

interface Frame {
  id?: unknown;
  visitor?: unknown;
  content?: unknown;
}

export function startRelay(port = 0): Promise<{ url: string; close(): Promise<void> }> {
  const agentsByInbox = new Map<string, Set<WebSocket>>();
  const visitors = new Map<string, WebSocket>();
  const server = new WebSocketServer({ port, host: '127.0.0.1' });

  server.on('connection', (socket, request) => {
    const query = new URL(request.url ?? '/', 'ws://relay').searchParams;
    const inbox = query.get('inbox') ?? '';
    if (query.get('role') === 'agent') {
      const agents = agentsByInbox.get(inbox) ?? agentsByInbox.set(inbox, new Set()).get(inbox)!;
      agents.add(socket);
      socket.on('close', () => agents.delete(socket));
      socket.on('message', (data) => {
        const frame = JSON.parse(String(data)) as Frame;
        const visitorId = String(frame.visitor);
        // Serialised once, sent as is: what any relay worth comparing against does.
        visitors.get(visitorId)?.send(JSON.stringify({ type: 'message', content: frame.content }));
        socket.send(JSON.stringify({ type: 'ack', id: frame.id }));
      });
      return;
    }
    const visitorId = query.get('visitor') ?? '';
    visitors.set(visitorId, socket);
    socket.on('close', () => visitors.get(visitorId) === socket && visitors.delete(visitorId));
    socket.on('message', (data) => {
      const frame = JSON.parse(String(data)) as Frame;
      const out = JSON.stringify({ type: 'message', visitor: visitorId, content: frame.content });
      for (const agent of agentsByInbox.get(inbox) ?? []) agent.send(out);
      socket.send(JSON.stringify({ type: 'ack', id: frame.id }));
    });
  });

  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.once('listening', () => {
      const address = server.address();
      const actualPort = typeof address === 'object' && address ? address.port : port;
      resolve({
        url: `ws://127.0.0.1:${actualPort}`,
        close: () => new Promise((done) => {
          for (const client of server.clients) client.terminate();
          server.close(() => done());
        }),
      });
    });
  });
}

if (process.argv[1] && import.meta.url.endsWith(process.argv[1].replace(/\\/g, '/'))) {
  const relay = await startRelay(Number(process.env.PORT ?? 0));
  process.stdout.write(`${JSON.stringify({ url: relay.url })}\n`);
  const stop = (): void => void relay.close().then(() => process.exit(0));
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}
