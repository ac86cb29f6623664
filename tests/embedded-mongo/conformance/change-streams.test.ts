// Conformance: change streams on a replica set — event shapes, filtering, resuming, invalidation
// and how getMore waits — through the driver's watch() as applications use it.
// Runs against embedded-mongo as the single-member replica set rs0, or the replica set MONGODB_URI names.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  MongoClient,
  MongoServerError,
  Timestamp,
  type ChangeStream,
  type ChangeStreamDocument,
  type ChangeStreamOptions,
  type Collection,
  type CommandStartedEvent,
  type Document,
} from 'mongodb';
import { startEmbeddedMongo } from '../../../embedded-mongo/src/index.ts';
import { asLong, openConformanceDb, rejectionOf, type ConformanceDb } from './conformance-db.ts';

let ctx: ConformanceDb;
/** A second client that reports the commands it sends, to know when a getMore is on its way. */
let monitored: MongoClient;
const streams: ChangeStream<any>[] = [];

beforeAll(async () => {
  // TTL passes every second, so a TTL delete shows up promptly.
  ctx = await openConformanceDb({ replSet: true, embedded: { ttlMonitorSleepSecs: 1 } });
  monitored = new MongoClient(ctx.mongo.uri, { monitorCommands: true, serverSelectionTimeoutMS: 10_000 });
  await monitored.connect();
});

afterAll(async () => {
  for (const stream of streams) await stream.close();
  await monitored?.close();
  await ctx?.close();
});

type Watchable = { watch: (pipeline?: Document[], options?: ChangeStreamOptions) => ChangeStream<any> };

/**
 * Opens a change stream and waits until the server has started it (the aggregate ran and one
 * short getMore came back empty), so every write after this is seen.
 */
async function openStream(target: Watchable, pipeline: Document[] = [], options: ChangeStreamOptions = {}): Promise<ChangeStream<any, ChangeStreamDocument<any>>> {
  const stream = target.watch(pipeline, { maxAwaitTimeMS: 100, ...options });
  streams.push(stream);
  expect(await stream.tryNext()).toBeNull();
  return stream;
}

/** A stream whose start is fixed by its options (a token or a time): no need to wait for it to open. */
function resumeStream(target: Watchable, options: ChangeStreamOptions, pipeline: Document[] = []): ChangeStream<any, ChangeStreamDocument<any>> {
  const stream = target.watch(pipeline, { maxAwaitTimeMS: 100, ...options });
  streams.push(stream);
  return stream;
}

/** Resolves when the monitored client next sends `name` (the command is on the wire). */
function nextCommandStarted(name: string): Promise<CommandStartedEvent> {
  return new Promise((resolve) => {
    const listener = (event: CommandStartedEvent) => {
      if (event.commandName !== name) return;
      monitored.off('commandStarted', listener);
      resolve(event);
    };
    monitored.on('commandStarted', listener);
  });
}

/** The next `count` events, as plain documents: tests read whichever fields their events have. */
async function nextEvents(stream: ChangeStream<any>, count: number): Promise<Document[]> {
  const events: Document[] = [];
  while (events.length < count) events.push(await stream.next());
  return events;
}

/** A collection no other test uses, untyped: tests choose their own `_id`s. */
const fresh = (label: string): Collection<any> => ctx.freshCollection<any>(label);

const ns = (coll: Collection<any>) => ({ db: coll.dbName, coll: coll.collectionName });

