// The HTTP app in-process: /healthz and the GraphQL health query against a real database.
import { tmpdir } from 'node:os';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmbeddedMongo } from '../../../embedded-mongo/src/index.ts';
import { connectDatabase, type Database } from '../../../server/src/db/connect.ts';
import { createHttpServer, type HttpServer } from '../../../server/src/http/app.ts';
import { createLogger } from '../../../server/src/logger.ts';
import { loadConfig } from '../../../server/src/config.ts';
import { createInProcessEventBus } from '../../../server/src/events/bus.ts';
import { buildSchema } from '../../../server/src/graphql/schema.ts';
import type { Services } from '../../../server/src/services.ts';
import { startTestMongo, withDatabase, type TestMongo } from '../../support/mongo.ts';

const logger = createLogger('silent');
// Health needs no jobs or mail: only what the HTTP layer itself reads.
const services = { config: loadConfig({}), logger, bus: createInProcessEventBus(logger), now: () => new Date() } as unknown as Services;
const schema = buildSchema();

async function postGraphQL(url: string, query: string): Promise<{ status: number; body: any }> {
  const response = await fetch(`${url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ query }),
  });
  return { status: response.status, body: await response.json() };
}

describe('HTTP app with the database up', () => {
  let mongo: TestMongo;
  let database: Database;
  let httpServer: HttpServer;
  let url: string;

  beforeAll(async () => {
    mongo = await startTestMongo();
    database = await connectDatabase({ mongodbUri: mongo.dbUri, dataDir: tmpdir(), logger });
    httpServer = await createHttpServer({ database, logger, services, schema });
    url = await httpServer.listen(0, '127.0.0.1');
  });

  afterAll(async () => {
    await httpServer?.close();
    await database?.close();
    await mongo?.stop();
  });

  it('answers GET /healthz with 200 and the database up', async () => {
    const response = await fetch(`${url}/healthz`);

    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/application\/json/);
    expect(await response.json()).toMatchObject({ status: 'ok', database: 'up', version: expect.any(String) });
  });

  it('answers the GraphQL health query', async () => {
    const { status, body } = await postGraphQL(url, '{ health { status database version starts } }');

    expect(status).toBe(200);
    expect(body.errors).toBeUndefined();
    expect(body.data.health).toMatchObject({ status: 'ok', database: 'up', starts: 0 });
  });

  it('rejects a query for an unknown field with a validation error code', async () => {
    const { status, body } = await postGraphQL(url, '{ health { uptime } }');

    expect(status).toBe(400);
    expect(body.errors[0].extensions.code).toBe('GRAPHQL_VALIDATION_FAILED');
  });

  it('answers unknown paths with a JSON 404', async () => {
    const response = await fetch(`${url}/no-such-page`);

    expect(response.status).toBe(404);
    expect(await response.json()).toEqual({ error: { code: 'http/not_found', message: 'Not found' } });
  });
});

describe('HTTP app when the database goes away', () => {
  it('answers /healthz with 503 and reports the database down in GraphQL', async () => {
    // Its own embedded server, so this test can stop it whatever MONGODB_URI points at.
    const mongo = await startEmbeddedMongo();
    const database = await connectDatabase({ mongodbUri: withDatabase(mongo.uri, 'health_down'), dataDir: tmpdir(), logger });
    const httpServer = await createHttpServer({ database, logger, services, schema });
    let mongoStopped = false;
    try {
      const url = await httpServer.listen(0, '127.0.0.1');
      expect((await fetch(`${url}/healthz`)).status).toBe(200);

      await mongo.stop();
      mongoStopped = true;

      const response = await fetch(`${url}/healthz`);
      expect(response.status).toBe(503);
      expect(await response.json()).toMatchObject({ status: 'degraded', database: 'down', starts: null });
      const { body } = await postGraphQL(url, '{ health { status database starts } }');
      expect(body.data.health).toEqual({ status: 'degraded', database: 'down', starts: null });
    } finally {
      await httpServer.close();
      await database.close();
      if (!mongoStopped) await mongo.stop();
    }
  });
});
