// startEmbeddedMongo's cursorTimeoutMillis option: idle cursors are closed after it, as in mongod.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Long, MongoClient, MongoServerError } from 'mongodb';
import { startEmbeddedMongo, type EmbeddedMongo } from '../../embedded-mongo/src/index.ts';

let server: EmbeddedMongo;
let client: MongoClient;

beforeAll(async () => {
  server = await startEmbeddedMongo({ cursorTimeoutMillis: 150 });
  client = new MongoClient(server.uri);
  await client.connect();
});

afterAll(async () => {
  await client?.close();
  await server?.stop();
});

async function timedOut(): Promise<number> {
  return Number((await client.db('admin').command({ serverStatus: 1 })).metrics.cursor.timedOut);
}

describe('cursorTimeoutMillis option', () => {
  it('is reported by getParameter', async () => {
    const reply = await client.db('admin').command({ getParameter: 1, cursorTimeoutMillis: 1 });
    expect(reply.cursorTimeoutMillis).toBe(150);
  });

  it('closes an idle cursor, and getMore on it fails with code 43 CursorNotFound', async () => {
    const db = client.db('cursors');
    await db.collection('items').insertMany(Array.from({ length: 10 }, (_, i) => ({ _id: i } as never)));
    const before = await timedOut();
    const first = await db.command({ find: 'items', filter: {}, batchSize: 3 });
    const id = first.cursor.id as Long;
    expect(Number(id)).not.toBe(0);
    expect((await db.command({ getMore: id, collection: 'items', batchSize: 3 })).cursor.nextBatch).toHaveLength(3);

    const deadline = Date.now() + 10_000;
    while ((await timedOut()) === before) {
      if (Date.now() > deadline) throw new Error('the idle cursor was not closed within 10 s');
      await new Promise((resolve) => setTimeout(resolve, 50));
    }

    const error = await db.command({ getMore: id, collection: 'items' }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(MongoServerError);
    expect((error as MongoServerError).code).toBe(43);
    expect((await client.db('admin').command({ serverStatus: 1 })).metrics.cursor.open.total).toBe(0);
  });
});
