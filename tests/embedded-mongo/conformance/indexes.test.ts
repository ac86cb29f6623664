// Conformance: index creation and listing, unique/sparse/partial constraints, index use, TTL.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MongoBulkWriteError, MongoServerError, type Collection, type Document } from 'mongodb';
import { idsOf, openConformanceDb, planIndexNames, planStages, rejectionOf, type ConformanceDb } from './conformance-db.ts';

let ctx: ConformanceDb;

beforeAll(async () => {
  ctx = await openConformanceDb();
});

afterAll(async () => {
  await ctx?.close();
});

function dupKeyMessage(coll: Collection<any>, index: string, key: string): string {
  return `E11000 duplicate key error collection: ${ctx.mongo.dbName}.${coll.collectionName} index: ${index} dup key: { ${key} }`;
}

describe('creating and listing', () => {
  it('createIndex returns the generated name', async () => {
    const coll = ctx.freshCollection('idx');
    expect(await coll.createIndex({ a: 1 })).toBe('a_1');
    expect(await coll.createIndex({ a: 1, b: -1 })).toBe('a_1_b_-1');
    expect(await coll.createIndex({ 'x.y': 1 })).toBe('x.y_1');
    expect(await coll.createIndex({ c: 1 }, { name: 'by_c' })).toBe('by_c');
  });

  it('listIndexes shows _id_ and every created index with its options', async () => {
    const coll = ctx.freshCollection('idx');
    await coll.createIndex({ email: 1 }, { unique: true });
    await coll.createIndex({ nick: 1 }, { unique: true, sparse: true });
    await coll.createIndex({ code: 1 }, { unique: true, partialFilterExpression: { status: 'active' } });
    await coll.createIndex({ createdAt: 1 }, { expireAfterSeconds: 3600 });
    await coll.createIndex({ a: 1, b: -1 });
    const indexes = await coll.listIndexes().toArray();
    expect(indexes).toEqual([
      { v: 2, key: { _id: 1 }, name: '_id_' },
      { v: 2, key: { email: 1 }, name: 'email_1', unique: true },
      { v: 2, key: { nick: 1 }, name: 'nick_1', unique: true, sparse: true },
      {
        v: 2,
        key: { code: 1 },
        name: 'code_1',
        unique: true,
        partialFilterExpression: { status: 'active' },
      },
      { v: 2, key: { createdAt: 1 }, name: 'createdAt_1', expireAfterSeconds: 3600 },
      { v: 2, key: { a: 1, b: -1 }, name: 'a_1_b_-1' },
    ]);
  });

  it('answers createIndexes with index counts and whether it created the collection', async () => {
    const name = ctx.freshName('idx');
    const created = await ctx.db.command({
      createIndexes: name,
      indexes: [{ key: { a: 1 }, name: 'a_1' }],
    });
    expect(created).toEqual({
      numIndexesBefore: 1,
      numIndexesAfter: 2,
      createdCollectionAutomatically: true,
      ok: 1,
    });
    const second = await ctx.db.command({
      createIndexes: name,
      indexes: [{ key: { b: 1 }, name: 'b_1' }, { key: { c: 1 }, name: 'c_1' }],
    });
    expect(second).toEqual({
      numIndexesBefore: 2,
      numIndexesAfter: 4,
      createdCollectionAutomatically: false,
      ok: 1,
    });
  });

  it('creating the same index twice is a no-op', async () => {
    const coll = ctx.freshCollection('idx');
    await coll.createIndex({ a: 1 }, { unique: true });
    expect(await coll.createIndex({ a: 1 }, { unique: true })).toBe('a_1');
    const again = await ctx.db.command({
      createIndexes: coll.collectionName,
      indexes: [{ key: { a: 1 }, name: 'a_1', unique: true }],
    });
    expect(again).toEqual({
      numIndexesBefore: 2,
      numIndexesAfter: 2,
      note: 'all indexes already exist',
      ok: 1,
    });
    expect((await coll.listIndexes().toArray()).map((i) => i.name)).toEqual(['_id_', 'a_1']);
  });

  it('refuses the same key under another name with code 85 IndexOptionsConflict', async () => {
    const coll = ctx.freshCollection('idx');
    await coll.createIndex({ a: 1 });
    const error = await rejectionOf(coll.createIndex({ a: 1 }, { name: 'other' }));
    expect(error).toBeInstanceOf(MongoServerError);
    expect(error.code).toBe(85);
    expect(error.codeName).toBe('IndexOptionsConflict');
    expect(error.message).toBe('Index already exists with a different name: a_1');
  });

  it('dropIndex removes one index by name or by key', async () => {
    const coll = ctx.freshCollection('idx');
    await coll.createIndex({ a: 1 });
    await coll.createIndex({ b: 1 });
    const reply = await coll.dropIndex('a_1');
    expect(reply).toEqual({ nIndexesWas: 3, ok: 1 });
    await ctx.db.command({ dropIndexes: coll.collectionName, index: { b: 1 } });
    expect((await coll.listIndexes().toArray()).map((i) => i.name)).toEqual(['_id_']);
  });

  it('dropIndexes removes every index except _id_', async () => {
    const coll = ctx.freshCollection('idx');
    await coll.createIndex({ a: 1 });
    await coll.createIndex({ b: 1 }, { unique: true });
    expect(await coll.dropIndexes()).toBe(true);
    expect(await coll.listIndexes().toArray()).toEqual([{ v: 2, key: { _id: 1 }, name: '_id_' }]);
  });

  it('dropping a missing index fails with code 27 IndexNotFound', async () => {
    const coll = ctx.freshCollection('idx');
    await coll.createIndex({ a: 1 });
    const error = await rejectionOf(coll.dropIndex('nope_1'));
    expect(error).toBeInstanceOf(MongoServerError);
    expect(error.code).toBe(27);
    expect(error.codeName).toBe('IndexNotFound');
    expect(error.message).toBe('index not found with name [nope_1]');
  });

  it('refuses to drop the _id index with code 72 InvalidOptions', async () => {
    const coll = ctx.freshCollection('idx');
    await coll.insertOne({ a: 1 });
    const error = await rejectionOf(coll.dropIndex('_id_'));
    expect(error.code).toBe(72);
    expect(error.codeName).toBe('InvalidOptions');
    expect(error.message).toBe('cannot drop _id index');
  });
});

