// Conformance: inserts, finds and cursors, updates, deletes, counts, findAndModify and bulk writes.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  Double,
  Long,
  MongoBulkWriteError,
  MongoServerError,
  ObjectId,
  type Collection,
  type Document,
} from 'mongodb';
import { asLong, openConformanceDb, rejectionOf, type ConformanceDb } from './conformance-db.ts';

let ctx: ConformanceDb;

beforeAll(async () => {
  ctx = await openConformanceDb();
});

afterAll(async () => {
  await ctx?.close();
});

/** A fresh collection holding `docs`, inserted in order. */
async function seeded(label: string, docs: Document[]): Promise<Collection<any>> {
  const coll = ctx.freshCollection<any>(label);
  if (docs.length > 0) await coll.insertMany(docs);
  return coll;
}

describe('inserting', () => {
  it('insertOne returns the generated ObjectId and stores it as the first field', async () => {
    const coll = ctx.freshCollection('ins');
    const result = await coll.insertOne({ name: 'Ada', age: 36 });
    expect(result.acknowledged).toBe(true);
    expect(result.insertedId).toBeInstanceOf(ObjectId);
    const stored = await coll.findOne({ name: 'Ada' });
    expect(stored).toEqual({ _id: result.insertedId, name: 'Ada', age: 36 });
    expect(Object.keys(stored!)).toEqual(['_id', 'name', 'age']);
  });

  it('moves a client-supplied _id to the front of the stored document', async () => {
    const coll = ctx.freshCollection('ins');
    await coll.insertOne({ a: 1, _id: 'x', b: 2 } as Document);
    const stored = await coll.findOne({});
    expect(Object.keys(stored!)).toEqual(['_id', 'a', 'b']);
    expect(stored).toEqual({ _id: 'x', a: 1, b: 2 });
  });

  it('generates an ObjectId _id on the server when the driver leaves it out', async () => {
    const coll = ctx.freshCollection('ins');
    await coll.insertOne({ a: 1, b: 2 }, { forceServerObjectId: true });
    const stored = await coll.findOne({});
    expect(stored?._id).toBeInstanceOf(ObjectId);
    expect(Object.keys(stored!)).toEqual(['_id', 'a', 'b']);
  });

  it('keeps field order, nested documents and BSON types of what was inserted', async () => {
    const coll = ctx.freshCollection('ins');
    const when = new Date('2024-05-06T07:08:09.010Z');
    const ref = new ObjectId();
    await coll.insertOne({
      _id: 1,
      z: 'last-alphabetically-first-inserted',
      a: { y: [1, 'two', { three: 3 }], x: null },
      when,
      ref,
      big: Long.fromString('9007199254740993'),
      flag: false,
    } as Document);
    const stored = await coll.findOne({ _id: 1 } as Document, { promoteLongs: false });
    expect(Object.keys(stored!)).toEqual(['_id', 'z', 'a', 'when', 'ref', 'big', 'flag']);
    expect(Object.keys(stored!.a)).toEqual(['y', 'x']);
    expect(stored!.a).toEqual({ y: [1, 'two', { three: 3 }], x: null });
    expect(stored!.when).toEqual(when);
    expect(stored!.ref.equals(ref)).toBe(true);
    expect(Long.isLong(stored!.big)).toBe(true);
    expect(stored!.big.toString()).toBe('9007199254740993');
    expect(stored!.flag).toBe(false);
  });

  it('insertMany returns every id by position', async () => {
    const coll = ctx.freshCollection('ins');
    const result = await coll.insertMany([{ _id: 'a' }, { n: 2 }, { _id: 3 }] as Document[]);
    expect(result.acknowledged).toBe(true);
    expect(result.insertedCount).toBe(3);
    expect(result.insertedIds[0]).toBe('a');
    expect(result.insertedIds[1]).toBeInstanceOf(ObjectId);
    expect(result.insertedIds[2]).toBe(3);
    expect(await coll.countDocuments()).toBe(3);
  });

  it('ordered insertMany stops at a duplicate _id and reports where it failed', async () => {
    const coll = ctx.freshCollection('ins');
    const error = await rejectionOf(
      coll.insertMany([{ _id: 1 }, { _id: 2 }, { _id: 1 }, { _id: 3 }] as Document[]),
    );
    expect(error).toBeInstanceOf(MongoBulkWriteError);
    expect(error.code).toBe(11000);
    expect(error.insertedCount).toBe(2);
    expect(error.writeErrors).toHaveLength(1);
    expect(error.writeErrors[0].index).toBe(2);
    expect(error.writeErrors[0].code).toBe(11000);
    const ids = (await coll.find({}).sort({ _id: 1 }).toArray()).map((d) => d._id);
    expect(ids).toEqual([1, 2]);
  });

  it('unordered insertMany inserts the documents after a duplicate', async () => {
    const coll = ctx.freshCollection('ins');
    const error = await rejectionOf(
      coll.insertMany([{ _id: 1 }, { _id: 1 }, { _id: 2 }, { _id: 2 }, { _id: 3 }] as Document[], {
        ordered: false,
      }),
    );
    expect(error).toBeInstanceOf(MongoBulkWriteError);
    expect(error.insertedCount).toBe(3);
    expect(error.writeErrors.map((e: { index: number }) => e.index)).toEqual([1, 3]);
    expect(error.writeErrors.map((e: { code: number }) => e.code)).toEqual([11000, 11000]);
    const ids = (await coll.find({}).sort({ _id: 1 }).toArray()).map((d) => d._id);
    expect(ids).toEqual([1, 2, 3]);
  });

  it('answers a raw insert command with n', async () => {
    const name = ctx.freshName('ins');
    const reply = await ctx.db.command({ insert: name, documents: [{ _id: 1 }, { _id: 2 }] });
    expect(reply).toEqual({ n: 2, ok: 1 });
  });

  it('answers a raw insert with a duplicate with ok 1, n and writeErrors', async () => {
    const name = ctx.freshName('ins');
    await ctx.db.collection(name).insertOne({ _id: 1 } as Document);
    const reply = await ctx.db.command({
      insert: name,
      documents: [{ _id: 2 }, { _id: 1 }, { _id: 3 }],
      ordered: true,
    });
    expect(reply.ok).toBe(1);
    expect(reply.n).toBe(1);
    expect(reply.writeErrors).toEqual([
      {
        index: 1,
        code: 11000,
        errmsg: `E11000 duplicate key error collection: ${ctx.mongo.dbName}.${name} index: _id_ dup key: { _id: 1 }`,
        keyPattern: { _id: 1 },
        keyValue: { _id: 1 },
      },
    ]);
    // Drivers and tools that print the error show mongod's field order.
    expect(Object.keys(reply.writeErrors[0])).toEqual(['index', 'code', 'errmsg', 'keyPattern', 'keyValue']);
  });

  it('answers a raw update that breaks a unique index with write errors in mongod field order', async () => {
    const name = ctx.freshName('upd');
    await ctx.db.collection(name).createIndex({ email: 1 }, { unique: true });
    await ctx.db.collection(name).insertMany([{ _id: 1, email: 'a' }, { _id: 2, email: 'b' }] as Document[]);
    const reply = await ctx.db.command({ update: name, updates: [{ q: { _id: 2 }, u: { $set: { email: 'a' } } }] });
    expect(reply.writeErrors).toHaveLength(1);
    expect(Object.keys(reply.writeErrors[0])).toEqual(['index', 'code', 'errmsg', 'keyPattern', 'keyValue']);
    expect(reply.writeErrors[0].keyValue).toEqual({ email: 'a' });
  });
});

