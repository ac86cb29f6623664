// Conformance: aggregation stages and accumulators, cursors over pipelines, and pipeline isolation.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MongoServerError, type Collection, type Document } from 'mongodb';
import { asLong, openConformanceDb, rejectionOf, type ConformanceDb } from './conformance-db.ts';

let ctx: ConformanceDb;

const orders: Document[] = [
  { _id: 1, cust: 'ann', cat: 'book', qty: 2, price: 10, tags: ['new', 'sale'] },
  { _id: 2, cust: 'bob', cat: 'book', qty: 1, price: 30, tags: ['sale'] },
  { _id: 3, cust: 'ann', cat: 'toy', qty: 5, price: 4, tags: [] },
  { _id: 4, cust: 'cid', cat: 'game', qty: 1, price: 60 },
  { _id: 5, cust: 'bob', cat: 'toy', qty: 3, price: 4, tags: null },
  { _id: 6, cust: 'ann', cat: 'book', qty: 4, price: 15, tags: 'gift' },
];
let coll: Collection<any>;

beforeAll(async () => {
  ctx = await openConformanceDb();
  coll = ctx.freshCollection('orders');
  await coll.insertMany(orders.map((o) => ({ ...o })));
});

afterAll(async () => {
  await ctx?.close();
});

describe('filtering, shaping and paging stages', () => {
  it('$match filters like find', async () => {
    const docs = await coll.aggregate([{ $match: { cat: 'book', qty: { $gte: 2 } } }, { $sort: { _id: 1 } }]).toArray();
    expect(docs.map((d) => d._id)).toEqual([1, 6]);
  });

  it('$sort, $skip and $limit page through the results', async () => {
    const docs = await coll
      .aggregate([{ $sort: { price: -1, _id: 1 } }, { $skip: 1 }, { $limit: 3 }, { $project: { _id: 1 } }])
      .toArray();
    expect(docs).toEqual([{ _id: 2 }, { _id: 6 }, { _id: 1 }]);
  });

  it('$project includes fields and computes new ones', async () => {
    const docs = await coll
      .aggregate([
        { $match: { _id: { $in: [1, 2] } } },
        { $sort: { _id: 1 } },
        { $project: { _id: 0, cust: 1, total: { $multiply: ['$qty', '$price'] }, label: { $concat: ['$cust', '/', '$cat'] } } },
      ])
      .toArray();
    expect(docs).toEqual([
      { cust: 'ann', total: 20, label: 'ann/book' },
      { cust: 'bob', total: 30, label: 'bob/book' },
    ]);
  });

  it('$project with exclusions drops the named fields', async () => {
    const docs = await coll.aggregate([{ $match: { _id: 4 } }, { $project: { tags: 0, price: 0, qty: 0 } }]).toArray();
    expect(docs).toEqual([{ _id: 4, cust: 'cid', cat: 'game' }]);
  });

  it('$addFields and $set add computed fields and keep the rest', async () => {
    const docs = await coll
      .aggregate([
        { $match: { _id: 4 } },
        { $addFields: { total: { $multiply: ['$qty', '$price'] } } },
        { $set: { big: { $gt: ['$total', 50] }, 'meta.src': 'agg' } },
      ])
      .toArray();
    expect(docs).toEqual([{ ...orders[3], total: 60, big: true, meta: { src: 'agg' } }]);
  });

  it('$unset stage removes fields', async () => {
    const docs = await coll.aggregate([{ $match: { _id: 2 } }, { $unset: ['tags', 'price'] }]).toArray();
    expect(docs).toEqual([{ _id: 2, cust: 'bob', cat: 'book', qty: 1 }]);
  });

  it('$replaceRoot promotes a subdocument', async () => {
    const docs = await coll
      .aggregate([
        { $match: { _id: 1 } },
        { $replaceRoot: { newRoot: { who: '$cust', what: '$cat' } } },
      ])
      .toArray();
    expect(docs).toEqual([{ who: 'ann', what: 'book' }]);
  });

  it('$count counts the documents reaching it', async () => {
    expect(await coll.aggregate([{ $match: { cat: 'book' } }, { $count: 'n' }]).toArray()).toEqual([{ n: 3 }]);
  });

  it('$count over no documents returns no document at all', async () => {
    expect(await coll.aggregate([{ $match: { cat: 'none' } }, { $count: 'n' }]).toArray()).toEqual([]);
  });

  it('an empty pipeline returns every document', async () => {
    const docs = await coll.aggregate([]).toArray();
    expect(docs).toHaveLength(6);
  });
});