describe('change events', () => {
  it('describes an insert with its full document, namespace and document key', async () => {
    const coll = fresh('insert');
    const stream = await openStream(coll);

    await coll.insertOne({ _id: 1, subject: 'Printer on fire' });
    const event = await stream.next();

    expect(event).toEqual({
      _id: { _data: expect.any(String) },
      operationType: 'insert',
      clusterTime: expect.any(Timestamp),
      wallTime: expect.any(Date),
      fullDocument: { _id: 1, subject: 'Printer on fire' },
      ns: ns(coll),
      documentKey: { _id: 1 },
    });
  });

  it('describes an update by the fields it set, as dotted paths inside embedded documents, and the fields it removed', async () => {
    const coll = fresh('update');
    await coll.insertOne({ _id: 1, profile: { city: 'Bergen', zip: '5003' }, status: 'open', draft: true });
    const stream = await openStream(coll);

    await coll.updateOne({ _id: 1 }, { $set: { 'profile.city': 'Oslo', status: 'closed' }, $unset: { draft: '' } });
    const event = await stream.next();

    expect(event).toEqual({
      _id: { _data: expect.any(String) },
      operationType: 'update',
      clusterTime: expect.any(Timestamp),
      wallTime: expect.any(Date),
      ns: ns(coll),
      documentKey: { _id: 1 },
      updateDescription: {
        updatedFields: { 'profile.city': 'Oslo', status: 'closed' },
        removedFields: ['draft'],
        truncatedArrays: [],
      },
    });
  });

  it('describes a replacement with the new full document', async () => {
    const coll = fresh('replace');
    await coll.insertOne({ _id: 1, a: 1 });
    const stream = await openStream(coll);

    await coll.replaceOne({ _id: 1 }, { b: 2 });
    const event = await stream.next();

    expect(event).toEqual({
      _id: { _data: expect.any(String) },
      operationType: 'replace',
      clusterTime: expect.any(Timestamp),
      wallTime: expect.any(Date),
      fullDocument: { _id: 1, b: 2 },
      ns: ns(coll),
      documentKey: { _id: 1 },
    });
  });

  it('describes a delete by its document key only', async () => {
    const coll = fresh('delete');
    await coll.insertOne({ _id: 7, a: 1 });
    const stream = await openStream(coll);

    await coll.deleteOne({ _id: 7 });
    const event = await stream.next();

    expect(event).toEqual({
      _id: { _data: expect.any(String) },
      operationType: 'delete',
      clusterTime: expect.any(Timestamp),
      wallTime: expect.any(Date),
      ns: ns(coll),
      documentKey: { _id: 7 },
    });
  });

  it('gives events cluster times that increase, and resume tokens that sort in event order', async () => {
    const coll = fresh('order');
    const stream = await openStream(coll);

    await coll.insertMany([{ n: 1 }, { n: 2 }, { n: 3 }]);
    const events = await nextEvents(stream, 3);

    expect(events.map((e) => e.fullDocument.n)).toEqual([1, 2, 3]);
    const times = events.map((e) => e.clusterTime!);
    expect(times[0]!.lessThanOrEqual(times[1]!) && times[1]!.lessThanOrEqual(times[2]!)).toBe(true);
    const tokens = events.map((e) => (e._id as { _data: string })._data);
    expect([...tokens].sort()).toEqual(tokens);
  });

  it('with fullDocument updateLookup gives an update the document as it is when the event is read', async () => {
    const coll = fresh('lookup');
    await coll.insertOne({ _id: 1, n: 0 });
    const stream = await openStream(coll, [], { fullDocument: 'updateLookup' });

    await coll.updateOne({ _id: 1 }, { $set: { n: 1 } });
    await coll.updateOne({ _id: 1 }, { $set: { n: 2 } });
    const [first, second] = await nextEvents(stream, 2);

    expect(first).toMatchObject({ operationType: 'update', updateDescription: { updatedFields: { n: 1 } }, fullDocument: { _id: 1, n: 2 } });
    expect(second).toMatchObject({ operationType: 'update', updateDescription: { updatedFields: { n: 2 } }, fullDocument: { _id: 1, n: 2 } });
  });

  it('with fullDocument updateLookup gives null for a document deleted since the update', async () => {
    const coll = fresh('lookup_gone');
    await coll.insertOne({ _id: 1, n: 0 });
    const stream = await openStream(coll, [], { fullDocument: 'updateLookup' });

    await coll.updateOne({ _id: 1 }, { $set: { n: 1 } });
    await coll.deleteOne({ _id: 1 });
    const [update, remove] = await nextEvents(stream, 2);

    expect(update).toMatchObject({ operationType: 'update', fullDocument: null });
    expect(remove).toMatchObject({ operationType: 'delete', documentKey: { _id: 1 } });
    expect(remove).not.toHaveProperty('fullDocument');
  });
});