describe('finding', () => {
  const people = [
    { _id: 1, name: 'ann', age: 31, city: 'Oslo', tags: ['a', 'b'], addr: { zip: '0150', street: 'Storgata' } },
    { _id: 2, name: 'bob', age: 25, city: 'Bergen', tags: ['b'], addr: { zip: '5003', street: 'Bryggen' } },
    { _id: 3, name: 'cid', age: 42, city: 'Oslo', tags: [], addr: { zip: '0151', street: 'Karl Johan' } },
    { _id: 4, name: 'dee', age: 25, city: 'Oslo', tags: ['c', 'a', 'd'], addr: { zip: '0152', street: 'Grensen' } },
    { _id: 5, name: 'eve', age: 37, city: 'Tromsø', tags: ['a'], addr: { zip: '9008', street: 'Storgata' } },
  ];
  let coll: Collection<any>;

  beforeAll(async () => {
    coll = await seeded('people', people);
  });

  it('filters by equality', async () => {
    const docs = await coll.find({ city: 'Oslo' }).sort({ _id: 1 }).toArray();
    expect(docs.map((d) => d.name)).toEqual(['ann', 'cid', 'dee']);
  });

  it('returns whole documents with nested fields intact', async () => {
    expect(await coll.findOne({ _id: 2 })).toEqual(people[1]);
  });

  it('returns null from findOne when nothing matches', async () => {
    expect(await coll.findOne({ name: 'nobody' })).toBeNull();
  });

  it('sorts descending with a tiebreaker', async () => {
    const docs = await coll.find({}).sort({ age: -1, _id: 1 }).toArray();
    expect(docs.map((d) => d._id)).toEqual([3, 5, 1, 2, 4]);
  });

  it('applies skip before limit after the sort', async () => {
    const docs = await coll.find({}).sort({ age: 1, _id: 1 }).skip(1).limit(2).toArray();
    expect(docs.map((d) => d._id)).toEqual([4, 1]);
  });

  it('treats a negative limit as a single batch of that many documents', async () => {
    const docs = await coll.find({}).sort({ _id: 1 }).limit(-2).toArray();
    expect(docs.map((d) => d._id)).toEqual([1, 2]);
  });

  it('returns nothing when skip passes the end', async () => {
    expect(await coll.find({}).skip(10).toArray()).toEqual([]);
  });

  it('returns included fields plus _id, in document order rather than projection order', async () => {
    const doc = await coll.findOne({ _id: 1 }, { projection: { city: 1, name: 1 } });
    expect(doc).toEqual({ _id: 1, name: 'ann', city: 'Oslo' });
    expect(Object.keys(doc!)).toEqual(['_id', 'name', 'city']);
  });

  it('drops excluded fields and keeps the rest', async () => {
    const doc = await coll.findOne({ _id: 2 }, { projection: { tags: 0, addr: 0 } });
    expect(doc).toEqual({ _id: 2, name: 'bob', age: 25, city: 'Bergen' });
  });

  it('leaves _id out when projected with _id: 0', async () => {
    const doc = await coll.findOne({ _id: 3 }, { projection: { _id: 0, name: 1 } });
    expect(doc).toEqual({ name: 'cid' });
  });

  it('includes a nested path as a subdocument holding only that field', async () => {
    const doc = await coll.findOne({ _id: 5 }, { projection: { 'addr.zip': 1, _id: 0 } });
    expect(doc).toEqual({ addr: { zip: '9008' } });
  });

  it('excludes a nested path and keeps its siblings', async () => {
    const doc = await coll.findOne({ _id: 5 }, { projection: { 'addr.zip': 0, tags: 0 } });
    expect(doc).toEqual({ _id: 5, name: 'eve', age: 37, city: 'Tromsø', addr: { street: 'Storgata' } });
  });

  it('projects a path through an array of subdocuments element by element, dropping scalars', async () => {
    const c = await seeded('proj', [
      { _id: 1, items: [{ k: 'a', v: 1 }, { v: 2 }, 7, { k: 'c', w: 3 }] },
    ]);
    expect(await c.findOne({ _id: 1 }, { projection: { 'items.k': 1 } })).toEqual({
      _id: 1,
      items: [{ k: 'a' }, {}, { k: 'c' }],
    });
    expect(await c.findOne({ _id: 1 }, { projection: { 'items.k': 0 } })).toEqual({
      _id: 1,
      items: [{ v: 1 }, { v: 2 }, 7, { w: 3 }],
    });
  });

  it('slices arrays with $slice and keeps the other fields', async () => {
    const first = await coll.findOne({ _id: 4 }, { projection: { tags: { $slice: 2 } } });
    expect(first).toEqual({ ...people[3], tags: ['c', 'a'] });
    const last = await coll.findOne({ _id: 4 }, { projection: { tags: { $slice: -1 }, addr: 0 } });
    expect(last).toEqual({ _id: 4, name: 'dee', age: 25, city: 'Oslo', tags: ['d'] });
    const window = await coll.findOne(
      { _id: 4 },
      { projection: { _id: 0, name: 1, tags: { $slice: [1, 1] } } },
    );
    expect(window).toEqual({ name: 'dee', tags: ['a'] });
  });

  it('returns only the first matching element with an $elemMatch projection', async () => {
    const c = await seeded('proj', [
      { _id: 1, zip: 'x', students: [{ n: 'a', s: 1 }, { n: 'b', s: 2 }, { n: 'c', s: 2 }] },
      { _id: 2, zip: 'x', students: [{ n: 'd', s: 1 }] },
    ]);
    const docs = await c
      .find({}, { projection: { students: { $elemMatch: { s: 2 } } } })
      .sort({ _id: 1 })
      .toArray();
    expect(docs).toEqual([{ _id: 1, students: [{ n: 'b', s: 2 }] }, { _id: 2 }]);
  });

  it('returns the element matched by the query with a positional projection', async () => {
    const c = await seeded('proj', [{ _id: 1, grades: [70, 85, 90, 95] }]);
    const doc = await c.findOne({ grades: { $gte: 88 } }, { projection: { 'grades.$': 1 } });
    expect(doc).toEqual({ _id: 1, grades: [90] });
  });
});

