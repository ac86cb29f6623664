// Conformance: BSON comparison order as sort uses it (type brackets, arrays, binary strings).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  Binary,
  Double,
  Long,
  MaxKey,
  MinKey,
  ObjectId,
  Timestamp,
  type Collection,
  type Document,
  type Sort,
} from 'mongodb';
import { openConformanceDb, type ConformanceDb } from './conformance-db.ts';

let ctx: ConformanceDb;

beforeAll(async () => {
  ctx = await openConformanceDb();
});

afterAll(async () => {
  await ctx?.close();
});

async function seeded(docs: Document[]): Promise<Collection<any>> {
  const coll = ctx.freshCollection<any>('sort');
  await coll.insertMany(docs);
  return coll;
}

async function sortedIds(coll: Collection<any>, sort: Sort): Promise<unknown[]> {
  const docs = await coll.find({}, { projection: { _id: 1 } }).sort(sort).toArray();
  return docs.map((d) => d._id);
}

describe('BSON type order', () => {
  // _id doubles as the tiebreaker and as the expected ascending position.
  const mixed: Document[] = [
    { _id: 0, v: new MinKey() },
    { _id: 1, v: null },
    { _id: 2 },
    { _id: 3, v: -10 },
    { _id: 4, v: 2.5 },
    { _id: 5, v: 3 },
    { _id: 6, v: Long.fromNumber(4) },
    { _id: 7, v: 'B' },
    { _id: 8, v: 'a' },
    { _id: 9, v: { x: 1 } },
    { _id: 10, v: { x: 2 } },
    { _id: 11, v: new Binary(Buffer.from([1, 2, 3])) },
    { _id: 12, v: new ObjectId('000000000000000000000001') },
    { _id: 13, v: new ObjectId('000000000000000000000002') },
    { _id: 14, v: false },
    { _id: 15, v: true },
    { _id: 16, v: new Date(0) },
    { _id: 17, v: new Date(1_000_000_000_000) },
    { _id: 18, v: new Timestamp({ t: 1, i: 1 }) },
    { _id: 19, v: /re/ },
    { _id: 20, v: new MaxKey() },
  ];
  let coll: Collection<any>;

  beforeAll(async () => {
    coll = await seeded(mixed.map((d) => ({ ...d })).reverse());
  });

  it('sorts ascending MinKey, null/missing, numbers, strings, objects, binData, ObjectId, booleans, dates, timestamps, regex, MaxKey', async () => {
    expect(await sortedIds(coll, { v: 1, _id: 1 })).toEqual(
      Array.from({ length: 21 }, (_, i) => i),
    );
  });

  it('sorts descending in exactly the reverse type order', async () => {
    expect(await sortedIds(coll, { v: -1, _id: 1 })).toEqual([
      20, 19, 18, 17, 16, 15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 1, 2, 0,
    ]);
  });

  it('sorts null and a missing field as equal', async () => {
    const c = await seeded([{ _id: 1 }, { _id: 2, v: null }, { _id: 3 }, { _id: 4, v: null }]);
    expect(await sortedIds(c, { v: 1, _id: -1 })).toEqual([4, 3, 2, 1]);
    expect(await sortedIds(c, { v: -1, _id: 1 })).toEqual([1, 2, 3, 4]);
  });

  it('returns the documents themselves unchanged by the sort', async () => {
    const docs = await coll.find({ _id: { $in: [6, 9, 16] } }).sort({ v: 1 }).toArray();
    expect(docs).toEqual([
      { _id: 6, v: 4 },
      { _id: 9, v: { x: 1 } },
      { _id: 16, v: new Date(0) },
    ]);
  });

  it('applies the same order in an aggregation $sort', async () => {
    const docs = await coll.aggregate([{ $sort: { v: 1, _id: 1 } }, { $project: { _id: 1 } }]).toArray();
    expect(docs.map((d) => d._id)).toEqual(Array.from({ length: 21 }, (_, i) => i));
  });
});

describe('values within a type', () => {
  it('orders int, long and double by numeric value, with equal numbers tied', async () => {
    const c = await seeded([
      { _id: 1, v: 100 },
      { _id: 2, v: -1.5 },
      { _id: 3, v: Long.fromNumber(2) },
      { _id: 4, v: 0.25 },
      { _id: 5, v: new Double(2) },
      { _id: 6, v: -1 },
      { _id: 7, v: 0 },
      { _id: 8, v: 2 },
      { _id: 9, v: Long.fromString('-9007199254740993') },
    ]);
    expect(await sortedIds(c, { v: 1, _id: 1 })).toEqual([9, 2, 6, 7, 4, 3, 5, 8, 1]);
    expect(await sortedIds(c, { v: -1, _id: 1 })).toEqual([1, 3, 5, 8, 4, 7, 6, 2, 9]);
  });

  it('orders strings by bytes: digits, then uppercase, then lowercase, then non-ASCII', async () => {
    const values = ['b', 'B', 'a', 'A', 'Z', 'é', '10', '9', '', 'ab', 'a b'];
    const c = await seeded(values.map((v, i) => ({ _id: i, v })));
    const docs = await c.find({}).sort({ v: 1 }).toArray();
    expect(docs.map((d) => d.v)).toEqual(['', '10', '9', 'A', 'B', 'Z', 'a', 'a b', 'ab', 'b', 'é']);
  });

  it('orders dates chronologically, including before 1970', async () => {
    const c = await seeded([
      { _id: 1, v: new Date('2024-01-01T00:00:00Z') },
      { _id: 2, v: new Date('1960-06-01T00:00:00Z') },
      { _id: 3, v: new Date(0) },
      { _id: 4, v: new Date('2023-12-31T23:59:59.999Z') },
    ]);
    expect(await sortedIds(c, { v: 1 })).toEqual([2, 3, 4, 1]);
  });

  it('orders ObjectIds by their bytes and booleans false before true', async () => {
    const c = await seeded([
      { _id: 1, o: new ObjectId('65000000000000000000000a'), b: true },
      { _id: 2, o: new ObjectId('0a0000000000000000000000'), b: false },
      { _id: 3, o: new ObjectId('650000000000000000000009'), b: true },
    ]);
    expect(await sortedIds(c, { o: 1 })).toEqual([2, 3, 1]);
    expect(await sortedIds(c, { b: 1, _id: -1 })).toEqual([2, 3, 1]);
  });

  it('orders subdocuments field by field', async () => {
    const c = await seeded([
      { _id: 1, v: { a: 2 } },
      { _id: 2, v: { a: 1, b: 5 } },
      { _id: 3, v: { a: 1 } },
      { _id: 4, v: { b: 0 } },
      { _id: 5, v: {} },
    ]);
    expect(await sortedIds(c, { v: 1 })).toEqual([5, 3, 2, 1, 4]);
  });
});