describe('what a stream sees', () => {
  it('a collection stream sees only the changes of its collection', async () => {
    const watched = fresh('watched');
    const other = fresh('other');
    const stream = await openStream(watched);

    await other.insertOne({ where: 'other' });
    await watched.insertOne({ where: 'watched' });
    const event = await stream.next();

    expect(event).toMatchObject({ operationType: 'insert', ns: ns(watched), fullDocument: { where: 'watched' } });
    expect(await stream.tryNext()).toBeNull();
  });

  it('a $match on operationType passes only those events', async () => {
    const coll = fresh('match_op');
    const stream = await openStream(coll, [{ $match: { operationType: 'insert' } }]);

    await coll.insertOne({ _id: 1 });
    await coll.updateOne({ _id: 1 }, { $set: { a: 1 } });
    await coll.deleteOne({ _id: 1 });
    await coll.insertOne({ _id: 2 });
    const events = await nextEvents(stream, 2);

    expect(events.map((e) => [e.operationType, e.documentKey._id])).toEqual([
      ['insert', 1],
      ['insert', 2],
    ]);
    expect(await stream.tryNext()).toBeNull();
  });

  it('a database stream with a $match on ns.coll sees that collection only', async () => {
    const wanted = fresh('db_wanted');
    const unwanted = fresh('db_unwanted');
    const stream = await openStream(ctx.db, [{ $match: { 'ns.coll': wanted.collectionName } }]);

    await unwanted.insertOne({ n: 1 });
    await wanted.insertOne({ n: 2 });
    await unwanted.insertOne({ n: 3 });
    await wanted.insertOne({ n: 4 });
    const events = await nextEvents(stream, 2);

    expect(events.map((e) => [e.ns.coll, e.fullDocument.n])).toEqual([
      [wanted.collectionName, 2],
      [wanted.collectionName, 4],
    ]);
  });

  it('a database stream sees every collection of its database and none of another', async () => {
    const otherDb = ctx.client.db(`${ctx.mongo.dbName}_elsewhere`);
    const stream = await openStream(ctx.db);
    try {
      await otherDb.collection('c').insertOne({ n: 0 });
      await fresh('db_a').insertOne({ n: 1 });
      await fresh('db_b').insertOne({ n: 2 });
      const events = await nextEvents(stream, 2);

      expect(events.map((e) => [e.ns.db, e.fullDocument.n])).toEqual([
        [ctx.mongo.dbName, 1],
        [ctx.mongo.dbName, 2],
      ]);
    } finally {
      await stream.close();
      await otherDb.dropDatabase();
    }
  });

  it('a cluster stream (client.watch) sees changes in every database', async () => {
    const otherName = `${ctx.mongo.dbName}_cluster`;
    const stream = await openStream(ctx.client, [{ $match: { 'ns.db': { $in: [ctx.mongo.dbName, otherName] } } }]);
    try {
      await fresh('cluster').insertOne({ n: 1 });
      await ctx.client.db(otherName).collection('c').insertOne({ n: 2 });
      const events = await nextEvents(stream, 2);

      expect(events.map((e) => [e.ns.db, e.fullDocument.n])).toEqual([
        [ctx.mongo.dbName, 1],
        [otherName, 2],
      ]);
    } finally {
      await stream.close();
      await ctx.client.db(otherName).dropDatabase();
    }
  });

  it('can be read with for await, and close() ends it', async () => {
    const coll = fresh('for_await');
    const stream = await openStream(coll);

    await coll.insertMany([{ n: 1 }, { n: 2 }, { n: 3 }]);
    const seen: number[] = [];
    for await (const change of stream) {
      if (change.operationType === 'insert') seen.push(change.fullDocument.n);
      if (seen.length === 3) break;
    }

    expect(seen).toEqual([1, 2, 3]);
    expect(stream.closed).toBe(true);
  });
});