describe('unique constraints', () => {
  it('rejects a duplicate through insertOne with E11000, keyPattern and keyValue', async () => {
    const coll = ctx.freshCollection('users');
    await coll.createIndex({ email: 1 }, { unique: true });
    await coll.insertOne({ email: 'a@b.c' });
    const error = await rejectionOf(coll.insertOne({ email: 'a@b.c' }));
    expect(error).toBeInstanceOf(MongoServerError);
    expect(error.code).toBe(11000);
    expect(error.message).toBe(dupKeyMessage(coll, 'email_1', 'email: "a@b.c"'));
    expect(error.keyPattern).toEqual({ email: 1 });
    expect(error.keyValue).toEqual({ email: 'a@b.c' });
    expect(error.errorResponse).toEqual({
      index: 0,
      code: 11000,
      errmsg: dupKeyMessage(coll, 'email_1', 'email: "a@b.c"'),
      keyPattern: { email: 1 },
      keyValue: { email: 'a@b.c' },
    });
    expect(Object.keys(error.errorResponse)).toEqual(['index', 'code', 'errmsg', 'keyPattern', 'keyValue']);
    expect(await coll.countDocuments()).toBe(1);
  });

  it('reports a duplicate _id against the _id_ index', async () => {
    const coll = ctx.freshCollection('users');
    await coll.insertOne({ _id: 7, a: 1 } as Document);
    const error = await rejectionOf(coll.insertOne({ _id: 7, a: 2 } as Document));
    expect(error.code).toBe(11000);
    expect(error.message).toBe(dupKeyMessage(coll, '_id_', '_id: 7'));
    expect(error.keyPattern).toEqual({ _id: 1 });
    expect(error.keyValue).toEqual({ _id: 7 });
    expect(await coll.findOne({ _id: 7 } as Document)).toEqual({ _id: 7, a: 1 });
  });

  it('enforces a compound unique index on the combination only', async () => {
    const coll = ctx.freshCollection('users');
    await coll.createIndex({ org: 1, handle: 1 }, { unique: true });
    await coll.insertMany([
      { org: 1, handle: 'x' },
      { org: 2, handle: 'x' },
      { org: 1, handle: 'y' },
    ]);
    const error = await rejectionOf(coll.insertOne({ org: 1, handle: 'x' }));
    expect(error.code).toBe(11000);
    expect(error.message).toBe(dupKeyMessage(coll, 'org_1_handle_1', 'org: 1, handle: "x"'));
    expect(error.keyPattern).toEqual({ org: 1, handle: 1 });
    expect(error.keyValue).toEqual({ org: 1, handle: 'x' });
  });

  it('reports duplicates inside insertMany as write errors', async () => {
    const coll = ctx.freshCollection('users');
    await coll.createIndex({ email: 1 }, { unique: true });
    const error = await rejectionOf(
      coll.insertMany([{ email: 'a' }, { email: 'b' }, { email: 'a' }], { ordered: false }),
    );
    expect(error).toBeInstanceOf(MongoBulkWriteError);
    expect(error.insertedCount).toBe(2);
    expect(error.writeErrors).toHaveLength(1);
    expect(error.writeErrors[0].index).toBe(2);
    expect(error.writeErrors[0].errmsg).toBe(dupKeyMessage(coll, 'email_1', 'email: "a"'));
  });

  it('rejects an update that would create a duplicate', async () => {
    const coll = ctx.freshCollection('users');
    await coll.createIndex({ email: 1 }, { unique: true });
    await coll.insertMany([{ _id: 1, email: 'a' }, { _id: 2, email: 'b' }] as Document[]);
    const error = await rejectionOf(coll.updateOne({ _id: 2 } as Document, { $set: { email: 'a' } }));
    expect(error).toBeInstanceOf(MongoServerError);
    expect(error.code).toBe(11000);
    expect(error.keyValue).toEqual({ email: 'a' });
    expect(await coll.findOne({ _id: 2 } as Document)).toEqual({ _id: 2, email: 'b' });
  });

  it('rejects a findOneAndUpdate that would create a duplicate with codeName DuplicateKey', async () => {
    const coll = ctx.freshCollection('users');
    await coll.createIndex({ email: 1 }, { unique: true });
    await coll.insertMany([{ _id: 1, email: 'a' }, { _id: 2, email: 'b' }] as Document[]);
    const error = await rejectionOf(
      coll.findOneAndUpdate({ _id: 2 } as Document, { $set: { email: 'a' } }),
    );
    expect(error).toBeInstanceOf(MongoServerError);
    expect(error.code).toBe(11000);
    expect(error.codeName).toBe('DuplicateKey');
    expect(error.keyPattern).toEqual({ email: 1 });
    expect(error.keyValue).toEqual({ email: 'a' });
  });

  it('treats a missing field as null in a non-sparse unique index', async () => {
    const coll = ctx.freshCollection('users');
    await coll.createIndex({ email: 1 }, { unique: true });
    await coll.insertOne({ name: 'first' });
    const error = await rejectionOf(coll.insertOne({ name: 'second' }));
    expect(error.code).toBe(11000);
    expect(error.message).toBe(dupKeyMessage(coll, 'email_1', 'email: null'));
    expect(error.keyValue).toEqual({ email: null });
  });

  it('refuses to build a unique index over existing duplicates', async () => {
    const coll = ctx.freshCollection('users');
    await coll.insertMany([{ email: 'x' }, { email: 'y' }, { email: 'x' }]);
    const error = await rejectionOf(coll.createIndex({ email: 1 }, { unique: true }));
    expect(error).toBeInstanceOf(MongoServerError);
    expect(error.code).toBe(11000);
    expect(error.codeName).toBe('DuplicateKey');
    expect(error.message).toContain(dupKeyMessage(coll, 'email_1', 'email: "x"'));
    expect((await coll.listIndexes().toArray()).map((i) => i.name)).toEqual(['_id_']);
  });

  it('lets a sparse unique index hold many documents without the field', async () => {
    const coll = ctx.freshCollection('users');
    await coll.createIndex({ nick: 1 }, { unique: true, sparse: true });
    await coll.insertMany([{ a: 1 }, { a: 2 }, { a: 3 }, { nick: 'n' }]);
    expect(await coll.countDocuments()).toBe(4);
    const error = await rejectionOf(coll.insertOne({ nick: 'n' }));
    expect(error.code).toBe(11000);
  });

  it('still indexes explicit nulls in a sparse unique index', async () => {
    const coll = ctx.freshCollection('users');
    await coll.createIndex({ nick: 1 }, { unique: true, sparse: true });
    await coll.insertOne({ nick: null });
    const error = await rejectionOf(coll.insertOne({ nick: null }));
    expect(error.code).toBe(11000);
    expect(error.message).toBe(dupKeyMessage(coll, 'nick_1', 'nick: null'));
  });

  it('lets a partial unique index hold duplicates outside its filter', async () => {
    const coll = ctx.freshCollection('users');
    await coll.createIndex({ code: 1 }, { unique: true, partialFilterExpression: { status: 'active' } });
    await coll.insertMany([
      { code: 'A', status: 'active' },
      { code: 'A', status: 'archived' },
      { code: 'A', status: 'archived' },
      { code: 'A' },
    ]);
    expect(await coll.countDocuments({ code: 'A' })).toBe(4);
    const error = await rejectionOf(coll.insertOne({ code: 'A', status: 'active' }));
    expect(error.code).toBe(11000);
    expect(error.message).toBe(dupKeyMessage(coll, 'code_1', 'code: "A"'));
  });

  it('frees a unique value once its document is deleted', async () => {
    const coll = ctx.freshCollection('users');
    await coll.createIndex({ email: 1 }, { unique: true });
    await coll.insertOne({ email: 'a' });
    await coll.deleteOne({ email: 'a' });
    await coll.insertOne({ email: 'a' });
    expect(await coll.countDocuments({ email: 'a' })).toBe(1);
  });

  it('frees a unique value once its document changes it', async () => {
    const coll = ctx.freshCollection('users');
    await coll.createIndex({ email: 1 }, { unique: true });
    await coll.insertOne({ _id: 1, email: 'a' } as Document);
    await coll.updateOne({ _id: 1 } as Document, { $set: { email: 'b' } });
    await coll.insertOne({ _id: 2, email: 'a' } as Document);
    expect(await coll.find({}).sort({ _id: 1 }).toArray()).toEqual([
      { _id: 1, email: 'b' },
      { _id: 2, email: 'a' },
    ]);
  });
});

