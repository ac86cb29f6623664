// embedded-mongo's replica-set mode: a single-member set that is uninitiated until replSetInitiate,
// then primary; its config survives a durable restart; multi-document transactions are refused.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Long, MongoClient, MongoNetworkError, MongoServerError, type TopologyDescriptionChangedEvent } from 'mongodb';
import { startEmbeddedMongo, WireServer, type EmbeddedMongo } from '../../embedded-mongo/src/index.ts';
import { withDatabase } from '../support/mongo.ts';
import { rejectionOf } from './conformance/conformance-db.ts';

const cleanups: Array<() => Promise<void>> = [];

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function embedded(options: Parameters<typeof startEmbeddedMongo>[0]): Promise<EmbeddedMongo> {
  const server = await startEmbeddedMongo(options);
  cleanups.push(() => server.stop());
  return server;
}

async function wire(options: Parameters<typeof WireServer.start>[0]): Promise<WireServer> {
  const server = await WireServer.start(options);
  cleanups.push(() => server.stop());
  return server;
}

async function connect(uri: string, options: ConstructorParameters<typeof MongoClient>[1] = {}): Promise<MongoClient> {
  const client = new MongoClient(uri, { serverSelectionTimeoutMS: 5_000, ...options });
  cleanups.push(() => client.close());
  await client.connect();
  return client;
}

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'embedded-mongo-rs-'));
  cleanups.push(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

/** Resolves the next time the server reports it became primary. */
function primaryNotice(): { onPrimary: () => void; reached: Promise<void> } {
  let onPrimary!: () => void;
  const reached = new Promise<void>((resolve) => (onPrimary = resolve));
  return { onPrimary, reached };
}

describe('startEmbeddedMongo with replSet', () => {
  it('gives a replicaSet uri a MongoClient connects to as the primary of a replica set', async () => {
    const server = await embedded({ replSet: 'rs0' });
    expect(server.uri).toBe(`mongodb://127.0.0.1:${server.port}/?replicaSet=rs0`);
    expect(withDatabase(server.uri, 'app')).toBe(`mongodb://127.0.0.1:${server.port}/app?replicaSet=rs0`);

    const topologies: TopologyDescriptionChangedEvent[] = [];
    const client = new MongoClient(server.uri, { serverSelectionTimeoutMS: 5_000 });
    cleanups.push(() => client.close());
    client.on('topologyDescriptionChanged', (event) => topologies.push(event));
    await client.connect();
    await client.db('app').collection('c').insertOne({ a: 1 });

    const latest = topologies.at(-1)!.newDescription;
    expect(latest.type).toBe('ReplicaSetWithPrimary');
    expect(latest.setName).toBe('rs0');
    expect([...latest.servers.values()].map((s) => [s.address, s.type])).toEqual([[`127.0.0.1:${server.port}`, 'RSPrimary']]);
  });

  it('sends no topologyVersion in hello, since it does not stream hello replies', async () => {
    const server = await embedded({ replSet: 'rs0' });
    const client = await connect(server.uri);

    const hello = await client.db('admin').command({ hello: 1 });

    expect(hello.setName).toBe('rs0');
    expect(hello.hosts).toEqual([`127.0.0.1:${server.port}`]);
    expect(hello).not.toHaveProperty('topologyVersion');
  });

  it('refuses a multi-document transaction with a clear error and writes nothing', async () => {
    const server = await embedded({ replSet: 'rs0' });
    const client = await connect(server.uri);
    const coll = client.db('app').collection('txn');
    const session = client.startSession();
    try {
      session.startTransaction();
      const error = await rejectionOf(coll.insertOne({ a: 1 }, { session }));
      expect(error).toBeInstanceOf(MongoServerError);
      expect(error.code).toBe(238);
      expect(error.codeName).toBe('NotImplemented');
      expect(error.message).toBe('Multi-document transactions are not supported by embedded-mongo');
      await session.abortTransaction();
    } finally {
      await session.endSession();
    }
    expect(await coll.countDocuments()).toBe(0);

    const commit = await rejectionOf(client.db('admin').command({ commitTransaction: 1 }));
    expect(commit.message).toBe('Multi-document transactions are not supported by embedded-mongo');
  });

  it('is primary again straight after a restart on the same dbPath, with its data and config', async () => {
    const dbPath = await tempDir();
    const first = await startEmbeddedMongo({ replSet: 'rs0', dbPath });
    const client = await MongoClient.connect(first.uri);
    const stream = client.db('app').collection('kept').watch([], { maxAwaitTimeMS: 50 });
    expect(await stream.tryNext()).toBeNull();
    await client.db('app').collection('kept').insertOne({ survived: true });
    const before = (await stream.next())._id;
    await stream.close();
    await client.db('admin').command({ replSetReconfig: (await client.db('admin').command({ replSetGetConfig: 1 })).config, force: true });
    const version = (await client.db('admin').command({ replSetGetConfig: 1 })).config.version;
    await client.close();
    await first.stop();

    const notice = primaryNotice();
    const second = await wire({ dbPath, replSet: 'rs0', onPrimary: notice.onPrimary });
    expect(second.replicaSet?.primary).toBe(true);
    await notice.reached;

    const again = await connect(`mongodb://127.0.0.1:${second.port}/?replicaSet=rs0`);
    expect(await again.db('app').collection('kept').findOne({}, { projection: { _id: 0 } })).toEqual({ survived: true });
    const { config } = await again.db('admin').command({ replSetGetConfig: 1 });
    expect(config.version).toBe(version);
    expect(config.members.map((m: { host: string }) => m.host)).toEqual([`127.0.0.1:${second.port}`]);
    // The change history is kept in memory only: a token from before the restart cannot be resumed.
    const lost = await rejectionOf(again.db('app').collection('kept').watch([], { resumeAfter: before }).next());
    expect(lost.code).toBe(286);
  });
});

describe('an uninitiated replica-set member', () => {
  async function uninitiated(): Promise<{ server: WireServer; client: MongoClient; host: string }> {
    const server = await wire({ replSet: 'rs0' });
    const client = await connect(`mongodb://127.0.0.1:${server.port}/?directConnection=true`, { retryWrites: false });
    return { server, client, host: `127.0.0.1:${server.port}` };
  }

  it('says in hello it has no valid config and is not writable', async () => {
    const { client } = await uninitiated();

    const hello = await client.db('admin').command({ hello: 1 });

    expect(hello).toMatchObject({ isWritablePrimary: false, secondary: false, isreplicaset: true, info: 'Does not have a valid replica set config', ok: 1 });
    expect(hello.setName).toBeUndefined();
    expect(hello.maxWireVersion).toBeGreaterThanOrEqual(21);
  });

  it('refuses writes with code 10107 NotWritablePrimary and reads with a not-primary error', async () => {
    const { client } = await uninitiated();
    const coll = client.db('app').collection('c');

    const write = await rejectionOf(coll.insertOne({ a: 1 }));
    expect(write).toBeInstanceOf(MongoServerError);
    expect(write.code).toBe(10107);
    expect(write.codeName).toBe('NotWritablePrimary');
    expect(write.message).toBe('not primary');

    const read = await rejectionOf(client.db('app').command({ find: 'c', filter: {} }));
    expect(read).toBeInstanceOf(MongoServerError);
    expect([13435, 13436]).toContain(read.code);
  });

  it('answers replSetGetConfig and replSetGetStatus with code 94 NotYetInitialized', async () => {
    const { client } = await uninitiated();

    for (const command of [{ replSetGetConfig: 1 }, { replSetGetStatus: 1 }]) {
      const error = await rejectionOf(client.db('admin').command(command));
      expect(error.code).toBe(94);
      expect(error.codeName).toBe('NotYetInitialized');
    }
  });

  it('refuses a config for another set name, for several members or for another host with code 93', async () => {
    const { client, host } = await uninitiated();
    const admin = client.db('admin');

    const wrongName = await rejectionOf(admin.command({ replSetInitiate: { _id: 'other', members: [{ _id: 0, host }] } }));
    const twoMembers = await rejectionOf(admin.command({ replSetInitiate: { _id: 'rs0', members: [{ _id: 0, host }, { _id: 1, host: 'elsewhere:27017' }] } }));
    const foreignHost = await rejectionOf(admin.command({ replSetInitiate: { _id: 'rs0', members: [{ _id: 0, host: 'elsewhere:27017' }] } }));

    for (const error of [wrongName, twoMembers, foreignHost]) {
      expect(error.code).toBe(93);
      expect(error.codeName).toBe('InvalidReplicaSetConfig');
    }
    expect(twoMembers.message).toMatch(/single-member replica sets only/);
    expect(foreignHost.message).toMatch(/single-member replica sets only/);
    expect((await admin.command({ hello: 1 })).isWritablePrimary).toBe(false);
  });

  it('becomes primary on replSetInitiate, tells onPrimary, and then takes writes', async () => {
    const notice = primaryNotice();
    const server = await wire({ replSet: 'rs0', onPrimary: notice.onPrimary });
    const client = await connect(`mongodb://127.0.0.1:${server.port}/?directConnection=true`);
    const host = `127.0.0.1:${server.port}`;

    expect(await client.db('admin').command({ replSetInitiate: { _id: 'rs0', members: [{ _id: 0, host }] } })).toMatchObject({ ok: 1 });
    await notice.reached;

    const hello = await client.db('admin').command({ hello: 1 });
    expect(hello).toMatchObject({ isWritablePrimary: true, setName: 'rs0', primary: host, me: host, hosts: [host] });
    await client.db('app').collection('c').insertOne({ a: 1 });
    expect(await client.db('app').collection('c').countDocuments()).toBe(1);
  });

  it('builds a one-member config of itself for replSetInitiate without a config', async () => {
    const { client, host } = await uninitiated();

    await client.db('admin').command({ replSetInitiate: {} });

    const { config } = await client.db('admin').command({ replSetGetConfig: 1 });
    expect(config).toMatchObject({ _id: 'rs0', version: 1, members: [{ _id: 0, host }] });
  });
});

describe('replSetReconfig', () => {
  it('takes a forced reconfig of the same config and bumps its version; refuses an unforced one that does not', async () => {
    const server = await embedded({ replSet: 'rs0' });
    const client = await connect(server.uri);
    const admin = client.db('admin');
    const { config } = await admin.command({ replSetGetConfig: 1 });

    const stale = await rejectionOf(admin.command({ replSetReconfig: config }));
    expect(stale.code).toBe(103);

    await admin.command({ replSetReconfig: config, force: true });
    const after = (await admin.command({ replSetGetConfig: 1 })).config;
    expect(after.version).toBeGreaterThan(config.version);
    expect((await admin.command({ hello: 1 })).setVersion).toBe(after.version);

    await admin.command({ replSetReconfig: { ...after, version: after.version + 1 } });
    expect((await admin.command({ replSetGetConfig: 1 })).config.version).toBe(after.version + 1);
  });
});

describe('a getMore waiting on a change stream', () => {
  /** Opens a change stream cursor and sends a getMore that may wait 20 s; resolves once the server holds it. */
  async function waitingGetMore(client: MongoClient, other: MongoClient): Promise<{ id: Long; outcome: Promise<unknown> }> {
    const db = client.db('app');
    const opened = await db.command({ aggregate: 'c', pipeline: [{ $changeStream: {} }], cursor: {} });
    const id = opened.cursor.id as Long;
    const sent = new Promise<void>((resolve) => client.once('commandStarted', () => resolve()));
    const outcome = db.command({ getMore: id, collection: 'c', maxTimeMS: 20_000 }).then(
      (reply) => reply,
      (error: unknown) => error,
    );
    await sent;
    // A round trip on another connection: by its reply the server has read the getMore too.
    await other.db('admin').command({ ping: 1 });
    return { id, outcome };
  }

  it('is released by killCursors with code 237 CursorKilled', async () => {
    const server = await embedded({ replSet: 'rs0' });
    const client = await connect(server.uri, { monitorCommands: true });
    const other = await connect(server.uri);
    const { id, outcome } = await waitingGetMore(client, other);
    const started = Date.now();

    const killed = await other.db('app').command({ killCursors: 'c', cursors: [id] });
    const error = (await outcome) as MongoServerError;

    expect(killed.cursorsKilled).toHaveLength(1);
    expect(error).toBeInstanceOf(MongoServerError);
    expect(error.code).toBe(237);
    expect(Date.now() - started).toBeLessThan(10_000);
  });

  it('is released when the server stops, which does not wait for it', async () => {
    const server = await startEmbeddedMongo({ replSet: 'rs0' });
    const client = await connect(server.uri, { monitorCommands: true });
    const other = await connect(server.uri);
    const { outcome } = await waitingGetMore(client, other);
    // (Closing a client whose idle connections the server has closed can hang in the driver.)
    await other.close();
    const started = Date.now();

    await server.stop();

    expect(await outcome).toBeInstanceOf(MongoNetworkError);
    expect(Date.now() - started).toBeLessThan(10_000);
  });
});