describe('resuming', () => {
  it('resumeAfter a token continues with the next event, each event exactly once', async () => {
    const coll = fresh('resume');
    const first = await openStream(coll);
    await coll.insertMany([{ n: 1 }, { n: 2 }, { n: 3 }, { n: 4 }]);
    const [, second] = await nextEvents(first, 2);
    await first.close();

    const resumed = resumeStream(coll, { resumeAfter: second!._id });
    const events = await nextEvents(resumed, 2);

    expect(events.map((e) => e.fullDocument.n)).toEqual([3, 4]);
    expect(await resumed.tryNext()).toBeNull();
  });

  it('resumes from the stream resumeToken after the last event read, missing nothing written meanwhile', async () => {
    const coll = fresh('resume_token');
    const stream = await openStream(coll);
    await coll.insertOne({ n: 1 });
    await stream.next();
    const token = stream.resumeToken;
    await stream.close();

    await coll.insertOne({ n: 2 });
    const resumed = resumeStream(coll, { resumeAfter: token });

    expect(await resumed.next()).toMatchObject({ operationType: 'insert', fullDocument: { n: 2 } });
    expect(await resumed.tryNext()).toBeNull();
  });

  it('startAtOperationTime gives the events at and after that cluster time', async () => {
    const coll = fresh('start_at');
    const session = ctx.client.startSession();
    try {
      await coll.insertOne({ n: 1 });
      await coll.insertOne({ n: 2 }, { session });
      const writtenAt = session.operationTime!;
      await coll.insertOne({ n: 3 });

      const stream = resumeStream(coll, { startAtOperationTime: writtenAt });
      const events = await nextEvents(stream, 2);

      expect(events.map((e) => e.fullDocument.n)).toEqual([2, 3]);
      expect(await stream.tryNext()).toBeNull();
    } finally {
      await session.endSession();
    }
  });

  it('fails with code 286 ChangeStreamHistoryLost for a start time older than the history', async () => {
    const coll = fresh('ancient');
    const stream = resumeStream(coll, { startAtOperationTime: new Timestamp({ t: 1, i: 1 }) });

    const error = await rejectionOf(stream.next());

    expect(error).toBeInstanceOf(MongoServerError);
    expect(error.code).toBe(286);
    expect(error.codeName).toBe('ChangeStreamHistoryLost');
  });

  it('the postBatchResumeToken of an empty getMore resumes without losing the next write', async () => {
    const coll = fresh('pbrt');
    await coll.insertOne({ n: 0 });
    const opened = await ctx.db.command({ aggregate: coll.collectionName, pipeline: [{ $changeStream: {} }], cursor: {} });
    const empty = await ctx.db.command({ getMore: asLong(opened.cursor.id), collection: coll.collectionName, maxTimeMS: 50 });
    await ctx.db.command({ killCursors: coll.collectionName, cursors: [asLong(opened.cursor.id)] });
    expect(empty.cursor.nextBatch).toEqual([]);

    await coll.insertOne({ n: 1 });
    const resumed = resumeStream(coll, { resumeAfter: empty.cursor.postBatchResumeToken });

    expect(await resumed.next()).toMatchObject({ operationType: 'insert', fullDocument: { n: 1 } });
    expect(await resumed.tryNext()).toBeNull();
  });
});

describe('invalidation', () => {
  it('a dropped collection gives drop then invalidate, and the stream closes', async () => {
    const coll = fresh('dropped');
    await coll.insertOne({ n: 1 });
    const stream = await openStream(coll);

    await coll.drop();
    const [drop, invalidate] = await nextEvents(stream, 2);

    expect(drop).toEqual({
      _id: { _data: expect.any(String) },
      operationType: 'drop',
      clusterTime: expect.any(Timestamp),
      wallTime: expect.any(Date),
      ns: ns(coll),
    });
    expect(invalidate).toEqual({
      _id: { _data: expect.any(String) },
      operationType: 'invalidate',
      clusterTime: expect.any(Timestamp),
      wallTime: expect.any(Date),
    });
    expect(await stream.hasNext()).toBe(false);
    expect(stream.closed).toBe(true);
  });

  it('a renamed collection gives rename with the new namespace, then invalidate', async () => {
    const coll = fresh('renamed');
    const target = ctx.freshName('renamed_to');
    await coll.insertOne({ n: 1 });
    const stream = await openStream(coll);

    await coll.rename(target);
    const [rename, invalidate] = await nextEvents(stream, 2);

    expect(rename).toMatchObject({ operationType: 'rename', ns: ns(coll), to: { db: ctx.mongo.dbName, coll: target } });
    expect(invalidate).toMatchObject({ operationType: 'invalidate' });
  });

  it('a dropped database gives a database stream each drop, dropDatabase, then invalidate', async () => {
    const db = ctx.client.db(`${ctx.mongo.dbName}_dropped`);
    await db.collection('only').insertOne({ n: 1 });
    const stream = await openStream(db);

    await db.dropDatabase();
    const events = await nextEvents(stream, 3);

    expect(events.map((e) => e.operationType)).toEqual(['drop', 'dropDatabase', 'invalidate']);
    expect(events[0]).toMatchObject({ ns: { db: db.databaseName, coll: 'only' } });
    expect(events[1]).toMatchObject({ ns: { db: db.databaseName } });
  });

  it('startAfter the invalidate token starts a new stream with the next change', async () => {
    const coll = fresh('restarted');
    await coll.insertOne({ n: 1 });
    const stream = await openStream(coll);
    await coll.drop();
    const [, invalidate] = await nextEvents(stream, 2);

    await coll.insertOne({ n: 2 });
    const restarted = resumeStream(coll, { startAfter: invalidate!._id });

    expect(await restarted.next()).toMatchObject({ operationType: 'insert', fullDocument: { n: 2 } });
  });

  it('refuses resumeAfter an invalidate token with code 260 InvalidResumeToken', async () => {
    const coll = fresh('no_resume');
    await coll.insertOne({ n: 1 });
    const stream = await openStream(coll);
    await coll.drop();
    const [, invalidate] = await nextEvents(stream, 2);

    const error = await rejectionOf(resumeStream(coll, { resumeAfter: invalidate!._id }).next());

    expect(error).toBeInstanceOf(MongoServerError);
    expect(error.code).toBe(260);
    expect(error.codeName).toBe('InvalidResumeToken');
  });
});