describe('arrays', () => {
  it('sorts an array by its smallest element ascending and its largest descending', async () => {
    const c = await seeded([
      { _id: 1, v: 0 },
      { _id: 2, v: 5 },
      { _id: 3, v: 10 },
      { _id: 4, v: [2, 8] },
    ]);
    expect(await sortedIds(c, { v: 1 })).toEqual([1, 4, 2, 3]);
    expect(await sortedIds(c, { v: -1 })).toEqual([3, 4, 2, 1]);
  });

  it('sorts a single-element array like its element', async () => {
    const c = await seeded([
      { _id: 1, v: 'b' },
      { _id: 2, v: ['a'] },
      { _id: 3, v: 'c' },
    ]);
    expect(await sortedIds(c, { v: 1 })).toEqual([2, 1, 3]);
  });

  it('sorts an empty array before null and missing', async () => {
    const c = await seeded([
      { _id: 1, v: 1 },
      { _id: 2, v: null },
      { _id: 3, v: [] },
      { _id: 4 },
    ]);
    expect(await sortedIds(c, { v: 1, _id: 1 })).toEqual([3, 2, 4, 1]);
    expect(await sortedIds(c, { v: -1, _id: 1 })).toEqual([1, 2, 4, 3]);
  });

  it('uses the smallest element of any type for arrays of mixed types', async () => {
    const c = await seeded([
      { _id: 1, v: ['x', 3] },
      { _id: 2, v: 4 },
      { _id: 3, v: 'a' },
    ]);
    expect(await sortedIds(c, { v: 1 })).toEqual([1, 2, 3]);
    expect(await sortedIds(c, { v: -1 })).toEqual([1, 3, 2]);
  });

  it('sorts by a field inside an array of subdocuments using the smallest value', async () => {
    const c = await seeded([
      { _id: 1, items: [{ p: 5 }, { p: 50 }] },
      { _id: 2, items: [{ p: 10 }] },
      { _id: 3, items: [{ p: 1 }, { p: 7 }] },
    ]);
    expect(await sortedIds(c, { 'items.p': 1 })).toEqual([3, 1, 2]);
    expect(await sortedIds(c, { 'items.p': -1 })).toEqual([1, 2, 3]);
  });
});

describe('sort keys', () => {
  it('sorts on a compound key with mixed directions', async () => {
    const c = await seeded([
      { _id: 1, g: 'b', score: 10 },
      { _id: 2, g: 'a', score: 5 },
      { _id: 3, g: 'b', score: 30 },
      { _id: 4, g: 'a', score: 50 },
      { _id: 5, g: 'a', score: 5 },
      { _id: 6, g: 'b', score: 20 },
    ]);
    expect(await sortedIds(c, { g: 1, score: -1, _id: 1 })).toEqual([4, 2, 5, 3, 6, 1]);
    expect(await sortedIds(c, { g: -1, score: 1, _id: -1 })).toEqual([1, 6, 3, 5, 2, 4]);
  });

  it('sorts on a nested field, missing subfields first', async () => {
    const c = await seeded([
      { _id: 1, a: { b: 3 } },
      { _id: 2, a: { b: 1 } },
      { _id: 3, a: {} },
      { _id: 4, a: { b: 2 } },
    ]);
    expect(await sortedIds(c, { 'a.b': 1 })).toEqual([3, 2, 4, 1]);
  });

  it('sorts by _id descending', async () => {
    const c = await seeded([{ _id: 2 }, { _id: 3 }, { _id: 1 }]);
    expect(await sortedIds(c, { _id: -1 })).toEqual([3, 2, 1]);
  });

  it('sorts before skip and limit', async () => {
    const c = await seeded(Array.from({ length: 20 }, (_, i) => ({ _id: i, v: (i * 7) % 20 })));
    const docs = await c.find({}).sort({ v: -1 }).skip(2).limit(3).toArray();
    expect(docs.map((d) => d.v)).toEqual([17, 16, 15]);
  });
});