describe('cursors', () => {
  let coll: Collection<any>;

  beforeAll(async () => {
    coll = await seeded(
      'many',
      Array.from({ length: 250 }, (_, i) => ({ _id: i, n: i, pad: 'x'.repeat(20) })),
    );
  });

  it('returns all 250 documents through the driver cursor', async () => {
    const docs = await coll.find({}).sort({ _id: 1 }).toArray();
    expect(docs).toHaveLength(250);
    expect(docs.map((d) => d._id)).toEqual(Array.from({ length: 250 }, (_, i) => i));
  });

  it('returns all 250 documents with batchSize 10', async () => {
    const seen: number[] = [];
    for await (const doc of coll.find({}).sort({ _id: 1 }).batchSize(10)) seen.push(doc._id);
    expect(seen).toEqual(Array.from({ length: 250 }, (_, i) => i));
  });

  it('sends a first batch of 101 and the rest on getMore', async () => {
    const first = await ctx.db.command({ find: coll.collectionName, filter: {}, sort: { _id: 1 } });
    expect(first.ok).toBe(1);
    expect(first.cursor.ns).toBe(`${ctx.mongo.dbName}.${coll.collectionName}`);
    expect(first.cursor.firstBatch).toHaveLength(101);
    const id = asLong(first.cursor.id);
    expect(id.isZero()).toBe(false);

    const more = await ctx.db.command({ getMore: id, collection: coll.collectionName });
    expect(more.ok).toBe(1);
    expect(more.cursor.nextBatch).toHaveLength(149);
    expect(more.cursor.nextBatch[0]._id).toBe(101);
    expect(asLong(more.cursor.id).isZero()).toBe(true);
  });

  it('honours batchSize on find and on getMore', async () => {
    const first = await ctx.db.command({
      find: coll.collectionName,
      filter: { n: { $lt: 25 } },
      sort: { _id: 1 },
      batchSize: 10,
    });
    expect(first.cursor.firstBatch.map((d: Document) => d._id)).toEqual(
      Array.from({ length: 10 }, (_, i) => i),
    );
    const id = asLong(first.cursor.id);
    const second = await ctx.db.command({
      getMore: id,
      collection: coll.collectionName,
      batchSize: 10,
    });
    expect(second.cursor.nextBatch.map((d: Document) => d._id)).toEqual(
      Array.from({ length: 10 }, (_, i) => i + 10),
    );
    expect(asLong(second.cursor.id).equals(id)).toBe(true);
    const third = await ctx.db.command({
      getMore: id,
      collection: coll.collectionName,
      batchSize: 10,
    });
    expect(third.cursor.nextBatch.map((d: Document) => d._id)).toEqual([20, 21, 22, 23, 24]);
    expect(asLong(third.cursor.id).isZero()).toBe(true);
  });

  it('closes the cursor in the first reply when everything fits', async () => {
    const reply = await ctx.db.command({ find: coll.collectionName, filter: { n: { $lt: 5 } } });
    expect(reply.cursor.firstBatch).toHaveLength(5);
    expect(asLong(reply.cursor.id).isZero()).toBe(true);
  });

  it('sends cursor ids as BSON int64', async () => {
    const reply = await ctx.db.command(
      { find: coll.collectionName, filter: {}, batchSize: 2 },
      { promoteLongs: false },
    );
    expect(Long.isLong(reply.cursor.id)).toBe(true);
    await ctx.db.command({ killCursors: coll.collectionName, cursors: [reply.cursor.id] });
  });

  it('kills a cursor on close, after which getMore fails with code 43 CursorNotFound', async () => {
    const cursor = coll.find({}).batchSize(5);
    await cursor.next();
    const id = cursor.id;
    expect(id).toBeDefined();
    expect(id!.isZero()).toBe(false);
    await cursor.close();
    const error = await rejectionOf(
      ctx.db.command({ getMore: id!, collection: coll.collectionName }),
    );
    expect(error).toBeInstanceOf(MongoServerError);
    expect(error.code).toBe(43);
    expect(error.codeName).toBe('CursorNotFound');
  });

  it('reports killed and unknown cursors from killCursors', async () => {
    const first = await ctx.db.command({ find: coll.collectionName, filter: {}, batchSize: 1 });
    const id = asLong(first.cursor.id);
    const unknown = Long.fromString('123456789');
    const reply = await ctx.db.command(
      { killCursors: coll.collectionName, cursors: [id, unknown] },
      { promoteLongs: false },
    );
    expect(reply.ok).toBe(1);
    expect(reply.cursorsKilled.map(String)).toEqual([id.toString()]);
    expect(reply.cursorsNotFound.map(String)).toEqual(['123456789']);
    expect(reply.cursorsAlive).toEqual([]);
    expect(reply.cursorsUnknown).toEqual([]);
  });

  it('answers a getMore for a never-issued id with code 43 CursorNotFound', async () => {
    const error = await rejectionOf(
      ctx.db.command({ getMore: Long.fromString('987654321'), collection: coll.collectionName }),
    );
    expect(error.code).toBe(43);
    expect(error.codeName).toBe('CursorNotFound');
  });

  it('closes a cursor left idle past cursorTimeoutMillis, after which getMore fails with code 43', async () => {
    const admin = ctx.db.admin();
    const timedOut = async () => Number((await admin.command({ serverStatus: 1 })).metrics.cursor.timedOut);
    const { was } = await admin.command({ setParameter: 1, cursorTimeoutMillis: 200 });
    try {
      const before = await timedOut();
      const idle = await ctx.db.command({ find: coll.collectionName, filter: {}, batchSize: 2 });
      const kept = await ctx.db.command({ find: coll.collectionName, filter: {}, batchSize: 2, noCursorTimeout: true });
      expect(asLong(idle.cursor.id).isZero()).toBe(false);

      // The server counts each cursor it closes for idleness; wait until it has closed ours.
      const deadline = Date.now() + 30_000;
      while ((await timedOut()) === before) {
        if (Date.now() > deadline) throw new Error('no cursor timed out within 30 s');
        await new Promise((resolve) => setTimeout(resolve, 100));
      }

      const error = await rejectionOf(ctx.db.command({ getMore: asLong(idle.cursor.id), collection: coll.collectionName }));
      expect(error).toBeInstanceOf(MongoServerError);
      expect(error.code).toBe(43);
      expect(error.codeName).toBe('CursorNotFound');
      // noCursorTimeout keeps a cursor open however long it waits.
      const more = await ctx.db.command({ getMore: asLong(kept.cursor.id), collection: coll.collectionName, batchSize: 2 });
      expect(more.cursor.nextBatch).toHaveLength(2);
      await ctx.db.command({ killCursors: coll.collectionName, cursors: [asLong(kept.cursor.id)] });
    } finally {
      await admin.command({ setParameter: 1, cursorTimeoutMillis: was });
    }
  });

  it('returns an empty first batch and a closed cursor for a missing collection', async () => {
    const reply = await ctx.db.command({ find: ctx.freshName('missing'), filter: {} });
    expect(reply.ok).toBe(1);
    expect(reply.cursor.firstBatch).toEqual([]);
    expect(asLong(reply.cursor.id).isZero()).toBe(true);
  });
});