describe('index use', () => {
  let indexed: Collection<any>;
  let plain: Collection<any>;

  beforeAll(async () => {
    const docs = Array.from({ length: 2000 }, (_, i) => ({ _id: i, k: i % 200, pad: 'p' }));
    indexed = ctx.freshCollection('withidx');
    plain = ctx.freshCollection('noidx');
    await indexed.insertMany(docs.map((d) => ({ ...d })));
    await plain.insertMany(docs.map((d) => ({ ...d })));
    await indexed.createIndex({ k: 1 });
  });

  it('examines only the matching documents for an equality on an indexed field', async () => {
    const explain = await indexed.find({ k: 7 }).explain('executionStats');
    expect(explain.executionStats.nReturned).toBe(10);
    expect(explain.executionStats.totalDocsExamined).toBe(10);
    expect(planStages(explain.queryPlanner.winningPlan)).toContain('IXSCAN');
    expect(planStages(explain.queryPlanner.winningPlan)).not.toContain('COLLSCAN');
  });

  it('examines every document without an index', async () => {
    const explain = await plain.find({ k: 7 }).explain('executionStats');
    expect(explain.executionStats.nReturned).toBe(10);
    expect(explain.executionStats.totalDocsExamined).toBe(2000);
    expect(planStages(explain.queryPlanner.winningPlan)).toContain('COLLSCAN');
    expect(planStages(explain.queryPlanner.winningPlan)).not.toContain('IXSCAN');
  });

  it('examines only the documents in range for a range on an indexed field', async () => {
    const explain = await indexed.find({ k: { $gte: 5, $lt: 7 } }).explain('executionStats');
    expect(explain.executionStats.nReturned).toBe(20);
    expect(explain.executionStats.totalDocsExamined).toBe(20);
    expect(planStages(explain.queryPlanner.winningPlan)).toContain('IXSCAN');
  });

  it('walks the index for a sort with a limit instead of sorting everything', async () => {
    const explain = await indexed.find({}).sort({ k: -1 }).limit(5).explain('executionStats');
    expect(explain.executionStats.nReturned).toBe(5);
    expect(explain.executionStats.totalDocsExamined).toBe(5);
    const stages = planStages(explain.queryPlanner.winningPlan);
    expect(stages).toContain('IXSCAN');
    expect(stages).not.toContain('SORT');
  });

  it('returns the same documents with and without the index', async () => {
    const query = { k: { $in: [3, 150] } };
    const a = await indexed.find(query).sort({ _id: 1 }).toArray();
    const b = await plain.find(query).sort({ _id: 1 }).toArray();
    expect(a).toHaveLength(20);
    expect(a).toEqual(b);
  });

  it('finds by _id through the _id index', async () => {
    const explain = await plain.find({ _id: 1234 }).explain('executionStats');
    expect(explain.executionStats.nReturned).toBe(1);
    expect(explain.executionStats.totalDocsExamined).toBe(1);
    expect(planStages(explain.queryPlanner.winningPlan)).not.toContain('COLLSCAN');
  });
});

