// Conformance: the handshake and the administrative commands drivers, mongoose and Agenda send.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MongoServerError } from 'mongodb';
import { openConformanceDb, rejectionOf, type ConformanceDb } from './conformance-db.ts';

let ctx: ConformanceDb;

beforeAll(async () => {
  ctx = await openConformanceDb();
});

afterAll(async () => {
  await ctx?.close();
});

describe('handshake', () => {
  it('answers ping with ok 1 and nothing else', async () => {
    const reply = await ctx.db.command({ ping: 1 });
    expect(reply).toEqual({ ok: 1 });
  });

  it('describes itself in hello as a writable standalone speaking wire version 21 or later', async () => {
    const hello = await ctx.db.admin().command({ hello: 1 });
    expect(hello.ok).toBe(1);
    expect(hello.isWritablePrimary).toBe(true);
    expect(hello.maxWireVersion).toBeGreaterThanOrEqual(21);
    expect(hello.minWireVersion).toBe(0);
    expect(hello.logicalSessionTimeoutMinutes).toBe(30);
    expect(hello.maxBsonObjectSize).toBe(16_777_216);
    expect(hello.maxMessageSizeBytes).toBe(48_000_000);
    expect(hello.maxWriteBatchSize).toBe(100_000);
    expect(hello.readOnly).toBe(false);
    expect(hello.localTime).toBeInstanceOf(Date);
    expect(typeof hello.connectionId).toBe('number');
    // A standalone is not a replica-set member.
    expect(hello.setName).toBeUndefined();
    expect(hello.msg).toBeUndefined();
  });

  it('answers the legacy isMaster command with ismaster true', async () => {
    const reply = await ctx.db.admin().command({ isMaster: 1 });
    expect(reply.ok).toBe(1);
    expect(reply.ismaster).toBe(true);
    expect(reply.maxWireVersion).toBeGreaterThanOrEqual(21);
    expect(reply.maxBsonObjectSize).toBe(16_777_216);
  });

  it('reports a 7.0 version in buildInfo', async () => {
    const info = await ctx.db.admin().command({ buildInfo: 1 });
    expect(info.ok).toBe(1);
    expect(info.version).toMatch(/^7\.0\.\d+$/);
    expect(info.versionArray.slice(0, 2)).toEqual([7, 0]);
    expect(info.maxBsonObjectSize).toBe(16_777_216);
  });

  it('answers hostInfo with system and os sections', async () => {
    const info = await ctx.db.admin().command({ hostInfo: 1 });
    expect(info.ok).toBe(1);
    expect(typeof info.system.hostname).toBe('string');
    expect(info.system.currentTime).toBeInstanceOf(Date);
    expect(typeof info.os.type).toBe('string');
  });

  it('reports feature compatibility version 7.0 through getParameter', async () => {
    const reply = await ctx.db
      .admin()
      .command({ getParameter: 1, featureCompatibilityVersion: 1 });
    expect(reply.ok).toBe(1);
    expect(reply.featureCompatibilityVersion).toEqual({ version: '7.0' });
  });

  it('accepts ttlMonitorSleepSecs through setParameter and reports the new value', async () => {
    const reply = await ctx.db.admin().command({ setParameter: 1, ttlMonitorSleepSecs: 1 });
    expect(reply.ok).toBe(1);
    expect(typeof reply.was).toBe('number');
    const read = await ctx.db.admin().command({ getParameter: 1, ttlMonitorSleepSecs: 1 });
    expect(read).toEqual({ ttlMonitorSleepSecs: 1, ok: 1 });
  });

  it('rejects an unknown command with code 59 CommandNotFound', async () => {
    const error = await rejectionOf(ctx.db.command({ noSuchCommand: 1 }));
    expect(error).toBeInstanceOf(MongoServerError);
    expect(error.code).toBe(59);
    expect(error.codeName).toBe('CommandNotFound');
    expect(error.message).toBe("no such command: 'noSuchCommand'");
  });

  it('refuses a write in a transaction on a standalone with code 20 IllegalOperation', async () => {
    const coll = ctx.freshCollection('txn');
    const session = ctx.client.startSession();
    try {
      session.startTransaction();
      const error = await rejectionOf(coll.insertOne({ a: 1 }, { session }));
      // Driver 7 rewraps code 20 on writes; the server's own error is kept as originalError.
      expect(error).toBeInstanceOf(MongoServerError);
      expect(error.message).toBe(
        'This MongoDB deployment does not support retryable writes. Please add retryWrites=false to your connection string.',
      );
      expect(error.originalError).toBeInstanceOf(MongoServerError);
      expect(error.originalError.code).toBe(20);
      expect(error.originalError.codeName).toBe('IllegalOperation');
      expect(error.originalError.message).toBe(
        'Transaction numbers are only allowed on a replica set member or mongos',
      );
    } finally {
      await session.endSession();
    }
    expect(await coll.countDocuments()).toBe(0);
  });

  it('refuses a read in a transaction on a standalone with code 20 IllegalOperation', async () => {
    const coll = ctx.freshCollection('txn');
    await coll.insertOne({ a: 1 });
    const session = ctx.client.startSession();
    try {
      session.startTransaction();
      const error = await rejectionOf(coll.find({}, { session }).toArray());
      expect(error).toBeInstanceOf(MongoServerError);
      expect(error.code).toBe(20);
      expect(error.codeName).toBe('IllegalOperation');
      expect(error.message).toBe(
        'Transaction numbers are only allowed on a replica set member or mongos',
      );
    } finally {
      await session.endSession();
    }
  });

  it('answers replSetGetStatus on a standalone with code 76 NoReplicationEnabled', async () => {
    const error = await rejectionOf(ctx.db.admin().command({ replSetGetStatus: 1 }));
    expect(error).toBeInstanceOf(MongoServerError);
    expect(error.code).toBe(76);
    expect(error.codeName).toBe('NoReplicationEnabled');
    expect(error.message).toBe('not running with --replSet');
  });

  it('refuses replSetInitiate on a standalone with code 76 NoReplicationEnabled', async () => {
    const error = await rejectionOf(ctx.db.admin().command({ replSetInitiate: {} }));
    expect(error).toBeInstanceOf(MongoServerError);
    expect(error.code).toBe(76);
    expect(error.message).toBe('This node was not started with replication enabled.');
  });

  it('adds no cluster time to the replies of a standalone', async () => {
    const reply = await ctx.db.command({ insert: ctx.freshName('no_clock'), documents: [{ a: 1 }] });
    expect(reply.operationTime).toBeUndefined();
    expect(reply.$clusterTime).toBeUndefined();
  });

  it('lets a session without a transaction be used for reads and writes', async () => {
    const coll = ctx.freshCollection('session');
    const session = ctx.client.startSession();
    try {
      await coll.insertOne({ _id: 1, a: 1 } as never, { session });
      expect(await coll.findOne({ _id: 1 } as never, { session })).toEqual({ _id: 1, a: 1 });
    } finally {
      await session.endSession();
    }
  });
});

