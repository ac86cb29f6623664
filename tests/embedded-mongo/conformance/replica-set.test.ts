// Conformance: what a replica-set primary answers — hello, the replSet* commands, cluster time on
// replies, retryable writes, read and write concerns.
// Runs against embedded-mongo as the single-member replica set rs0, or the replica set MONGODB_URI names.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Binary, Long, MongoClient, MongoServerError, ObjectId, Timestamp, type CommandStartedEvent } from 'mongodb';
import { openConformanceDb, rejectionOf, type ConformanceDb } from './conformance-db.ts';

let ctx: ConformanceDb;

beforeAll(async () => {
  ctx = await openConformanceDb({ replSet: true });
});

afterAll(async () => {
  await ctx?.close();
});

describe('hello on a replica-set primary', () => {
  it('describes the writable primary of its set: name, version, hosts, election id and last write', async () => {
    const hello = await ctx.db.admin().command({ hello: 1 });

    expect(hello.ok).toBe(1);
    expect(hello.isWritablePrimary).toBe(true);
    expect(hello.secondary).toBe(false);
    expect(typeof hello.setName).toBe('string');
    expect(typeof hello.setVersion).toBe('number');
    expect(hello.hosts).toContain(hello.primary);
    expect(hello.me).toBe(hello.primary);
    expect(hello.electionId).toBeInstanceOf(ObjectId);
    expect(hello.lastWrite.opTime.ts).toBeInstanceOf(Timestamp);
    expect(hello.lastWrite.lastWriteDate).toBeInstanceOf(Date);
    expect(hello.lastWrite.majorityOpTime.ts).toBeInstanceOf(Timestamp);
    expect(hello.maxWireVersion).toBeGreaterThanOrEqual(21);
    expect(hello.logicalSessionTimeoutMinutes).toBe(30);
  });

  it('answers the legacy isMaster with ismaster true and the set name', async () => {
    const reply = await ctx.db.admin().command({ isMaster: 1 });
    const hello = await ctx.db.admin().command({ hello: 1 });

    expect(reply.ismaster).toBe(true);
    expect(reply.setName).toBe(hello.setName);
    expect(reply.primary).toBe(hello.primary);
  });
});

describe('replica-set commands', () => {
  it('replSetGetConfig returns the config with this member in it', async () => {
    const hello = await ctx.db.admin().command({ hello: 1 });
    const { config, ok } = await ctx.db.admin().command({ replSetGetConfig: 1 });

    expect(ok).toBe(1);
    expect(config._id).toBe(hello.setName);
    expect(config.version).toBe(hello.setVersion);
    expect(config.protocolVersion).toBe(1);
    expect(typeof config.writeConcernMajorityJournalDefault).toBe('boolean');
    expect(typeof config.settings).toBe('object');
    const me = config.members.find((m: { host: string }) => m.host === hello.me);
    expect(me).toMatchObject({ arbiterOnly: false, buildIndexes: true, hidden: false, tags: {}, secondaryDelaySecs: 0, votes: 1 });
    expect(me.priority).toBeGreaterThan(0);
  });

  it('replSetGetStatus reports this member as the healthy PRIMARY', async () => {
    const hello = await ctx.db.admin().command({ hello: 1 });
    const status = await ctx.db.admin().command({ replSetGetStatus: 1 });

    expect(status.ok).toBe(1);
    expect(status.set).toBe(hello.setName);
    expect(status.myState).toBe(1);
    expect(status.date).toBeInstanceOf(Date);
    const self = status.members.find((m: { self?: boolean }) => m.self === true);
    expect(self).toMatchObject({ name: hello.me, health: 1, state: 1, stateStr: 'PRIMARY' });
    expect(self.optime.ts).toBeInstanceOf(Timestamp);
    expect(self.optimeDate).toBeInstanceOf(Date);
    expect(typeof self.uptime).toBe('number');
  });

  it('refuses replSetInitiate on an initiated set with code 23 "already initialized"', async () => {
    const hello = await ctx.db.admin().command({ hello: 1 });
    const error = await rejectionOf(ctx.db.admin().command({ replSetInitiate: { _id: hello.setName, members: [{ _id: 0, host: hello.me }] } }));

    expect(error).toBeInstanceOf(MongoServerError);
    expect(error.code).toBe(23);
    expect(error.codeName).toBe('AlreadyInitialized');
    expect(error.message).toBe('already initialized');
  });
});