describe('compound index use', () => {
  let coll: Collection<any>;
  const docs = Array.from({ length: 2000 }, (_, i) => ({ _id: i, a: i % 20, b: i % 100, pad: 'p' }));

  beforeAll(async () => {
    coll = ctx.freshCollection('compound');
    await coll.insertMany(docs.map((d) => ({ ...d })));
    await coll.createIndex({ a: 1, b: -1 }, { name: 'a_b' });
  });

  async function explained(filter: Document, sort?: Document, limit?: number) {
    const cursor = coll.find(filter);
    if (sort) cursor.sort(sort);
    if (limit) cursor.limit(limit);
    const explain = await cursor.explain('executionStats');
    return {
      stages: planStages(explain.queryPlanner.winningPlan),
      indexes: planIndexNames(explain.queryPlanner.winningPlan),
      returned: explain.executionStats.nReturned as number,
      examined: explain.executionStats.totalDocsExamined as number,
    };
  }

  it('answers an equality on the first field from the index', async () => {
    const plan = await explained({ a: 3 });
    expect(plan.indexes).toEqual(['a_b']);
    expect(plan.stages).not.toContain('COLLSCAN');
    expect(plan.returned).toBe(100);
    expect(plan.examined).toBe(100);
  });

  it('answers an equality on the first field and a range on the second from the index', async () => {
    const filter = { a: 3, b: { $gte: 50 } };
    const plan = await explained(filter);
    expect(plan.indexes).toEqual(['a_b']);
    expect(plan.returned).toBe(40);
    expect(plan.examined).toBe(40);
    const found = await coll.find(filter).sort({ _id: 1 }).toArray();
    expect(found).toEqual(docs.filter((d) => d.a === 3 && d.b >= 50));
  });

  it('answers a range on the first field from the index', async () => {
    const plan = await explained({ a: { $gt: 17 } });
    expect(plan.indexes).toEqual(['a_b']);
    expect(plan.returned).toBe(200);
    expect(plan.examined).toBe(200);
  });

  it('gives the sort on the second field after an equality on the first without sorting in memory', async () => {
    const plan = await explained({ a: 3 }, { b: -1 }, 5);
    expect(plan.indexes).toEqual(['a_b']);
    expect(plan.stages).not.toContain('SORT');
    expect(plan.examined).toBe(5);
    const top = await coll.find({ a: 3 }).sort({ b: -1 }).limit(5).toArray();
    expect(top.map((d) => d.b)).toEqual([83, 83, 83, 83, 83]);
  });

  it('walks the index backwards for the opposite sort', async () => {
    const plan = await explained({ a: 3 }, { b: 1 }, 5);
    expect(plan.indexes).toEqual(['a_b']);
    expect(plan.stages).not.toContain('SORT');
    const top = await coll.find({ a: 3 }).sort({ b: 1 }).limit(25).toArray();
    expect(top.map((d) => d.b)).toEqual([...Array(20).fill(3), ...Array(5).fill(23)]);
  });

  it('gives a sort on both fields in index order without sorting in memory', async () => {
    const plan = await explained({}, { a: 1, b: -1 }, 3);
    expect(plan.indexes).toEqual(['a_b']);
    expect(plan.stages).not.toContain('SORT');
    const top = await coll.find({}).sort({ a: 1, b: -1 }).limit(3).toArray();
    expect(top.map((d) => [d.a, d.b])).toEqual([[0, 80], [0, 80], [0, 80]]);
  });

  it('sorts in memory when the sort directions do not match the index', async () => {
    const plan = await explained({}, { a: 1, b: 1 }, 3);
    expect(plan.stages).toContain('SORT');
    const top = await coll.find({}).sort({ a: 1, b: 1 }).limit(3).toArray();
    expect(top.map((d) => [d.a, d.b])).toEqual([[0, 0], [0, 0], [0, 0]]);
  });

  it('does not use the index for a condition on the second field alone', async () => {
    const plan = await explained({ b: 63 });
    expect(plan.indexes).toEqual([]);
    expect(plan.stages).toContain('COLLSCAN');
    expect(plan.returned).toBe(20);
  });
});