describe('updating, replacing and deleting', () => {
  it('updateOne reports one match and one modification', async () => {
    const coll = await seeded('upd', [{ _id: 1, n: 1 }, { _id: 2, n: 1 }]);
    const result = await coll.updateOne({ n: 1 }, { $set: { n: 2 } });
    expect(result).toEqual({
      acknowledged: true,
      matchedCount: 1,
      modifiedCount: 1,
      upsertedCount: 0,
      upsertedId: null,
    });
    expect(await coll.countDocuments({ n: 2 })).toBe(1);
  });

  it('updateMany reports every match and modification', async () => {
    const coll = await seeded('upd', [
      { _id: 1, n: 1 },
      { _id: 2, n: 1 },
      { _id: 3, n: 5 },
      { _id: 4, n: 1 },
    ]);
    const result = await coll.updateMany({ n: 1 }, { $set: { seen: true } });
    expect(result.matchedCount).toBe(3);
    expect(result.modifiedCount).toBe(3);
    expect(result.upsertedCount).toBe(0);
    expect(result.upsertedId).toBeNull();
    expect(await coll.find({ seen: true }).sort({ _id: 1 }).toArray()).toEqual([
      { _id: 1, n: 1, seen: true },
      { _id: 2, n: 1, seen: true },
      { _id: 4, n: 1, seen: true },
    ]);
  });

  it('counts matched but unchanged documents as not modified', async () => {
    const coll = await seeded('upd', [{ _id: 1, n: 1 }, { _id: 2, n: 2 }]);
    const result = await coll.updateMany({}, { $set: { n: 2 } });
    expect(result.matchedCount).toBe(2);
    expect(result.modifiedCount).toBe(1);
  });

  it('upserts with updateOne and reports the generated id', async () => {
    const coll = ctx.freshCollection('upd');
    const result = await coll.updateOne({ k: 'x' }, { $set: { v: 1 } }, { upsert: true });
    expect(result.matchedCount).toBe(0);
    expect(result.modifiedCount).toBe(0);
    expect(result.upsertedCount).toBe(1);
    expect(result.upsertedId).toBeInstanceOf(ObjectId);
    expect(await coll.findOne({})).toEqual({ _id: result.upsertedId, k: 'x', v: 1 });
  });

  it('does not upsert when the filter matches', async () => {
    const coll = await seeded('upd', [{ _id: 1, k: 'x', v: 0 }]);
    const result = await coll.updateOne({ k: 'x' }, { $set: { v: 1 } }, { upsert: true });
    expect(result).toEqual({
      acknowledged: true,
      matchedCount: 1,
      modifiedCount: 1,
      upsertedCount: 0,
      upsertedId: null,
    });
    expect(await coll.countDocuments()).toBe(1);
  });

  it('answers a raw update command with n, nModified and upserted', async () => {
    const coll = await seeded('upd', [{ _id: 1, n: 1 }]);
    const reply = await ctx.db.command({
      update: coll.collectionName,
      updates: [
        { q: { _id: 1 }, u: { $set: { n: 2 } } },
        { q: { _id: 7 }, u: { $set: { n: 7 } }, upsert: true },
      ],
    });
    expect(reply).toEqual({ n: 2, nModified: 1, upserted: [{ index: 1, _id: 7 }], ok: 1 });
  });

  it('replaceOne swaps the whole document but keeps _id', async () => {
    const coll = await seeded('rep', [{ _id: 1, a: 1, b: 2 }]);
    const result = await coll.replaceOne({ _id: 1 }, { c: 3 });
    expect(result.matchedCount).toBe(1);
    expect(result.modifiedCount).toBe(1);
    expect(await coll.findOne({ _id: 1 })).toEqual({ _id: 1, c: 3 });
  });

  it('replaceOne with upsert inserts the replacement', async () => {
    const coll = ctx.freshCollection('rep');
    const result = await coll.replaceOne({ _id: 9 } as Document, { c: 3 }, { upsert: true });
    expect(result.upsertedCount).toBe(1);
    expect(result.upsertedId).toBe(9);
    expect(await coll.findOne({})).toEqual({ _id: 9, c: 3 });
  });

  it('deleteOne removes only the first match', async () => {
    const coll = await seeded('del', [{ _id: 1, k: 1 }, { _id: 2, k: 1 }, { _id: 3, k: 2 }]);
    expect(await coll.deleteOne({ k: 1 })).toEqual({ acknowledged: true, deletedCount: 1 });
    expect(await coll.countDocuments({ k: 1 })).toBe(1);
    expect(await coll.countDocuments()).toBe(2);
  });

  it('deleteMany removes every match and reports the count', async () => {
    const coll = await seeded('del', [{ _id: 1, k: 1 }, { _id: 2, k: 1 }, { _id: 3, k: 2 }]);
    expect(await coll.deleteMany({ k: 1 })).toEqual({ acknowledged: true, deletedCount: 2 });
    expect(await coll.find({}).toArray()).toEqual([{ _id: 3, k: 2 }]);
  });

  it('reports zero deletions when nothing matches', async () => {
    const coll = await seeded('del', [{ _id: 1, k: 1 }]);
    expect(await coll.deleteMany({ k: 9 })).toEqual({ acknowledged: true, deletedCount: 0 });
    expect(await coll.deleteOne({ k: 9 })).toEqual({ acknowledged: true, deletedCount: 0 });
  });

  it('deleteMany with an empty filter empties the collection', async () => {
    const coll = await seeded('del', [{ _id: 1 }, { _id: 2 }, { _id: 3 }]);
    expect((await coll.deleteMany({})).deletedCount).toBe(3);
    expect(await coll.countDocuments()).toBe(0);
  });
});

