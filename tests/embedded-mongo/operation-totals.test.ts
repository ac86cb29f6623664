// What the server has run, reported as mongod reports it: serverStatus opcounters (inserted
// documents, update and delete statements, queries, getMores, other commands) and the `top`
// command (count and time per namespace) — the load benchmark's database operations per message.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MongoClient } from 'mongodb';
import { startEmbeddedMongo, type EmbeddedMongo } from '../../embedded-mongo/src/index.ts';

let server: EmbeddedMongo;
let client: MongoClient;

beforeAll(async () => {
  server = await startEmbeddedMongo();
  client = new MongoClient(server.uri);
  await client.connect();
});

afterAll(async () => {
  await client?.close();
  await server?.stop();
});

const opcounters = async () => (await client.db('admin').command({ serverStatus: 1 })).opcounters as Record<string, number>;
const topOf = async (namespace: string) => ((await client.db('admin').command({ top: 1 })).totals as Record<string, Record<string, { count: number; time: number }>>)[namespace];

describe('operation totals', () => {
  it('count documents inserted, statements, queries and getMores per kind, and per namespace in top', async () => {
    const before = await opcounters();
    const items = client.db('totals').collection('items');
    await items.insertMany([{ n: 1 }, { n: 2 }, { n: 3 }]);
    await items.find({ n: { $gte: 1 } }, { batchSize: 1 }).toArray();
    await items.findOne({ n: 2 });
    await items.updateOne({ n: 1 }, { $set: { seen: true } });
    await items.deleteOne({ n: 3 });
    const after = await opcounters();

    expect(after.insert! - before.insert!).toBe(3);
    expect(after.query! - before.query!).toBe(2);
    expect(after.getmore! - before.getmore!).toBeGreaterThanOrEqual(2);
    expect(after.update! - before.update!).toBe(1);
    expect(after.delete! - before.delete!).toBe(1);

    const top = await topOf('totals.items');
    expect(top).toMatchObject({ insert: { count: 1 }, queries: { count: 2 }, update: { count: 1 }, remove: { count: 1 } });
    expect(top!.getmore!.count).toBeGreaterThanOrEqual(2);
    expect(top!.total!.count).toBe(top!.insert!.count + top!.queries!.count + top!.getmore!.count + top!.update!.count + top!.remove!.count + top!.commands!.count);
    expect(top!.total!.time).toBeGreaterThan(0);
  });
});