describe('list queries: $in with a sort, counts, $all', () => {
  // A console-like list: tenant, status, owner, activity; newest first, paged by (at, _id).
  let coll: Collection<any>;
  const docs = Array.from({ length: 3000 }, (_, i) => ({
    _id: i,
    tenant: i % 3,
    status: ['open', 'pending', 'resolved'][i % 7 % 3]!,
    owner: i % 5 === 0 ? null : i % 4,
    at: new Date(Date.UTC(2026, 0, 1) + ((i * 7919) % 3000) * 60_000),
    tags: i % 11 === 0 ? ['vip', 'bug'] : i % 2 === 0 ? ['bug'] : [],
  }));
  const newestFirst = (a: { at: Date; _id: number }, b: { at: Date; _id: number }) => b.at.getTime() - a.at.getTime() || b._id - a._id;

  beforeAll(async () => {
    coll = ctx.freshCollection('lists');
    await coll.insertMany(docs.map((d) => ({ ...d })));
    await coll.createIndex({ tenant: 1, status: 1, at: -1, _id: -1 }, { name: 'tenant_status_at' });
    await coll.createIndex({ status: 1, owner: 1, at: -1, _id: -1 }, { name: 'status_owner_at' });
    await coll.createIndex({ tags: 1 }, { name: 'tags' });
  });

  it('merges the index scans of an $in instead of sorting, and stops after the page', async () => {
    const filter = { tenant: { $in: [0, 2] }, status: 'open' };
    const explain = await coll.find(filter).sort({ at: -1, _id: -1 }).limit(10).explain('executionStats');
    expect(planIndexNames(explain.queryPlanner.winningPlan)).toEqual(['tenant_status_at']);
    expect(planStages(explain.queryPlanner.winningPlan)).not.toContain('SORT');
    // Each of the two scans may read one document ahead of the page.
    expect(explain.executionStats.totalDocsExamined).toBeLessThanOrEqual(12);
    const page = await coll.find(filter).sort({ at: -1, _id: -1 }).limit(10).toArray();
    expect(page).toEqual(docs.filter((d) => d.tenant !== 1 && d.status === 'open').sort(newestFirst).slice(0, 10));
  });

  it('merges in the reverse direction too, and pages on by (at, _id)', async () => {
    const filter = { tenant: { $in: [1, 2] }, status: 'pending' };
    const expected = docs.filter((d) => d.tenant !== 0 && d.status === 'pending').sort(newestFirst);
    const oldest = await coll.find(filter).sort({ at: 1, _id: 1 }).limit(7).toArray();
    expect(oldest).toEqual([...expected].reverse().slice(0, 7));
    const first = await coll.find(filter).sort({ at: -1, _id: -1 }).limit(20).toArray();
    const last = first.at(-1)!;
    const next = await coll
      .find({ ...filter, $and: [{ $or: [{ at: { $lt: last.at } }, { at: last.at, _id: { $lt: last._id } }] }] })
      .sort({ at: -1, _id: -1 })
      .limit(20)
      .toArray();
    expect([...first, ...next]).toEqual(expected.slice(0, 40));
  });

  it('counts from the index without reading documents when the bounds are the whole filter', async () => {
    const cases = [
      { status: 'open', owner: 2 },
      { tenant: { $in: [0, 2] }, status: 'resolved' },
      { tenant: 1, status: 'open', at: { $gte: new Date(Date.UTC(2026, 0, 2)) } },
    ];
    for (const filter of cases) {
      const expected = docs.filter((d) =>
        Object.entries(filter).every(([field, cond]) => {
          const value = (d as Record<string, unknown>)[field];
          if (cond !== null && typeof cond === 'object' && '$in' in cond) return (cond.$in as unknown[]).includes(value);
          if (cond !== null && typeof cond === 'object' && '$gte' in cond) return (value as Date) >= (cond.$gte as Date);
          return value === cond;
        }),
      ).length;
      expect(await coll.countDocuments(filter)).toBe(expected);
      const explain = await ctx.db.command({ explain: { count: coll.collectionName, query: filter }, verbosity: 'executionStats' });
      expect(explain.executionStats.totalDocsExamined).toBe(0);
    }
  });

  it('counts by reading the candidates when part of the filter is not in the index', async () => {
    expect(await coll.countDocuments({ status: 'open', owner: null })).toBe(docs.filter((d) => d.status === 'open' && d.owner === null).length);
    const filter = { status: 'open', owner: null, tags: 'vip' };
    const expected = docs.filter((d) => d.status === 'open' && d.owner === null && d.tags.includes('vip')).length;
    expect(expected).toBeGreaterThan(0);
    expect(await coll.countDocuments(filter)).toBe(expected);
    expect(await coll.countDocuments({ status: 'open', owner: { $ne: null } })).toBe(docs.filter((d) => d.status === 'open' && d.owner !== null).length);
    expect(await coll.countDocuments({ status: 'open' }, { skip: 10, limit: 25 })).toBe(25);
    expect(await coll.countDocuments({ status: 'nothing-like-this' })).toBe(0);
  });

  it('reads an $all through the index of its first value and checks the others', async () => {
    const explain = await coll.find({ tags: { $all: ['vip', 'bug'] } }).explain('executionStats');
    expect(planIndexNames(explain.queryPlanner.winningPlan)).toEqual(['tags']);
    expect(explain.executionStats.totalDocsExamined).toBeLessThan(docs.length);
    expect(await idsOf(coll, { tags: { $all: ['vip', 'bug'] } })).toEqual(docs.filter((d) => d.tags.length === 2).map((d) => d._id));
    expect(await idsOf(coll, { tags: { $all: ['bug', 'vip'] }, status: 'open' })).toEqual(
      docs.filter((d) => d.tags.length === 2 && d.status === 'open').map((d) => d._id),
    );
  });
});