describe('counting and distinct', () => {
  let coll: Collection<any>;

  beforeAll(async () => {
    coll = await seeded('count', [
      { _id: 1, k: 'a', tags: ['x', 'y'], n: 1, sub: { c: 'p' } },
      { _id: 2, k: 'b', tags: ['y', 'z'], n: new Double(1), sub: { c: 'q' } },
      { _id: 3, k: 'a', tags: 'w', n: '1', sub: { c: 'p' } },
      { _id: 4, k: 'c', tags: [], n: 2 },
      { _id: 5, k: 'a' },
    ]);
  });

  it('countDocuments counts all or only the matches', async () => {
    expect(await coll.countDocuments()).toBe(5);
    expect(await coll.countDocuments({ k: 'a' })).toBe(3);
    expect(await coll.countDocuments({ k: 'none' })).toBe(0);
  });

  it('countDocuments honours skip and limit', async () => {
    expect(await coll.countDocuments({}, { skip: 1, limit: 3 })).toBe(3);
    expect(await coll.countDocuments({}, { skip: 4 })).toBe(1);
  });

  it('estimatedDocumentCount counts the whole collection', async () => {
    expect(await coll.estimatedDocumentCount()).toBe(5);
    expect(await ctx.freshCollection('empty').estimatedDocumentCount()).toBe(0);
  });

  it('answers the raw count command with n', async () => {
    const reply = await ctx.db.command({ count: coll.collectionName, query: { k: 'a' } });
    expect(reply).toEqual({ n: 3, ok: 1 });
  });

  it('distinct flattens array values', async () => {
    const values = await coll.distinct('tags');
    expect([...values].sort()).toEqual(['w', 'x', 'y', 'z']);
  });

  it('distinct treats numerically equal values as one and keeps other types apart', async () => {
    const values = await coll.distinct('n');
    expect(values).toHaveLength(3);
    expect(values).toContain(1);
    expect(values).toContain('1');
    expect(values).toContain(2);
  });

  it('distinct applies a filter and reaches into subdocuments', async () => {
    expect([...(await coll.distinct('k', { n: 1 }))].sort()).toEqual(['a', 'b']);
    expect([...(await coll.distinct('sub.c'))].sort()).toEqual(['p', 'q']);
    expect(await coll.distinct('missing')).toEqual([]);
  });
});