describe('$group', () => {
  it('computes sum, avg, min, max and counts per group', async () => {
    const docs = await coll
      .aggregate([
        {
          $group: {
            _id: '$cat',
            qty: { $sum: '$qty' },
            avgPrice: { $avg: '$price' },
            minPrice: { $min: '$price' },
            maxPrice: { $max: '$price' },
            n: { $sum: 1 },
            counted: { $count: {} },
          },
        },
        { $sort: { _id: 1 } },
      ])
      .toArray();
    expect(docs).toEqual([
      { _id: 'book', qty: 7, avgPrice: 55 / 3, minPrice: 10, maxPrice: 30, n: 3, counted: 3 },
      { _id: 'game', qty: 1, avgPrice: 60, minPrice: 60, maxPrice: 60, n: 1, counted: 1 },
      { _id: 'toy', qty: 8, avgPrice: 4, minPrice: 4, maxPrice: 4, n: 2, counted: 2 },
    ]);
  });

  it('collects values with $push in input order and distinct values with $addToSet', async () => {
    const docs = await coll
      .aggregate([
        { $sort: { _id: 1 } },
        { $group: { _id: '$cust', cats: { $push: '$cat' }, uniq: { $addToSet: '$cat' } } },
        { $sort: { _id: 1 } },
      ])
      .toArray();
    expect(docs.map((d) => ({ ...d, uniq: [...d.uniq].sort() }))).toEqual([
      { _id: 'ann', cats: ['book', 'toy', 'book'], uniq: ['book', 'toy'] },
      { _id: 'bob', cats: ['book', 'toy'], uniq: ['book', 'toy'] },
      { _id: 'cid', cats: ['game'], uniq: ['game'] },
    ]);
  });

  it('takes $first and $last in the sorted input order', async () => {
    const docs = await coll
      .aggregate([
        { $sort: { price: 1, _id: 1 } },
        { $group: { _id: '$cust', cheapest: { $first: '$_id' }, dearest: { $last: '$_id' } } },
        { $sort: { _id: 1 } },
      ])
      .toArray();
    expect(docs).toEqual([
      { _id: 'ann', cheapest: 3, dearest: 6 },
      { _id: 'bob', cheapest: 5, dearest: 2 },
      { _id: 'cid', cheapest: 4, dearest: 4 },
    ]);
  });

  it('groups everything under _id null', async () => {
    const docs = await coll
      .aggregate([{ $group: { _id: null, revenue: { $sum: { $multiply: ['$qty', '$price'] } }, n: { $sum: 1 } } }])
      .toArray();
    expect(docs).toEqual([{ _id: null, revenue: 20 + 30 + 20 + 60 + 12 + 60, n: 6 }]);
  });

  it('groups by a compound key', async () => {
    const docs = await coll
      .aggregate([
        { $match: { cust: 'ann' } },
        { $group: { _id: { c: '$cust', k: '$cat' }, n: { $sum: 1 } } },
        { $sort: { '_id.k': 1 } },
      ])
      .toArray();
    expect(docs).toEqual([
      { _id: { c: 'ann', k: 'book' }, n: 2 },
      { _id: { c: 'ann', k: 'toy' }, n: 1 },
    ]);
  });

  it('ignores missing and non-numeric values in $sum and $avg', async () => {
    const c = ctx.freshCollection('sum');
    await c.insertMany([{ g: 1, v: 2 }, { g: 1, v: 'x' }, { g: 1 }, { g: 1, v: 4 }]);
    const docs = await c
      .aggregate([{ $group: { _id: '$g', s: { $sum: '$v' }, a: { $avg: '$v' }, mx: { $max: '$v' } } }])
      .toArray();
    expect(docs).toEqual([{ _id: 1, s: 6, a: 3, mx: 'x' }]);
  });

  it('returns no groups for an empty input', async () => {
    const docs = await coll.aggregate([{ $match: { cat: 'none' } }, { $group: { _id: null, n: { $sum: 1 } } }]).toArray();
    expect(docs).toEqual([]);
  });

  it('rejects a $group without _id with code 15955', async () => {
    const error = await rejectionOf(coll.aggregate([{ $group: { n: { $sum: 1 } } }]).toArray());
    expect(error).toBeInstanceOf(MongoServerError);
    expect(error.code).toBe(15955);
    expect(error.message).toBe('a group specification must include an _id');
  });
});