describe('multikey index use', () => {
  let coll: Collection<any>;
  const TAGS = ['red', 'green', 'blue'];
  // Each document has one or two tags (both may be the same) and a distinct score.
  const docs = Array.from({ length: 600 }, (_, i) => ({ _id: i, tags: i % 7 === 0 ? [TAGS[i % 3]!] : [TAGS[i % 3]!, TAGS[(i * 5) % 3]!], state: i % 2 === 0 ? 'open' : 'closed', score: (i * 37) % 600 }));

  beforeAll(async () => {
    coll = ctx.freshCollection('multikey');
    await coll.insertMany(docs.map((d) => ({ ...d })));
    await coll.createIndex({ tags: 1, state: 1, score: -1 }, { name: 'tags_state_score' });
  });

  const expected = (tag: string, state: string) =>
    docs.filter((d) => d.tags.includes(tag) && d.state === state).sort((a, b) => b.score - a.score);

  it('gives the sort on a field that never held an array after an equality on the array field, each document once', async () => {
    const explain = await coll.find({ tags: 'red', state: 'open' }).sort({ score: -1 }).limit(5).explain('executionStats');
    expect(planIndexNames(explain.queryPlanner.winningPlan)).toEqual(['tags_state_score']);
    expect(planStages(explain.queryPlanner.winningPlan)).not.toContain('SORT');
    expect(explain.executionStats.totalDocsExamined).toBe(5);
    const all = await coll.find({ tags: 'red', state: 'open' }).sort({ score: -1 }).toArray();
    expect(all.map((d) => d._id)).toEqual(expected('red', 'open').map((d) => d._id));
    const page = await coll.find({ tags: { $all: ['green'] }, state: 'closed' }).sort({ score: -1 }).limit(10).toArray();
    expect(page.map((d) => d._id)).toEqual(expected('green', 'closed').slice(0, 10).map((d) => d._id));
  });

  it('sorts in memory, still each document once, when several array values are asked for', async () => {
    const found = await coll.find({ tags: { $in: ['red', 'blue'] }, state: 'open' }).sort({ score: -1 }).toArray();
    const want = docs.filter((d) => (d.tags.includes('red') || d.tags.includes('blue')) && d.state === 'open').sort((a, b) => b.score - a.score);
    expect(found.map((d) => d._id)).toEqual(want.map((d) => d._id));
  });
});