describe('database and collection statistics', () => {
  it('lists the test database only once something was written to it', async () => {
    const name = `${ctx.mongo.dbName}_listed`;
    const other = ctx.client.db(name);
    const before = await ctx.db.admin().listDatabases({ nameOnly: true });
    expect(before.databases.map((d) => d.name)).not.toContain(name);

    await other.collection('c').insertOne({ a: 1 });
    try {
      const after = await ctx.db.admin().listDatabases();
      expect(after.ok).toBe(1);
      const entry = after.databases.find((d) => d.name === name);
      expect(entry).toBeDefined();
      expect(entry?.empty).toBe(false);
      expect(typeof entry?.sizeOnDisk).toBe('number');
      expect(typeof after.totalSize).toBe('number');

      const namesOnly = await ctx.db.admin().listDatabases({ nameOnly: true });
      expect(namesOnly.databases.find((d) => d.name === name)).toEqual({ name });
    } finally {
      await other.dropDatabase();
    }
  });

  it('counts collections, objects and indexes in dbStats', async () => {
    const name = `${ctx.mongo.dbName}_stats`;
    const other = ctx.client.db(name);
    try {
      await other.collection('a').insertMany([{ n: 1 }, { n: 2 }, { n: 3 }]);
      await other.collection('b').insertMany([{ n: 1 }, { n: 2 }]);
      await other.collection('b').createIndex({ n: 1 });
      const stats = await other.stats();
      expect(stats.ok).toBe(1);
      expect(stats.db).toBe(name);
      expect(stats.collections).toBe(2);
      expect(stats.views).toBe(0);
      expect(stats.objects).toBe(5);
      expect(stats.indexes).toBe(3);
      expect(stats.scaleFactor).toBe(1);
      expect(typeof stats.dataSize).toBe('number');
      expect(stats.dataSize).toBeGreaterThan(0);
    } finally {
      await other.dropDatabase();
    }
  });

  it('counts the documents and indexes of a collection in collStats', async () => {
    const coll = ctx.freshCollection('collstats');
    await coll.insertMany([{ n: 1 }, { n: 2 }, { n: 3 }, { n: 4 }]);
    await coll.createIndex({ n: 1 });
    const stats = await ctx.db.command({ collStats: coll.collectionName });
    expect(stats.ok).toBe(1);
    expect(stats.ns).toBe(`${ctx.mongo.dbName}.${coll.collectionName}`);
    expect(stats.count).toBe(4);
    expect(stats.nindexes).toBe(2);
    expect(stats.capped).toBe(false);
    expect(Object.keys(stats.indexSizes).sort()).toEqual(['_id_', 'n_1']);
    expect(stats.size).toBeGreaterThan(0);
  });
});
