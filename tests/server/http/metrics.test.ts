// GET /metrics: off without METRICS_TOKEN, refused without the token, Prometheus text with it.
import { tmpdir } from 'node:os';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { connectDatabase, type Database } from '../../../server/src/db/connect.ts';
import { createHttpServer, type HttpServer } from '../../../server/src/http/app.ts';
import { createLogger } from '../../../server/src/logger.ts';
import { loadConfig } from '../../../server/src/config.ts';
import { createInProcessEventBus } from '../../../server/src/events/bus.ts';
import { buildSchema } from '../../../server/src/graphql/schema.ts';
import type { Services } from '../../../server/src/services.ts';
import { startTestMongo, type TestMongo } from '../../support/mongo.ts';

const logger = createLogger('silent');
const schema = buildSchema();
const METRICS_TOKEN = 'metrics-token-for-the-test';

const servicesWith = (env: NodeJS.ProcessEnv): Services =>
  ({ config: loadConfig(env), logger, bus: createInProcessEventBus(logger), now: () => new Date() }) as unknown as Services;

/** `name value` lines of a Prometheus text answer, labels kept in the name. */
function samplesOf(text: string): Map<string, number> {
  const samples = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const [name, value] = line.split(' ');
    samples.set(name!, Number(value));
  }
  return samples;
}

describe('GET /metrics', () => {
  let mongo: TestMongo;
  let database: Database;
  const servers: HttpServer[] = [];

  beforeAll(async () => {
    mongo = await startTestMongo();
    database = await connectDatabase({ mongodbUri: mongo.dbUri, dataDir: tmpdir(), logger });
  });

  afterAll(async () => {
    for (const server of servers) await server.close();
    await database?.close();
    await mongo?.stop();
  });

  async function serve(env: NodeJS.ProcessEnv): Promise<string> {
    const server = await createHttpServer({ database, logger, services: servicesWith(env), schema });
    servers.push(server);
    return server.listen(0, '127.0.0.1');
  }

  it('is not there when METRICS_TOKEN is unset', async () => {
    const url = await serve({});

    const response = await fetch(`${url}/metrics`, { headers: { authorization: `Bearer ${METRICS_TOKEN}` } });

    expect(response.status).toBe(404);
  });

  it('refuses a request without the token or with another one', async () => {
    const url = await serve({ METRICS_TOKEN });

    const without = await fetch(`${url}/metrics`);
    const wrong = await fetch(`${url}/metrics`, { headers: { authorization: 'Bearer not-the-metrics-token' } });

    expect(without.status).toBe(401);
    expect(await without.json()).toEqual({ error: { code: 'http/unauthorized', message: 'A valid metrics token is required' } });
    expect(wrong.status).toBe(401);
  });

  it('answers with memory, CPU time, event-loop delay and the open WebSockets', async () => {
    const url = await serve({ METRICS_TOKEN });
    const socket = new WebSocket(`${url.replace('http', 'ws')}/graphql`, 'graphql-transport-ws');
    await new Promise((resolve, reject) => socket.once('open', resolve).once('error', reject));
    try {
      const response = await fetch(`${url}/metrics`, { headers: { authorization: `Bearer ${METRICS_TOKEN}` } });

      expect(response.status).toBe(200);
      expect(response.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
      const samples = samplesOf(await response.text());
      expect(samples.get('process_resident_memory_bytes')).toBeGreaterThan(1_000_000);
      expect(samples.get('process_cpu_seconds_total')).toBeGreaterThan(0);
      expect(samples.get('nodejs_eventloop_delay_seconds{quantile="0.99"}')).toBeGreaterThanOrEqual(0);
      expect(samples.get('nodejs_eventloop_delay_seconds{quantile="1"}')).toBeGreaterThanOrEqual(samples.get('nodejs_eventloop_delay_seconds{quantile="0.5"}')!);
      expect(samples.get('charla_open_websockets')).toBe(1);
    } finally {
      socket.close();
    }
  });
});