describe('sparse and partial index use', () => {
  /** Runs `filter` with executionStats and returns the plan's stages, index names and counts. */
  async function explained(coll: Collection<any>, filter: Document, sort?: Document) {
    const cursor = coll.find(filter);
    if (sort) cursor.sort(sort);
    const explain = await cursor.explain('executionStats');
    return {
      stages: planStages(explain.queryPlanner.winningPlan),
      indexes: planIndexNames(explain.queryPlanner.winningPlan),
      returned: explain.executionStats.nReturned as number,
      examined: explain.executionStats.totalDocsExamined as number,
    };
  }

  /** The `_id`s matching `filter` when the server is made to scan the whole collection. */
  async function scannedIds(coll: Collection<any>, filter: Document): Promise<unknown[]> {
    const docs = await coll.find(filter, { projection: { _id: 1 } }).hint({ $natural: 1 }).toArray();
    return docs.map((d) => d._id).sort((a, b) => a - b);
  }

  async function foundIds(coll: Collection<any>, filter: Document): Promise<unknown[]> {
    const docs = await coll.find(filter, { projection: { _id: 1 } }).toArray();
    return docs.map((d) => d._id).sort((a, b) => a - b);
  }

  describe('partial index on an equality', () => {
    let messages: Collection<any>;
    const base = Date.UTC(2024, 0, 1);

    beforeAll(async () => {
      messages = ctx.freshCollection('messages');
      await messages.insertMany(
        Array.from({ length: 600 }, (_, i) => ({
          _id: i,
          accountId: i % 3,
          contentType: i % 10 === 0 ? 'input_csat' : 'text',
          createdAt: new Date(base + i * 60_000),
        })),
      );
      await messages.createIndex(
        { accountId: 1, createdAt: -1 },
        { name: 'csat_by_account', partialFilterExpression: { contentType: 'input_csat' } },
      );
    });

    it('reads only the indexed documents when the query repeats the filter', async () => {
      const filter = { accountId: 1, contentType: 'input_csat' };
      const plan = await explained(messages, filter);
      expect(plan.indexes).toEqual(['csat_by_account']);
      expect(plan.stages).not.toContain('COLLSCAN');
      expect(plan.returned).toBe(20);
      expect(plan.examined).toBe(20);
      const ids = await foundIds(messages, filter);
      expect(ids).toEqual(Array.from({ length: 600 }, (_, i) => i).filter((i) => i % 3 === 1 && i % 10 === 0));
      expect(ids).toEqual(await scannedIds(messages, filter));
    });

    it('gives the index order for a sort after the equality, newest first', async () => {
      const filter = { accountId: 2, contentType: 'input_csat' };
      const plan = await explained(messages, filter, { createdAt: -1 });
      expect(plan.indexes).toEqual(['csat_by_account']);
      expect(plan.stages).not.toContain('SORT');
      const docs = await messages.find(filter).sort({ createdAt: -1 }).limit(3).toArray();
      expect(docs.map((d) => d._id)).toEqual([590, 560, 530]);
    });

    it('does not use the index for documents outside its filter, and still finds them', async () => {
      for (const filter of [{ accountId: 1 }, { accountId: 1, contentType: 'text' }, { accountId: 1, contentType: { $ne: 'text' } }]) {
        const plan = await explained(messages, filter);
        expect(plan.indexes).not.toContain('csat_by_account');
        expect(await foundIds(messages, filter)).toEqual(await scannedIds(messages, filter));
      }
      expect(await messages.countDocuments({ accountId: 1 })).toBe(200);
      expect(await messages.countDocuments({ accountId: 1, contentType: 'text' })).toBe(180);
    });

    it('follows documents that move into and out of the filter', async () => {
      await messages.updateOne({ _id: 10 }, { $set: { contentType: 'text' } });
      await messages.updateOne({ _id: 13 }, { $set: { contentType: 'input_csat' } });
      const filter = { accountId: 1, contentType: 'input_csat' };
      const ids = await foundIds(messages, filter);
      expect(ids).not.toContain(10);
      expect(ids).toContain(13);
      expect(ids).toEqual(await scannedIds(messages, filter));
      await messages.updateOne({ _id: 10 }, { $set: { contentType: 'input_csat' } });
      await messages.updateOne({ _id: 13 }, { $set: { contentType: 'text' } });
    });
  });

  describe('partial unique index on $type string', () => {
    let inboxes: Collection<any>;

    beforeAll(async () => {
      inboxes = ctx.freshCollection('inboxes');
      await inboxes.insertMany(
        Array.from({ length: 300 }, (_, i) => {
          if (i % 3 === 0) return { _id: i, websiteToken: `tok-${i}` };
          if (i % 3 === 1) return { _id: i, websiteToken: null };
          return { _id: i };
        }),
      );
      await inboxes.createIndex(
        { websiteToken: 1 },
        { name: 'token', unique: true, partialFilterExpression: { websiteToken: { $type: 'string' } } },
      );
    });

    it('looks up a string token through the index', async () => {
      const plan = await explained(inboxes, { websiteToken: 'tok-42' });
      expect(plan.indexes).toEqual(['token']);
      expect(plan.returned).toBe(1);
      expect(plan.examined).toBe(1);
      expect(await foundIds(inboxes, { websiteToken: 'tok-42' })).toEqual([42]);
      expect(await foundIds(inboxes, { websiteToken: 'tok-43' })).toEqual([]);
    });

    it('finds null and missing tokens, which the index leaves out, by scanning', async () => {
      const plan = await explained(inboxes, { websiteToken: null });
      expect(plan.indexes).not.toContain('token');
      const ids = await foundIds(inboxes, { websiteToken: null });
      expect(ids).toHaveLength(200);
      expect(ids).toEqual(await scannedIds(inboxes, { websiteToken: null }));
      expect(await inboxes.countDocuments({ websiteToken: { $exists: false } })).toBe(100);
    });
  });

  describe('partial unique index on $exists', () => {
    let conversations: Collection<any>;

    beforeAll(async () => {
      conversations = ctx.freshCollection('conversations');
      await conversations.insertMany(
        Array.from({ length: 300 }, (_, i) => (i % 2 === 0 ? { _id: i, previousConversationId: i + 1000 } : { _id: i })),
      );
      await conversations.createIndex(
        { previousConversationId: 1 },
        { name: 'previous', unique: true, partialFilterExpression: { previousConversationId: { $exists: true } } },
      );
    });

    it('looks up a value through the index', async () => {
      const plan = await explained(conversations, { previousConversationId: 1010 });
      expect(plan.indexes).toEqual(['previous']);
      expect(plan.examined).toBe(1);
      expect(await foundIds(conversations, { previousConversationId: 1010 })).toEqual([10]);
    });

    it('answers a query for documents without the field from the collection', async () => {
      const filter = { previousConversationId: { $exists: false } };
      expect((await explained(conversations, filter)).indexes).not.toContain('previous');
      expect(await foundIds(conversations, filter)).toEqual(Array.from({ length: 150 }, (_, i) => 2 * i + 1));
    });
  });

  describe('sparse index', () => {
    let people: Collection<any>;

    beforeAll(async () => {
      people = ctx.freshCollection('people');
      await people.insertMany(
        Array.from({ length: 300 }, (_, i) => {
          if (i % 3 === 0) return { _id: i, nick: `n${String(i).padStart(3, '0')}` };
          if (i % 3 === 1) return { _id: i, nick: null };
          return { _id: i };
        }),
      );
      await people.createIndex({ nick: 1 }, { name: 'nick', sparse: true });
    });

    it('uses the index for an equality on a non-null value', async () => {
      const plan = await explained(people, { nick: 'n042' });
      expect(plan.indexes).toEqual(['nick']);
      expect(plan.examined).toBe(1);
      expect(await foundIds(people, { nick: 'n042' })).toEqual([42]);
    });

    it('uses the index for $in and ranges that exclude null', async () => {
      const plan = await explained(people, { nick: { $in: ['n003', 'n006', 'n007'] } });
      expect(plan.indexes).toEqual(['nick']);
      expect(await foundIds(people, { nick: { $in: ['n003', 'n006', 'n007'] } })).toEqual([3, 6]);
      const range = { nick: { $gt: 'n290' } };
      expect((await explained(people, range)).indexes).toEqual(['nick']);
      expect(await foundIds(people, range)).toEqual([291, 294, 297]);
    });

    it('does not use the index when null or a missing field could match', async () => {
      for (const filter of [{ nick: null }, { nick: { $in: ['n003', null] } }, { nick: { $exists: false } }]) {
        expect((await explained(people, filter)).indexes).not.toContain('nick');
        expect(await foundIds(people, filter)).toEqual(await scannedIds(people, filter));
      }
      expect(await foundIds(people, { nick: null })).toHaveLength(200);
    });

    it('sorts every document, including those the index leaves out', async () => {
      const docs = await people.find({}).sort({ nick: 1, _id: 1 }).toArray();
      expect(docs).toHaveLength(300);
      expect(docs[0]!._id).toBe(1);
      expect(docs[299]!.nick).toBe('n297');
    });
  });
});