describe('findOneAnd…', () => {
  it('findOneAndUpdate returns the document before the update by default, picking by sort', async () => {
    const coll = await seeded('fam', [
      { _id: 1, g: 'x', n: 5 },
      { _id: 2, g: 'x', n: 9 },
      { _id: 3, g: 'y', n: 99 },
    ]);
    const before = await coll.findOneAndUpdate({ g: 'x' }, { $inc: { n: 1 } }, { sort: { n: -1 } });
    expect(before).toEqual({ _id: 2, g: 'x', n: 9 });
    expect(await coll.findOne({ _id: 2 })).toEqual({ _id: 2, g: 'x', n: 10 });
  });

  it('findOneAndUpdate returns the updated document with returnDocument after', async () => {
    const coll = await seeded('fam', [
      { _id: 1, g: 'x', n: 5 },
      { _id: 2, g: 'x', n: 9 },
    ]);
    const after = await coll.findOneAndUpdate(
      { g: 'x' },
      { $set: { picked: true } },
      { sort: { n: 1 }, returnDocument: 'after' },
    );
    expect(after).toEqual({ _id: 1, g: 'x', n: 5, picked: true });
  });

  it('findOneAndUpdate projects the returned document', async () => {
    const coll = await seeded('fam', [{ _id: 1, a: 1, b: 2, c: 3 }]);
    const doc = await coll.findOneAndUpdate(
      { _id: 1 },
      { $set: { a: 10 } },
      { projection: { a: 1, _id: 0 }, returnDocument: 'after' },
    );
    expect(doc).toEqual({ a: 10 });
  });

  it('findOneAndUpdate returns null when nothing matches', async () => {
    const coll = await seeded('fam', [{ _id: 1, a: 1 }]);
    expect(await coll.findOneAndUpdate({ a: 2 }, { $set: { b: 1 } })).toBeNull();
    expect(await coll.findOne({ _id: 1 })).toEqual({ _id: 1, a: 1 });
  });

  it('findOneAndUpdate upserts and returns the new document after, or null before', async () => {
    const coll = ctx.freshCollection<any>('fam');
    const after = await coll.findOneAndUpdate(
      { name: 'job' },
      { $set: { state: 'new' }, $setOnInsert: { runs: 0 } },
      { upsert: true, returnDocument: 'after' },
    );
    expect(after).toMatchObject({ name: 'job', state: 'new', runs: 0 });
    expect(after?._id).toBeInstanceOf(ObjectId);

    const before = await coll.findOneAndUpdate(
      { name: 'other' },
      { $set: { state: 'new' } },
      { upsert: true, returnDocument: 'before' },
    );
    expect(before).toBeNull();
    expect(await coll.countDocuments()).toBe(2);
  });

  it('reports lastErrorObject for findAndModify updates, upserts and misses', async () => {
    const coll = await seeded('fam', [{ _id: 1, a: 1 }]);
    const updated = await coll.findOneAndUpdate(
      { _id: 1 },
      { $set: { a: 2 } },
      { includeResultMetadata: true },
    );
    expect(updated.ok).toBe(1);
    expect(updated.value).toEqual({ _id: 1, a: 1 });
    expect(updated.lastErrorObject).toEqual({ n: 1, updatedExisting: true });

    const upserted = await coll.findOneAndUpdate(
      { _id: 2 },
      { $set: { a: 5 } },
      { upsert: true, includeResultMetadata: true },
    );
    expect(upserted.value).toBeNull();
    expect(upserted.lastErrorObject).toEqual({ n: 1, updatedExisting: false, upserted: 2 });

    const missed = await coll.findOneAndUpdate(
      { _id: 3 },
      { $set: { a: 5 } },
      { includeResultMetadata: true },
    );
    expect(missed.value).toBeNull();
    expect(missed.lastErrorObject).toEqual({ n: 0, updatedExisting: false });
  });

  it('findOneAndReplace replaces the sorted-first match and returns the original', async () => {
    const coll = await seeded('fam', [
      { _id: 1, g: 'x', n: 1 },
      { _id: 2, g: 'x', n: 2 },
    ]);
    const before = await coll.findOneAndReplace({ g: 'x' }, { g: 'z', fresh: true }, { sort: { n: -1 } });
    expect(before).toEqual({ _id: 2, g: 'x', n: 2 });
    expect(await coll.findOne({ _id: 2 })).toEqual({ _id: 2, g: 'z', fresh: true });
  });

  it('findOneAndReplace returns the replacement with returnDocument after', async () => {
    const coll = await seeded('fam', [{ _id: 1, a: 1 }]);
    const after = await coll.findOneAndReplace({ _id: 1 }, { b: 2 }, { returnDocument: 'after' });
    expect(after).toEqual({ _id: 1, b: 2 });
  });

  it('findOneAndDelete removes the sorted-first match and returns it', async () => {
    const coll = await seeded('fam', [
      { _id: 1, q: 'jobs', at: 30 },
      { _id: 2, q: 'jobs', at: 10 },
      { _id: 3, q: 'jobs', at: 20 },
    ]);
    const removed = await coll.findOneAndDelete({ q: 'jobs' }, { sort: { at: 1 } });
    expect(removed).toEqual({ _id: 2, q: 'jobs', at: 10 });
    expect((await coll.find({}).sort({ _id: 1 }).toArray()).map((d) => d._id)).toEqual([1, 3]);
  });

  it('findOneAndDelete returns null when nothing matches', async () => {
    const coll = await seeded('fam', [{ _id: 1 }]);
    expect(await coll.findOneAndDelete({ _id: 2 })).toBeNull();
    expect(await coll.countDocuments()).toBe(1);
  });
});