describe('getMore on a change stream', () => {
  it('waits for a write and returns its event as soon as it is made, while other connections are served', async () => {
    const name = ctx.freshName('waits');
    const db = monitored.db(ctx.mongo.dbName);
    const opened = await db.command({ aggregate: name, pipeline: [{ $changeStream: {} }], cursor: {} });
    const id = asLong(opened.cursor.id);
    try {
      const getMoreSent = nextCommandStarted('getMore');
      const reply = db.command({ getMore: id, collection: name, maxTimeMS: 20_000 });
      await getMoreSent;
      const started = Date.now();

      // Other connections are served while it waits (and by this reply the server holds the getMore).
      expect(await ctx.db.collection(name).countDocuments()).toBe(0);
      await ctx.db.collection(name).insertOne({ n: 1 });
      const { cursor } = await reply;

      expect(cursor.nextBatch).toHaveLength(1);
      expect(cursor.nextBatch[0]).toMatchObject({ operationType: 'insert', fullDocument: { n: 1 } });
      // Well before the 20 s the getMore was allowed to wait.
      expect(Date.now() - started).toBeLessThan(10_000);
    } finally {
      await db.command({ killCursors: name, cursors: [id] });
    }
  });

  it('returns an empty batch with a postBatchResumeToken after maxTimeMS when nothing changes, keeping the cursor open', async () => {
    const coll = fresh('empty');
    const opened = await ctx.db.command({ aggregate: coll.collectionName, pipeline: [{ $changeStream: {} }], cursor: {} });
    expect(opened.cursor.firstBatch).toEqual([]);
    expect(opened.cursor.postBatchResumeToken).toEqual({ _data: expect.any(String) });
    const id = asLong(opened.cursor.id);
    expect(id.isZero()).toBe(false);

    const started = Date.now();
    const reply = await ctx.db.command({ getMore: id, collection: coll.collectionName, maxTimeMS: 300 });

    expect(Date.now() - started).toBeGreaterThanOrEqual(250);
    expect(reply.cursor.nextBatch).toEqual([]);
    expect(reply.cursor.postBatchResumeToken).toEqual({ _data: expect.any(String) });
    expect(asLong(reply.cursor.id).equals(id)).toBe(true);
    await ctx.db.command({ killCursors: coll.collectionName, cursors: [id] });
  });

  it('reports a database stream cursor under the $cmd.aggregate namespace', async () => {
    const opened = await ctx.db.command({ aggregate: 1, pipeline: [{ $changeStream: {} }], cursor: {} });
    try {
      expect(opened.cursor.ns).toBe(`${ctx.mongo.dbName}.$cmd.aggregate`);
      const reply = await ctx.db.command({ getMore: asLong(opened.cursor.id), collection: '$cmd.aggregate', maxTimeMS: 10 });
      expect(reply.cursor.nextBatch).toEqual([]);
    } finally {
      await ctx.db.command({ killCursors: '$cmd.aggregate', cursors: [asLong(opened.cursor.id)] });
    }
  });
});