describe('TTL', () => {
  it(
    'deletes documents whose indexed date is older than expireAfterSeconds and keeps fresh ones',
    async () => {
      const coll = ctx.freshCollection('ttl');
      await coll.createIndex({ createdAt: 1 }, { expireAfterSeconds: 1 });
      const reply = await ctx.db.admin().command({ setParameter: 1, ttlMonitorSleepSecs: 1 });
      expect(reply.ok).toBe(1);
      await coll.insertMany([
        { _id: 'expired', createdAt: new Date(Date.now() - 60 * 60 * 1000) },
        { _id: 'fresh', createdAt: new Date(Date.now() + 60 * 60 * 1000) },
        { _id: 'not-a-date', createdAt: 'yesterday' },
        { _id: 'no-field' },
      ] as Document[]);

      const deadline = Date.now() + 70_000;
      while ((await coll.countDocuments({ _id: 'expired' } as Document)) > 0) {
        if (Date.now() > deadline) throw new Error('the TTL monitor did not delete the expired document within 70 s');
        await new Promise((resolve) => setTimeout(resolve, 250));
      }

      const left = await coll.find({}).sort({ _id: 1 }).toArray();
      expect(left.map((d) => d._id)).toEqual(['fresh', 'no-field', 'not-a-date']);
    },
    90_000,
  );
});