describe('$unwind', () => {
  it('emits one document per array element and drops empty, null, missing', async () => {
    const docs = await coll
      .aggregate([{ $unwind: '$tags' }, { $project: { tags: 1 } }, { $sort: { _id: 1, tags: 1 } }])
      .toArray();
    expect(docs).toEqual([
      { _id: 1, tags: 'new' },
      { _id: 1, tags: 'sale' },
      { _id: 2, tags: 'sale' },
      { _id: 6, tags: 'gift' },
    ]);
  });

  it('keeps empty, null and missing with preserveNullAndEmptyArrays and reports the index', async () => {
    const docs = await coll
      .aggregate([
        { $unwind: { path: '$tags', preserveNullAndEmptyArrays: true, includeArrayIndex: 'i' } },
        { $project: { tags: 1, i: 1 } },
        { $sort: { _id: 1, i: 1 } },
      ])
      .toArray();
    expect(docs).toEqual([
      { _id: 1, tags: 'new', i: 0 },
      { _id: 1, tags: 'sale', i: 1 },
      { _id: 2, tags: 'sale', i: 0 },
      { _id: 3, i: null },
      { _id: 4, i: null },
      { _id: 5, tags: null, i: null },
      { _id: 6, tags: 'gift', i: null },
    ]);
  });
});

describe('$lookup and $facet', () => {
  let customers: Collection<any>;

  beforeAll(async () => {
    customers = ctx.freshCollection('customers');
    await customers.insertMany([
      { _id: 'ann', name: 'Ann', tier: 'gold' },
      { _id: 'bob', name: 'Bob', tier: 'basic' },
      { _id: 'dan', name: 'Dan', tier: 'gold' },
    ]);
  });

  it('joins by localField and foreignField, with [] when nothing matches', async () => {
    const docs = await coll
      .aggregate([
        { $match: { _id: { $in: [1, 4] } } },
        { $sort: { _id: 1 } },
        { $lookup: { from: customers.collectionName, localField: 'cust', foreignField: '_id', as: 'who' } },
        { $project: { cust: 1, who: 1 } },
      ])
      .toArray();
    expect(docs).toEqual([
      { _id: 1, cust: 'ann', who: [{ _id: 'ann', name: 'Ann', tier: 'gold' }] },
      { _id: 4, cust: 'cid', who: [] },
    ]);
  });

  it('joins many foreign documents into one array', async () => {
    const docs = await customers
      .aggregate([
        { $match: { _id: 'ann' } },
        { $lookup: { from: coll.collectionName, localField: '_id', foreignField: 'cust', as: 'orders' } },
        { $project: { n: { $size: '$orders' }, ids: '$orders._id' } },
      ])
      .toArray();
    expect(docs).toHaveLength(1);
    expect(docs[0].n).toBe(3);
    expect([...docs[0].ids].sort()).toEqual([1, 3, 6]);
  });

  it('joins with a pipeline and let variables', async () => {
    const docs = await customers
      .aggregate([
        { $sort: { _id: 1 } },
        {
          $lookup: {
            from: coll.collectionName,
            let: { who: '$_id' },
            pipeline: [
              { $match: { $expr: { $and: [{ $eq: ['$cust', '$$who'] }, { $gte: ['$price', 10] }] } } },
              { $sort: { _id: 1 } },
              { $project: { _id: 1, price: 1 } },
            ],
            as: 'big',
          },
        },
        { $project: { big: 1 } },
      ])
      .toArray();
    expect(docs).toEqual([
      { _id: 'ann', big: [{ _id: 1, price: 10 }, { _id: 6, price: 15 }] },
      { _id: 'bob', big: [{ _id: 2, price: 30 }] },
      { _id: 'dan', big: [] },
    ]);
  });

  it('$facet runs several pipelines over the same input', async () => {
    const docs = await coll
      .aggregate([
        { $match: { cat: { $ne: 'game' } } },
        {
          $facet: {
            byCat: [{ $group: { _id: '$cat', n: { $sum: 1 } } }, { $sort: { _id: 1 } }],
            top: [{ $sort: { price: -1 } }, { $limit: 1 }, { $project: { _id: 1 } }],
            total: [{ $count: 'n' }],
          },
        },
      ])
      .toArray();
    expect(docs).toEqual([
      {
        byCat: [
          { _id: 'book', n: 3 },
          { _id: 'toy', n: 2 },
        ],
        top: [{ _id: 2 }],
        total: [{ n: 5 }],
      },
    ]);
  });
});

