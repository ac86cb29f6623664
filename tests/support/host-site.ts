// Stand-ins for the websites that embed the widget: a tiny HTTP server answering any path with the
// page registered for it, plus a TCP relay in front of Charla that a test can cut and restore (a
// network drop as the browser sees it, without touching the server).
import http from 'node:http';
import net from 'node:net';
import type { AddressInfo } from 'node:net';

export interface HostSite {
  port: number;
  /** Serves `body` at `path` (on every host name that resolves here), as HTML unless `type` says. */
  page(path: string, body: string, type?: string): void;
  stop(): Promise<void>;
}

export async function startHostSite(): Promise<HostSite> {
  const pages = new Map<string, { body: string; type: string }>();
  const server = http.createServer((request, response) => {
    const page = pages.get(new URL(request.url ?? '/', 'http://host').pathname);
    response.writeHead(page ? 200 : 404, { 'content-type': page?.type ?? 'text/plain' });
    response.end(page?.body ?? 'not found');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    page: (path, body, type = 'text/html; charset=utf-8') => void pages.set(path, { body, type }),
    stop: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

/** A host page with the widget snippet, as a site owner pastes it. */
export function snippetPage({ charlaUrl, websiteToken, settings = {}, head = '' }: { charlaUrl: string; websiteToken: string; settings?: Record<string, unknown>; head?: string }): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>Shop</title>${head}</head><body>
<h1>Our shop</h1>
<script>window.charlaSettings = ${JSON.stringify(settings)};</script>
<script src="${charlaUrl}/widget/sdk.js" data-website-token="${websiteToken}" defer></script>
</body></html>`;
}

export interface Relay {
  url: string;
  /** Drops every open connection and refuses new ones until `restore`. */
  cut(): Promise<void>;
  restore(): Promise<void>;
  stop(): Promise<void>;
}

export async function startRelay(target: string): Promise<Relay> {
  const { hostname, port: targetPort } = new URL(target);
  const sockets = new Set<net.Socket>();
  let server: net.Server | undefined;
  let port = 0;
  const listen = async (): Promise<void> => {
    server = net.createServer((client) => {
      const upstream = net.connect(Number(targetPort), hostname);
      for (const socket of [client, upstream]) {
        sockets.add(socket);
        socket.on('close', () => sockets.delete(socket));
        socket.on('error', () => {});
      }
      client.pipe(upstream).pipe(client);
      client.on('close', () => upstream.destroy());
      upstream.on('close', () => client.destroy());
    });
    await new Promise<void>((resolve) => server!.listen(port, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
  };
  const close = async (): Promise<void> => {
    const closing = server;
    server = undefined;
    for (const socket of sockets) socket.destroy();
    if (closing) await new Promise((resolve) => closing.close(resolve));
  };
  await listen();
  return { url: `http://127.0.0.1:${port}`, cut: close, restore: listen, stop: close };
}