describe('cluster time', () => {
  it('stamps replies with operationTime and a $clusterTime that advance with each write', async () => {
    const name = ctx.freshName('clock');
    const first = await ctx.db.command({ insert: name, documents: [{ n: 1 }] });
    const second = await ctx.db.command({ insert: name, documents: [{ n: 2 }] });
    const read = await ctx.db.command({ find: name, filter: {} });

    for (const reply of [first, second, read]) {
      expect(reply.operationTime).toBeInstanceOf(Timestamp);
      expect(reply.$clusterTime.clusterTime).toBeInstanceOf(Timestamp);
      expect(reply.$clusterTime.signature.hash).toBeInstanceOf(Binary);
      expect(reply.$clusterTime.signature.keyId).toBeDefined();
      expect(reply.operationTime.lessThanOrEqual(reply.$clusterTime.clusterTime)).toBe(true);
    }
    expect(first.operationTime.lessThan(second.operationTime)).toBe(true);
    expect(second.operationTime.lessThanOrEqual(read.operationTime)).toBe(true);
  });

  it('accepts readConcern majority with afterClusterTime and writeConcern majority in a causally consistent session', async () => {
    const coll = ctx.freshCollection<any>('causal');
    const session = ctx.client.startSession({ causalConsistency: true });
    try {
      await coll.insertOne({ _id: 1 }, { session, writeConcern: { w: 'majority', journal: true } });
      const found = await coll.find({}, { session, readConcern: { level: 'majority' } }).toArray();
      expect(found).toEqual([{ _id: 1 }]);
      expect(session.operationTime).toBeInstanceOf(Timestamp);
    } finally {
      await session.endSession();
    }
  });
});

describe('retryable writes', () => {
  it('the driver sends writes with a txnNumber, and they succeed', async () => {
    const started: CommandStartedEvent[] = [];
    const client = new MongoClient(ctx.mongo.uri, { monitorCommands: true });
    client.on('commandStarted', (event) => started.push(event));
    try {
      const coll = client.db(ctx.mongo.dbName).collection<any>(ctx.freshName('retryable'));
      await coll.insertOne({ _id: 1 });
      await coll.updateOne({ _id: 1 }, { $set: { a: 1 } });
      await coll.findOneAndUpdate({ _id: 1 }, { $inc: { a: 1 } });
      await coll.deleteOne({ _id: 1 });

      const writes = started.filter((e) => ['insert', 'update', 'findAndModify', 'delete'].includes(e.commandName));
      expect(writes.map((e) => e.commandName)).toEqual(['insert', 'update', 'findAndModify', 'delete']);
      for (const write of writes) {
        expect(write.command.txnNumber).toBeDefined();
        expect(write.command.lsid).toBeDefined();
      }
      expect(await coll.countDocuments()).toBe(0);
    } finally {
      await client.close();
    }
  });

  it('answers a write retried with the same session and txnNumber without applying it twice', async () => {
    const name = ctx.freshName('retried');
    const session = ctx.client.startSession();
    // The driver may hand out a pooled session whose low txnNumbers it already used.
    const txnNumber = Date.now();
    try {
      const write = { insert: name, documents: [{ n: 1 }], txnNumber: Long.fromNumber(txnNumber) };
      const first = await ctx.db.command(write, { session });
      const retried = await ctx.db.command(write, { session });

      expect(first.n).toBe(1);
      expect(retried.n).toBe(1);
      expect(await ctx.db.collection(name).countDocuments()).toBe(1);

      await ctx.db.command({ ...write, txnNumber: Long.fromNumber(txnNumber + 1) }, { session });
      expect(await ctx.db.collection(name).countDocuments()).toBe(2);
    } finally {
      await session.endSession();
    }
  });
});