describe('pipelines', () => {
  it('applies $project and $addFields to each event', async () => {
    const coll = fresh('shaped');
    const stream = await openStream(coll, [{ $project: { operationType: 1, 'fullDocument.n': 1 } }, { $addFields: { seen: true } }]);

    await coll.insertOne({ n: 1, secret: 'x' });

    expect(await stream.next()).toEqual({ _id: { _data: expect.any(String) }, operationType: 'insert', fullDocument: { n: 1 }, seen: true });
  });

  it('refuses $changeStream anywhere but first with code 40602', async () => {
    const coll = fresh('not_first');
    const error = await rejectionOf(coll.aggregate([{ $match: {} }, { $changeStream: {} }]).toArray());

    expect(error).toBeInstanceOf(MongoServerError);
    expect(error.code).toBe(40602);
  });

  it('refuses a stage change streams do not allow, such as $group, with code 20', async () => {
    const coll = fresh('group');
    const error = await rejectionOf(coll.watch([{ $group: { _id: '$operationType' } }]).next());

    expect(error).toBeInstanceOf(MongoServerError);
    expect(error.code).toBe(20);
    expect(error.message).toBe('$group is not permitted in a $changeStream pipeline');
  });

  it('fails with code 280 when the pipeline removes the resume token', async () => {
    const coll = fresh('no_token');
    const stream = await openStream(coll, [{ $project: { _id: 0 } }]);

    await coll.insertOne({ n: 1 });
    const error = await rejectionOf(stream.next());

    expect(error).toBeInstanceOf(MongoServerError);
    expect(error.code).toBe(280);
  });
});

describe('TTL deletes', () => {
  // A real server may finish its current (60 s) TTL sleep before the new interval applies.
  it('appear as delete events', { timeout: 120_000 }, async () => {
    const admin = ctx.db.admin();
    const was = (await admin.command({ getParameter: 1, ttlMonitorSleepSecs: 1 })).ttlMonitorSleepSecs;
    const coll = fresh('ttl');
    await coll.createIndex({ expiresAt: 1 }, { expireAfterSeconds: 0 });
    const stream = await openStream(coll);
    await admin.command({ setParameter: 1, ttlMonitorSleepSecs: 1 });
    try {
      await coll.insertOne({ _id: 'expired', expiresAt: new Date(Date.now() - 60_000) });

      const [insert, remove] = await nextEvents(stream, 2);

      expect(insert).toMatchObject({ operationType: 'insert', documentKey: { _id: 'expired' } });
      expect(remove).toEqual({
        _id: { _data: expect.any(String) },
        operationType: 'delete',
        clusterTime: expect.any(Timestamp),
        wallTime: expect.any(Date),
        ns: ns(coll),
        documentKey: { _id: 'expired' },
      });
    } finally {
      await admin.command({ setParameter: 1, ttlMonitorSleepSecs: was });
    }
  });
});

describe('a short change history', () => {
  it('fails a resume from a token the history no longer holds with code 286 ChangeStreamHistoryLost', async ({ skip }) => {
    // Only embedded-mongo lets a test choose how much history is kept.
    if (ctx.mongo.external) skip();
    const server = await startEmbeddedMongo({ replSet: 'rs0', changeHistoryLimit: 5 });
    const client = new MongoClient(server.uri);
    try {
      const coll = client.db('history').collection('c');
      const stream = await openStream(coll);
      await coll.insertOne({ n: 0 });
      const oldest = await stream.next();
      await stream.close();
      await coll.insertMany(Array.from({ length: 10 }, (_, n) => ({ n: n + 1 })));

      const error = await rejectionOf(resumeStream(coll, { resumeAfter: oldest._id }).next());

      expect(error).toBeInstanceOf(MongoServerError);
      expect(error.code).toBe(286);
      expect(error.codeName).toBe('ChangeStreamHistoryLost');
      expect(error.message).toBe('Resume of change stream was not possible, as the resume point may no longer be in the oplog.');
    } finally {
      await client.close();
      await server.stop();
    }
  });
});