describe('cursors and isolation', () => {
  let many: Collection<any>;

  beforeAll(async () => {
    many = ctx.freshCollection('many');
    await many.insertMany(Array.from({ length: 300 }, (_, i) => ({ _id: i, n: i })));
  });

  it('returns all 250 results through the driver, fetching beyond the first batch', async () => {
    const docs = await many.aggregate([{ $match: { n: { $lt: 250 } } }, { $sort: { n: 1 } }]).toArray();
    expect(docs.map((d) => d.n)).toEqual(Array.from({ length: 250 }, (_, i) => i));
  });

  it('answers the aggregate command with a first batch of 101 and a live cursor', async () => {
    const first = await ctx.db.command({
      aggregate: many.collectionName,
      pipeline: [{ $match: { n: { $lt: 250 } } }, { $sort: { n: 1 } }],
      cursor: {},
    });
    expect(first.ok).toBe(1);
    expect(first.cursor.ns).toBe(`${ctx.mongo.dbName}.${many.collectionName}`);
    expect(first.cursor.firstBatch).toHaveLength(101);
    const id = asLong(first.cursor.id);
    expect(id.isZero()).toBe(false);
    const more = await ctx.db.command({ getMore: id, collection: many.collectionName });
    expect(more.cursor.nextBatch).toHaveLength(149);
    expect(more.cursor.nextBatch[148].n).toBe(249);
    expect(asLong(more.cursor.id).isZero()).toBe(true);
  });

  it('honours cursor.batchSize on aggregate', async () => {
    const first = await ctx.db.command({
      aggregate: many.collectionName,
      pipeline: [{ $sort: { n: 1 } }, { $limit: 15 }],
      cursor: { batchSize: 10 },
    });
    expect(first.cursor.firstBatch).toHaveLength(10);
    const more = await ctx.db.command({ getMore: asLong(first.cursor.id), collection: many.collectionName });
    expect(more.cursor.nextBatch.map((d: Document) => d.n)).toEqual([10, 11, 12, 13, 14]);
  });

  it('countDocuments with a filter counts through a pipeline', async () => {
    expect(await many.countDocuments({ n: { $gte: 100, $lt: 150 } })).toBe(50);
    expect(await coll.countDocuments({ cust: 'ann' })).toBe(3);
  });

  it('leaves the stored documents unchanged after pipelines that reshape them', async () => {
    await coll
      .aggregate([
        { $set: { qty: 0, cust: 'changed', 'extra.x': 1 } },
        { $unwind: { path: '$tags', preserveNullAndEmptyArrays: true } },
        { $project: { price: 0 } },
      ])
      .toArray();
    await coll.aggregate([{ $unset: 'cat' }, { $replaceRoot: { newRoot: { only: '$_id' } } }]).toArray();
    expect(await coll.find({}).sort({ _id: 1 }).toArray()).toEqual(orders);
  });

  it('refuses $changeStream on a standalone with code 40573', async () => {
    const error = await rejectionOf(coll.watch().next());
    expect(error).toBeInstanceOf(MongoServerError);
    expect(error.code).toBe(40573);
    expect(error.message).toBe('The $changeStream stage is only supported on replica sets');
  });

  it('rejects an unknown stage with code 40324', async () => {
    const error = await rejectionOf(coll.aggregate([{ $foo: {} }]).toArray());
    expect(error).toBeInstanceOf(MongoServerError);
    expect(error.code).toBe(40324);
    expect(error.message).toBe("Unrecognized pipeline stage name: '$foo'");
  });
});
