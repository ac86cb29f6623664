// Visitor presence across nodes: a node asking whether a visitor has the widget open (to e-mail an
// agent's reply or not) sees the sockets other nodes hold, and forgets a node that died.
import { MongoClient, ObjectId, type Db } from 'mongodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSharedVisitorPresence, WIDGET_PRESENCE_COLLECTION, type SharedVisitorPresence } from '../../../server/src/events/visitor-presence.ts';
import { createLogger } from '../../../server/src/logger.ts';
import { startTestMongo, type TestMongo } from '../../support/mongo.ts';

let mongo: TestMongo;
let client: MongoClient;
let db: Db;

beforeAll(async () => {
  mongo = await startTestMongo({ replSet: true });
  client = await MongoClient.connect(mongo.uri);
  db = client.db(mongo.dbName);
});

afterAll(async () => {
  await client?.close();
  await mongo?.stop();
});

async function nodeNamed(nodeId: string, lifetimeMs?: number): Promise<SharedVisitorPresence> {
  const presence = createSharedVisitorPresence({ db, nodeId, logger: createLogger('silent'), lifetimeMs });
  await presence.start();
  return presence;
}

/** Waits until `node` sees the visitor as `present` (the other node's write is on its way). */
async function until(node: SharedVisitorPresence, visitor: ObjectId, present: boolean): Promise<void> {
  while ((await node.isPresent(visitor)) !== present) await new Promise((resolve) => setTimeout(resolve, 10));
}

describe('visitor presence on several nodes', () => {
  it('counts a visitor whose widget is open on another node, until their last socket there closes', async () => {
    const [web, worker] = [await nodeNamed('web-1'), await nodeNamed('worker-1')];
    const visitor = new ObjectId();
    expect(await worker.isPresent(visitor)).toBe(false);

    const firstTab = web.connect(visitor);
    const secondTab = web.connect(visitor);
    await until(worker, visitor, true);
    firstTab();
    // One tab is still open: closing the other one wrote nothing.
    expect(await worker.isPresent(visitor)).toBe(true);
    secondTab();
    await until(worker, visitor, false);
    await Promise.all([web.stop(), worker.stop()]);
  });

  it('does not count what a node that died left behind once it expires, nor what a restarted node held before', async () => {
    const worker = await nodeNamed('worker-3');
    const [expired, beforeRestart] = [new ObjectId(), new ObjectId()];
    const presence = db.collection(WIDGET_PRESENCE_COLLECTION);
    await presence.insertOne({ _id: `dead-node:${expired}` as never, contactInboxId: expired, nodeId: 'dead-node', expiresAt: new Date(Date.now() - 1_000) });
    expect(await worker.isPresent(expired)).toBe(false);

    await presence.insertOne({ _id: `web-3:${beforeRestart}` as never, contactInboxId: beforeRestart, nodeId: 'web-3', expiresAt: new Date(Date.now() + 60_000) });
    expect(await worker.isPresent(beforeRestart)).toBe(true);
    const restarted = await nodeNamed('web-3');
    expect(await worker.isPresent(beforeRestart)).toBe(false);
    await Promise.all([restarted.stop(), worker.stop()]);
  });
});
