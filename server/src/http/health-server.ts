// /healthz, and a worker node's whole HTTP side: only /healthz, for the orchestrator that restarts
// it. A worker serves no GraphQL, widget or console; web nodes do.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import express, { type RequestHandler } from 'express';
import type { Database } from '../db/connect.ts';
import { checkHealth } from '../health.ts';
import type { Logger } from '../logger.ts';
import type { HttpServer } from './app.ts';

/** 200 with the health report while the database answers, 503 when it does not. */
export function healthHandler(database: Database, logger: Logger): RequestHandler {
  return async (_request, response) => {
    const health = await checkHealth(database, logger);
    response.status(health.database === 'up' ? 200 : 503).json(health);
  };
}

/** Starts listening; resolves with the base URL (port 0 picks a free port). */
export function listenOn(server: http.Server, port: number, host: string): Promise<string> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve(urlOf(server.address() as AddressInfo));
    });
  });
}

function urlOf({ address, family, port }: AddressInfo): string {
  // A wildcard address is not something to open in a browser; loopback reaches it.
  if (address === '0.0.0.0' || address === '::') return `http://127.0.0.1:${port}`;
  return family === 'IPv6' ? `http://[${address}]:${port}` : `http://${address}:${port}`;
}

export function createHealthServer(database: Database, logger: Logger): HttpServer {
  const app = express();
  app.disable('x-powered-by');
  app.get('/healthz', healthHandler(database, logger));
  const server = http.createServer(app);
  return {
    listen: (port, host) => listenOn(server, port, host),
    close() {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      return closed;
    },
  };
}