describe('bulkWrite', () => {
  it('reports counts for a mix of inserts, updates, upserts, replaces and deletes', async () => {
    const coll = ctx.freshCollection<any>('bulk');
    const result = await coll.bulkWrite([
      { insertOne: { document: { _id: 1, n: 1 } } },
      { insertOne: { document: { _id: 2, n: 2 } } },
      { updateOne: { filter: { _id: 1 }, update: { $set: { n: 10 } } } },
      { updateMany: { filter: {}, update: { $inc: { n: 1 } } } },
      { updateOne: { filter: { _id: 3 }, update: { $set: { n: 3 } }, upsert: true } },
      { replaceOne: { filter: { _id: 2 }, replacement: { n: 20 } } },
      { deleteOne: { filter: { _id: 1 } } },
      { deleteMany: { filter: { n: { $gt: 100 } } } },
    ]);
    expect(result.ok).toBe(1);
    expect(result.insertedCount).toBe(2);
    expect(result.matchedCount).toBe(4);
    expect(result.modifiedCount).toBe(4);
    expect(result.upsertedCount).toBe(1);
    expect(result.deletedCount).toBe(1);
    expect(result.insertedIds).toEqual({ 0: 1, 1: 2 });
    expect(result.upsertedIds).toEqual({ 4: 3 });
    expect(await coll.find({}).sort({ _id: 1 }).toArray()).toEqual([
      { _id: 2, n: 20 },
      { _id: 3, n: 3 },
    ]);
  });

  it('stops an ordered bulkWrite at the first error', async () => {
    const coll = await seeded('bulk', [{ _id: 1 }]);
    const error = await rejectionOf(
      coll.bulkWrite([
        { insertOne: { document: { _id: 2 } } },
        { insertOne: { document: { _id: 1 } } },
        { insertOne: { document: { _id: 3 } } },
      ]),
    );
    expect(error).toBeInstanceOf(MongoBulkWriteError);
    expect(error.insertedCount).toBe(1);
    expect(error.writeErrors[0].index).toBe(1);
    expect(await coll.countDocuments()).toBe(2);
  });
});
