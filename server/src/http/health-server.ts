// A worker node's HTTP side: only /healthz, for the orchestrator that restarts it. It serves no
// GraphQL, widget or console; web nodes do.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import type { Database } from '../db/connect.ts';
import { checkHealth } from '../health.ts';
import type { Logger } from '../logger.ts';
import { urlOf, type HttpServer } from './app.ts';

export function createHealthServer(database: Database, logger: Logger): HttpServer {
  const app = express();
  app.get('/healthz', async (_request, response) => {
    const health = await checkHealth(database, logger);
    response.status(health.database === 'up' ? 200 : 503).json(health);
  });
  const server = http.createServer(app);
  return {
    listen(port, host) {
      return new Promise((resolve, reject) => {
        server.once('error', reject);
        server.listen(port, host, () => {
          server.off('error', reject);
          resolve(urlOf(server.address() as AddressInfo));
        });
      });
    },
    close() {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      return closed;
    },
  };
}
