// Conformance: update operators, array updates, upsert seeding, replacement and pipeline updates.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  Double,
  Long,
  MongoServerError,
  ObjectId,
  Timestamp,
  type Document,
  type UpdateOptions,
} from 'mongodb';
import { openConformanceDb, rejectionOf, type ConformanceDb } from './conformance-db.ts';

let ctx: ConformanceDb;

beforeAll(async () => {
  ctx = await openConformanceDb();
});

afterAll(async () => {
  await ctx?.close();
});

/** Stores `doc`, applies `update` to it with updateOne and returns what is stored afterwards. */
async function applied(
  doc: Document,
  update: Document | Document[],
  options?: UpdateOptions,
): Promise<Document | null> {
  const coll = ctx.freshCollection('upd');
  await coll.insertOne(doc);
  await coll.updateOne({ _id: doc._id }, update, options);
  return coll.findOne({ _id: doc._id });
}

/** Runs a raw update command whose single statement is expected to fail; returns its write error. */
async function writeErrorOf(doc: Document, update: Document, extra: Document = {}) {
  const coll = ctx.freshCollection('upderr');
  await coll.insertOne(doc);
  const reply = await ctx.db.command({
    update: coll.collectionName,
    updates: [{ q: { _id: doc._id }, u: update, ...extra }],
  });
  expect(reply.ok).toBe(1);
  expect(reply.n).toBe(0);
  expect(reply.nModified).toBe(0);
  expect(reply.writeErrors).toHaveLength(1);
  // The document is left as it was.
  expect(await coll.findOne({ _id: doc._id })).toEqual(doc);
  return reply.writeErrors[0];
}

describe('field operators', () => {
  it('$set replaces a value and adds a field', async () => {
    expect(await applied({ _id: 1, a: 1 }, { $set: { a: 2, b: 'x' } })).toEqual({
      _id: 1,
      a: 2,
      b: 'x',
    });
  });

  it('$set on a dotted path creates the missing subdocuments', async () => {
    expect(await applied({ _id: 1 }, { $set: { 'a.b.c': 1 } })).toEqual({ _id: 1, a: { b: { c: 1 } } });
    expect(await applied({ _id: 1, a: { x: 1 } }, { $set: { 'a.y': 2 } })).toEqual({
      _id: 1,
      a: { x: 1, y: 2 },
    });
  });

  it('$set keeps existing fields in place and appends new ones in lexicographic order', async () => {
    const doc = await applied({ _id: 1, m: 1, k: 1 }, { $set: { z: 1, k: 2, b: 1, a: 1 } });
    expect(doc).toEqual({ _id: 1, m: 1, k: 2, a: 1, b: 1, z: 1 });
    expect(Object.keys(doc!)).toEqual(['_id', 'm', 'k', 'a', 'b', 'z']);
  });

  it('$set by array index replaces the element and pads with nulls past the end', async () => {
    expect(await applied({ _id: 1, arr: [1, 2, 3] }, { $set: { 'arr.1': 'x' } })).toEqual({
      _id: 1,
      arr: [1, 'x', 3],
    });
    expect(await applied({ _id: 1, arr: [1] }, { $set: { 'arr.3': 'x' } })).toEqual({
      _id: 1,
      arr: [1, null, null, 'x'],
    });
  });

  it('$set of a whole subdocument replaces it', async () => {
    expect(await applied({ _id: 1, a: { x: 1, y: 2 } }, { $set: { a: { z: 3 } } })).toEqual({
      _id: 1,
      a: { z: 3 },
    });
  });

  it('$unset removes top-level and nested fields', async () => {
    expect(
      await applied({ _id: 1, a: 1, b: { c: 1, d: 2 }, e: 3 }, { $unset: { a: '', 'b.c': 1 } }),
    ).toEqual({ _id: 1, b: { d: 2 }, e: 3 });
  });

  it('$unset of an array element sets it to null', async () => {
    expect(await applied({ _id: 1, arr: [1, 2, 3] }, { $unset: { 'arr.1': '' } })).toEqual({
      _id: 1,
      arr: [1, null, 3],
    });
  });

  it('$unset of a missing field matches without modifying', async () => {
    const coll = ctx.freshCollection('upd');
    await coll.insertOne({ _id: 1, a: 1 } as Document);
    const result = await coll.updateOne({ _id: 1 } as Document, { $unset: { b: '' } });
    expect(result.matchedCount).toBe(1);
    expect(result.modifiedCount).toBe(0);
  });

  it('$inc adds to a number, creates a missing field and accepts negatives', async () => {
    expect(await applied({ _id: 1, n: 5 }, { $inc: { n: 2, m: 3, 'o.p': -1 } })).toEqual({
      _id: 1,
      n: 7,
      m: 3,
      o: { p: -1 },
    });
  });

  it('$inc of an int by a double stores a double', async () => {
    const coll = ctx.freshCollection('upd');
    await coll.insertOne({ _id: 1, n: 1 } as Document);
    await coll.updateOne({ _id: 1 } as Document, { $inc: { n: 0.5 } });
    expect(await coll.findOne({ _id: 1 } as Document)).toEqual({ _id: 1, n: 1.5 });
    expect(await coll.countDocuments({ n: { $type: 'double' } })).toBe(1);
  });

  // Longs beyond 2^53 are not exact in embedded-mongo (README, "Limits"); an int past 2^31 keeps counting.
  it('$inc past the int32 range keeps the exact value', async () => {
    const coll = ctx.freshCollection('upd');
    await coll.insertOne({ _id: 1, n: 2147483647 } as Document);
    await coll.updateOne({ _id: 1 } as Document, { $inc: { n: 1 } });
    const doc = await coll.findOne({ _id: 1 } as Document);
    expect(Number(doc?.n)).toBe(2147483648);
  });

  it('$mul multiplies and creates a missing field as zero', async () => {
    expect(await applied({ _id: 1, price: 1.5, qty: 4 }, { $mul: { price: 2, qty: 0.5, none: 7 } })).toEqual({
      _id: 1,
      price: 3,
      qty: 2,
      none: 0,
    });
  });

  it('$bit applies and, or and xor to an integer', async () => {
    expect(await applied({ _id: 1, a: 13, b: 13, c: 13 }, { $bit: { a: { and: 10 }, b: { or: 2 }, c: { xor: 5 } } })).toEqual({
      _id: 1,
      a: 8,
      b: 15,
      c: 8,
    });
  });

  it('$bit applies several operations on one field in order', async () => {
    expect(await applied({ _id: 1, a: 13 }, { $bit: { a: { and: 12, or: 3 } } })).toEqual({ _id: 1, a: 15 });
    expect(await applied({ _id: 1, a: 13 }, { $bit: { a: { or: 3, and: 12 } } })).toEqual({ _id: 1, a: 12 });
  });

  it('$bit works on negative numbers in two\'s complement', async () => {
    expect(await applied({ _id: 1, a: -1 }, { $bit: { a: { and: 0xf0 } } })).toEqual({ _id: 1, a: 240 });
    expect(await applied({ _id: 1, a: 0 }, { $bit: { a: { xor: -1 } } })).toEqual({ _id: 1, a: -1 });
  });

  it('$bit creates a missing field from zero', async () => {
    expect(await applied({ _id: 1 }, { $bit: { a: { or: 5 }, 'b.c': { and: 5 } } })).toEqual({ _id: 1, a: 5, b: { c: 0 } });
  });

  it('$bit works on all 64 bits of a long', async () => {
    const doc = await applied({ _id: 1, a: Long.fromNumber(2 ** 40 + 13) }, { $bit: { a: { or: Long.fromNumber(2 ** 41), and: Long.fromNumber(2 ** 41 + 2 ** 40 + 12) } } });
    expect(Number(doc?.a)).toBe(2 ** 41 + 2 ** 40 + 12);
  });

  it('$bit that changes nothing reports modifiedCount 0', async () => {
    const coll = ctx.freshCollection('bit');
    await coll.insertOne({ _id: 1, a: 5 } as Document);
    const result = await coll.updateOne({ _id: 1 } as Document, { $bit: { a: { and: 15 } } });
    expect(result.matchedCount).toBe(1);
    expect(result.modifiedCount).toBe(0);
  });

  it('$bit on a non-integer field fails with code 2 BadValue', async () => {
    for (const a of [1.5, 'text']) {
      const error = await writeErrorOf({ _id: 1, a }, { $bit: { a: { or: 1 } } });
      expect(error.code).toBe(2);
      expect(error.errmsg).toMatch(/^Cannot apply \$bit to a value of non-integral type/);
    }
  });

  it('$bit with a non-integer operand or an unknown operation fails with code 2 BadValue', async () => {
    const double = await writeErrorOf({ _id: 1, a: 1 }, { $bit: { a: { and: 1.5 } } });
    expect(double.code).toBe(2);
    expect(double.errmsg).toMatch(/^The \$bit modifier field must be an Integer\(32\/64 bit\)/);
    const unknown = await writeErrorOf({ _id: 1, a: 1 }, { $bit: { a: { nand: 1 } } });
    expect(unknown.code).toBe(2);
    expect(unknown.errmsg).toMatch(/^The \$bit modifier only supports 'and', 'or', and 'xor'/);
    const notDocument = await writeErrorOf({ _id: 1, a: 1 }, { $bit: { a: 1 } });
    expect(notDocument.code).toBe(2);
  });

  it('$min and $max replace only when the new value is lower or higher', async () => {
    expect(
      await applied({ _id: 1, lo: 5, hi: 5, keepLo: 1, keepHi: 9 }, {
        $min: { lo: 3, keepLo: 2, newMin: 4 },
        $max: { hi: 8, keepHi: 2, newMax: 6 },
      }),
    ).toEqual({ _id: 1, lo: 3, hi: 8, keepLo: 1, keepHi: 9, newMin: 4, newMax: 6 });
  });

  it('$min and $max compare dates', async () => {
    const early = new Date('2024-01-01T00:00:00Z');
    const late = new Date('2024-06-01T00:00:00Z');
    expect(
      await applied({ _id: 1, first: late, last: early }, { $min: { first: early }, $max: { last: late } }),
    ).toEqual({ _id: 1, first: early, last: late });
  });

  it('$rename moves a value to a new name, including into a subdocument', async () => {
    expect(
      await applied({ _id: 1, a: 1, b: { c: 2 }, d: 3 }, { $rename: { a: 'x', 'b.c': 'y', d: 'e.f' } }),
    ).toEqual({ _id: 1, b: {}, x: 1, y: 2, e: { f: 3 } });
  });

  it('$rename of a missing field changes nothing', async () => {
    const coll = ctx.freshCollection('upd');
    await coll.insertOne({ _id: 1, a: 1 } as Document);
    const result = await coll.updateOne({ _id: 1 } as Document, { $rename: { nope: 'b' } });
    expect(result.modifiedCount).toBe(0);
    expect(await coll.findOne({})).toEqual({ _id: 1, a: 1 });
  });

  it('$currentDate sets a Date or a Timestamp', async () => {
    const before = Date.now();
    const doc = await applied({ _id: 1 }, { $currentDate: { d: true, ts: { $type: 'timestamp' }, d2: { $type: 'date' } } });
    const after = Date.now();
    expect(doc!.d).toBeInstanceOf(Date);
    expect(doc!.d2).toBeInstanceOf(Date);
    expect(doc!.d.getTime()).toBeGreaterThanOrEqual(before - 1000);
    expect(doc!.d.getTime()).toBeLessThanOrEqual(after + 1000);
    expect(doc!.ts).toBeInstanceOf(Timestamp);
    const seconds = (doc!.ts as Timestamp).high;
    expect(seconds).toBeGreaterThanOrEqual(Math.floor(before / 1000) - 1);
    expect(seconds).toBeLessThanOrEqual(Math.ceil(after / 1000) + 1);
  });

  it('$setOnInsert applies only when the upsert inserts', async () => {
    const coll = ctx.freshCollection('upd');
    const inserted = await coll.updateOne(
      { k: 'a' },
      { $set: { seen: 1 }, $setOnInsert: { created: 'yes' } },
      { upsert: true },
    );
    expect(inserted.upsertedCount).toBe(1);
    expect(await coll.findOne({ k: 'a' }, { projection: { _id: 0 } })).toEqual({
      k: 'a',
      seen: 1,
      created: 'yes',
    });

    const matched = await coll.updateOne(
      { k: 'a' },
      { $set: { seen: 2 }, $setOnInsert: { created: 'again', other: 1 } },
      { upsert: true },
    );
    expect(matched.upsertedCount).toBe(0);
    expect(matched.modifiedCount).toBe(1);
    expect(await coll.findOne({ k: 'a' }, { projection: { _id: 0 } })).toEqual({
      k: 'a',
      seen: 2,
      created: 'yes',
    });
  });

  it('$setOnInsert without upsert changes nothing', async () => {
    const coll = ctx.freshCollection('upd');
    await coll.insertOne({ _id: 1 } as Document);
    const result = await coll.updateOne({ _id: 1 } as Document, { $setOnInsert: { a: 1 } });
    expect(result.matchedCount).toBe(1);
    expect(result.modifiedCount).toBe(0);
    expect(await coll.findOne({})).toEqual({ _id: 1 });
  });
});

describe('array operators', () => {
  it('$push appends and creates the array when missing', async () => {
    expect(await applied({ _id: 1, arr: [1] }, { $push: { arr: 2, fresh: 'x' } })).toEqual({
      _id: 1,
      arr: [1, 2],
      fresh: ['x'],
    });
  });

  it('$push of an array appends it as one element unless $each is used', async () => {
    expect(await applied({ _id: 1, arr: [1] }, { $push: { arr: [2, 3] } })).toEqual({
      _id: 1,
      arr: [1, [2, 3]],
    });
    expect(await applied({ _id: 1, arr: [1] }, { $push: { arr: { $each: [2, 3] } } })).toEqual({
      _id: 1,
      arr: [1, 2, 3],
    });
  });

  it('$push with $position inserts at the index, negative counting from the end', async () => {
    expect(
      await applied({ _id: 1, arr: [1, 2, 3] }, { $push: { arr: { $each: ['a', 'b'], $position: 0 } } }),
    ).toEqual({ _id: 1, arr: ['a', 'b', 1, 2, 3] });
    expect(
      await applied({ _id: 1, arr: [1, 2, 3] }, { $push: { arr: { $each: ['x'], $position: -1 } } }),
    ).toEqual({ _id: 1, arr: [1, 2, 'x', 3] });
  });

  it('$push with $slice keeps the first or last elements', async () => {
    expect(
      await applied({ _id: 1, arr: [1, 2, 3] }, { $push: { arr: { $each: [4, 5], $slice: -3 } } }),
    ).toEqual({ _id: 1, arr: [3, 4, 5] });
    expect(
      await applied({ _id: 1, arr: [1, 2, 3] }, { $push: { arr: { $each: [4, 5], $slice: 2 } } }),
    ).toEqual({ _id: 1, arr: [1, 2] });
  });

  it('$push with $sort orders subdocuments by a field before $slice', async () => {
    expect(
      await applied(
        { _id: 1, top: [{ s: 5, n: 'a' }, { s: 9, n: 'b' }] },
        { $push: { top: { $each: [{ s: 7, n: 'c' }, { s: 1, n: 'd' }], $sort: { s: -1 }, $slice: 3 } } },
      ),
    ).toEqual({ _id: 1, top: [{ s: 9, n: 'b' }, { s: 7, n: 'c' }, { s: 5, n: 'a' }] });
  });

  it('$push with an empty $each and $sort sorts scalar arrays in place', async () => {
    expect(await applied({ _id: 1, arr: [3, 1, 2] }, { $push: { arr: { $each: [], $sort: 1 } } })).toEqual({
      _id: 1,
      arr: [1, 2, 3],
    });
  });

  it('$push onto a non-array fails with code 2 BadValue', async () => {
    const error = await writeErrorOf({ _id: 1, a: 5 }, { $push: { a: 1 } });
    expect(error).toEqual({
      index: 0,
      code: 2,
      errmsg: "The field 'a' must be an array but is of type int in document {_id: 1}",
    });
  });

  it('$addToSet adds only values not already present', async () => {
    expect(await applied({ _id: 1, s: ['a', 'b'] }, { $addToSet: { s: 'b', t: 'x' } })).toEqual({
      _id: 1,
      s: ['a', 'b'],
      t: ['x'],
    });
    expect(
      await applied({ _id: 1, s: ['a'] }, { $addToSet: { s: { $each: ['b', 'a', 'c', 'b'] } } }),
    ).toEqual({ _id: 1, s: ['a', 'b', 'c'] });
  });

  it('$addToSet compares ObjectIds by value and numbers numerically', async () => {
    const hex = '65a000000000000000000001';
    expect(
      await applied({ _id: 1, refs: [new ObjectId(hex)], n: [1] }, {
        $addToSet: { refs: new ObjectId(hex), n: new Double(1) },
      }),
    ).toEqual({ _id: 1, refs: [new ObjectId(hex)], n: [1] });
  });

  it('$addToSet treats subdocuments with different field order as different', async () => {
    expect(
      await applied({ _id: 1, s: [{ a: 1, b: 2 }] }, { $addToSet: { s: { $each: [{ a: 1, b: 2 }, { b: 2, a: 1 }] } } }),
    ).toEqual({ _id: 1, s: [{ a: 1, b: 2 }, { b: 2, a: 1 }] });
  });

  it('$pop removes the last element with 1 and the first with -1', async () => {
    expect(await applied({ _id: 1, a: [1, 2, 3], b: [1, 2, 3] }, { $pop: { a: 1, b: -1 } })).toEqual({
      _id: 1,
      a: [1, 2],
      b: [2, 3],
    });
  });

  it('$pull removes every equal value', async () => {
    expect(await applied({ _id: 1, a: [1, 2, 1, 3, 1] }, { $pull: { a: 1 } })).toEqual({
      _id: 1,
      a: [2, 3],
    });
  });

  it('$pull removes values meeting a condition', async () => {
    expect(await applied({ _id: 1, a: [3, 6, 9, 4, 7] }, { $pull: { a: { $gte: 6 } } })).toEqual({
      _id: 1,
      a: [3, 4],
    });
  });

  it('$pull with a document removes subdocuments matching it as a query', async () => {
    expect(
      await applied(
        { _id: 1, items: [{ k: 'a', n: 1 }, { k: 'b', n: 2 }, { k: 'a', n: 3 }] },
        { $pull: { items: { k: 'a' } } },
      ),
    ).toEqual({ _id: 1, items: [{ k: 'b', n: 2 }] });
    expect(
      await applied(
        { _id: 1, items: [{ k: 'a', n: 1 }, { k: 'b', n: 2 }, { k: 'a', n: 3 }] },
        { $pull: { items: { k: 'a', n: { $gt: 2 } } } },
      ),
    ).toEqual({ _id: 1, items: [{ k: 'a', n: 1 }, { k: 'b', n: 2 }] });
  });

  it('$pullAll removes every listed value', async () => {
    expect(await applied({ _id: 1, a: [0, 2, 5, 5, 1, 0] }, { $pullAll: { a: [0, 5] } })).toEqual({
      _id: 1,
      a: [2, 1],
    });
  });
});

describe('positional updates', () => {
  it('$ updates the first array element matched by the filter', async () => {
    const coll = ctx.freshCollection('pos');
    await coll.insertOne({ _id: 1, arr: [{ x: 1 }, { x: 2 }, { x: 2 }] } as Document);
    const result = await coll.updateOne({ 'arr.x': 2 }, { $set: { 'arr.$.y': 1 } });
    expect(result.modifiedCount).toBe(1);
    expect(await coll.findOne({})).toEqual({ _id: 1, arr: [{ x: 1 }, { x: 2, y: 1 }, { x: 2 }] });
  });

  it('$ works with scalar arrays', async () => {
    const coll = ctx.freshCollection('pos');
    await coll.insertOne({ _id: 1, grades: [80, 85, 90] } as Document);
    await coll.updateOne({ _id: 1, grades: 85 } as Document, { $inc: { 'grades.$': 10 } });
    expect(await coll.findOne({})).toEqual({ _id: 1, grades: [80, 95, 90] });
  });

  it('$[] updates every element', async () => {
    expect(
      await applied({ _id: 1, a: [1, 2, 3], b: [{ n: 1 }, { n: 2 }] }, { $inc: { 'a.$[]': 10, 'b.$[].n': 1 } }),
    ).toEqual({ _id: 1, a: [11, 12, 13], b: [{ n: 2 }, { n: 3 }] });
  });

  it('$[name] updates the elements chosen by arrayFilters', async () => {
    expect(
      await applied(
        { _id: 1, grades: [95, 102, 90, 150] },
        { $set: { 'grades.$[g]': 100 } },
        { arrayFilters: [{ g: { $gte: 100 } }] },
      ),
    ).toEqual({ _id: 1, grades: [95, 100, 90, 100] });
  });

  it('$[name] filters subdocuments by their fields', async () => {
    expect(
      await applied(
        { _id: 1, items: [{ k: 'a', qty: 1 }, { k: 'b', qty: 2 }, { k: 'a', qty: 3 }] },
        { $inc: { 'items.$[it].qty': 10 } },
        { arrayFilters: [{ 'it.k': 'a' }] },
      ),
    ).toEqual({ _id: 1, items: [{ k: 'a', qty: 11 }, { k: 'b', qty: 2 }, { k: 'a', qty: 13 }] });
  });
});

describe('arithmetic through positional paths', () => {
  /** Runs one raw update statement and returns its reply, checking the document is unchanged on error. */
  async function rawUpdate(doc: Document, statement: Document) {
    const coll = ctx.freshCollection('posarith');
    await coll.insertOne(doc);
    const reply = await ctx.db.command({ update: coll.collectionName, updates: [statement] });
    return { reply, stored: await coll.findOne({ _id: doc._id }) };
  }

  const nonNumeric = (op: string, field: string, type: string) =>
    `Cannot apply ${op} to a value of non-numeric type. {_id: 1} has the field '${field}' of non-numeric type ${type}`;

  it('$inc on a string reached through $ fails with code 14 and leaves the document alone', async () => {
    const doc = { _id: 1, items: [{ k: 'a', v: 1 }, { k: 'b', v: 'text' }] };
    const { reply, stored } = await rawUpdate(doc, { q: { _id: 1, 'items.k': 'b' }, u: { $inc: { 'items.$.v': 1 } } });
    expect(reply.nModified).toBe(0);
    expect(reply.writeErrors).toEqual([{ index: 0, code: 14, errmsg: nonNumeric('$inc', 'v', 'string') }]);
    expect(stored).toEqual(doc);
  });

  it('$inc through $ on the number the filter picked succeeds next to a string', async () => {
    const doc = { _id: 1, items: [{ k: 'a', v: 1 }, { k: 'b', v: 'text' }] };
    const { reply, stored } = await rawUpdate(doc, { q: { _id: 1, 'items.k': 'a' }, u: { $inc: { 'items.$.v': 1 } } });
    expect(reply.writeErrors).toBeUndefined();
    expect(reply.nModified).toBe(1);
    expect(stored).toEqual({ _id: 1, items: [{ k: 'a', v: 2 }, { k: 'b', v: 'text' }] });
  });

  it('$mul on a string element of a scalar array reached through $ fails with code 14', async () => {
    const doc = { _id: 1, a: [2, 'x', 3] };
    const { reply, stored } = await rawUpdate(doc, { q: { _id: 1, a: 'x' }, u: { $mul: { 'a.$': 2 } } });
    expect(reply.writeErrors).toEqual([{ index: 0, code: 14, errmsg: nonNumeric('$mul', '1', 'string') }]);
    expect(stored).toEqual(doc);
  });

  it('$inc through $[] fails when any element is not a number', async () => {
    const doc = { _id: 1, a: [{ n: 1 }, { n: true }, {}] };
    const { reply, stored } = await rawUpdate(doc, { q: { _id: 1 }, u: { $inc: { 'a.$[].n': 1 } } });
    expect(reply.writeErrors).toEqual([{ index: 0, code: 14, errmsg: nonNumeric('$inc', 'n', 'bool') }]);
    expect(stored).toEqual(doc);
  });

  it('$inc through $[name] checks only the elements arrayFilters choose', async () => {
    const doc = { _id: 1, items: [{ k: 'a', qty: 1 }, { k: 'b', qty: 'many' }] };
    const failing = await rawUpdate(doc, {
      q: { _id: 1 },
      u: { $inc: { 'items.$[it].qty': 1 } },
      arrayFilters: [{ 'it.k': 'b' }],
    });
    expect(failing.reply.writeErrors).toEqual([{ index: 0, code: 14, errmsg: nonNumeric('$inc', 'qty', 'string') }]);
    expect(failing.stored).toEqual(doc);
    const passing = await rawUpdate(doc, {
      q: { _id: 1 },
      u: { $inc: { 'items.$[it].qty': 1 } },
      arrayFilters: [{ 'it.k': 'a' }],
    });
    expect(passing.reply.writeErrors).toBeUndefined();
    expect(passing.stored).toEqual({ _id: 1, items: [{ k: 'a', qty: 2 }, { k: 'b', qty: 'many' }] });
  });
});

describe('upserts', () => {
  it('seeds the new document from equality fields of the filter, not from ranges', async () => {
    const coll = ctx.freshCollection('ups');
    const result = await coll.updateOne(
      { a: 1, 'b.c': 'x', d: { $gt: 5 }, e: { $eq: 'y' } },
      { $set: { z: true } },
      { upsert: true },
    );
    expect(result.upsertedCount).toBe(1);
    const doc = await coll.findOne({});
    expect(doc).toEqual({ _id: result.upsertedId, a: 1, b: { c: 'x' }, e: 'y', z: true });
    expect(Object.keys(doc!)[0]).toBe('_id');
  });

  it('seeds from every equality inside $and', async () => {
    const coll = ctx.freshCollection('ups');
    await coll.updateOne({ $and: [{ a: 1 }, { b: 2 }, { c: { $lt: 3 } }] }, { $inc: { n: 1 } }, { upsert: true });
    expect(await coll.findOne({}, { projection: { _id: 0 } })).toEqual({ a: 1, b: 2, n: 1 });
  });

  it('uses the _id from the filter', async () => {
    const coll = ctx.freshCollection('ups');
    const result = await coll.updateOne({ _id: 'fixed' } as Document, { $set: { a: 1 } }, { upsert: true });
    expect(result.upsertedId).toBe('fixed');
    expect(await coll.findOne({})).toEqual({ _id: 'fixed', a: 1 });
  });

  it('lets the update override a seeded field', async () => {
    const coll = ctx.freshCollection('ups');
    await coll.updateOne({ state: 'new' }, { $set: { state: 'done' } }, { upsert: true });
    expect(await coll.findOne({}, { projection: { _id: 0 } })).toEqual({ state: 'done' });
  });

  it('a replacement upsert takes only _id from the filter', async () => {
    const coll = ctx.freshCollection('ups');
    const result = await coll.replaceOne({ _id: 7, a: 1 } as Document, { b: 2 }, { upsert: true });
    expect(result.upsertedId).toBe(7);
    expect(await coll.findOne({})).toEqual({ _id: 7, b: 2 });

    const other = ctx.freshCollection('ups');
    const generated = await other.replaceOne({ a: 1 }, { b: 2 }, { upsert: true });
    expect(generated.upsertedId).toBeInstanceOf(ObjectId);
    expect(await other.findOne({})).toEqual({ _id: generated.upsertedId, b: 2 });
  });

  it('updateMany with upsert inserts one document when nothing matches', async () => {
    const coll = ctx.freshCollection('ups');
    const result = await coll.updateMany({ g: 'x' }, { $set: { v: 1 } }, { upsert: true });
    expect(result.upsertedCount).toBe(1);
    expect(result.matchedCount).toBe(0);
    expect(await coll.countDocuments({ g: 'x', v: 1 })).toBe(1);
  });
});

describe('replacement and pipeline updates', () => {
  it('a replacement keeps _id and drops every other old field', async () => {
    const coll = ctx.freshCollection('repl');
    await coll.insertOne({ _id: 1, a: 1, b: 2 } as Document);
    await coll.replaceOne({ _id: 1 } as Document, { c: 3, d: { e: 4 } });
    const doc = await coll.findOne({});
    expect(doc).toEqual({ _id: 1, c: 3, d: { e: 4 } });
    expect(Object.keys(doc!)).toEqual(['_id', 'c', 'd']);
  });

  it('a replacement carrying the same _id is accepted', async () => {
    const coll = ctx.freshCollection('repl');
    await coll.insertOne({ _id: 1, a: 1 } as Document);
    await coll.replaceOne({ _id: 1 } as Document, { _id: 1, b: 1 } as Document);
    expect(await coll.findOne({})).toEqual({ _id: 1, b: 1 });
  });

  it('a replacement changing _id fails with code 66 ImmutableField', async () => {
    const coll = ctx.freshCollection('repl');
    await coll.insertOne({ _id: 1, a: 1 } as Document);
    const error = await rejectionOf(coll.replaceOne({ _id: 1 } as Document, { _id: 2, a: 2 } as Document));
    expect(error).toBeInstanceOf(MongoServerError);
    expect(error.code).toBe(66);
    expect(error.message).toMatch(/\(immutable\) field '_id' was found to have been altered/);
    expect(await coll.findOne({})).toEqual({ _id: 1, a: 1 });
  });

  it('a pipeline update computes fields from the document', async () => {
    expect(
      await applied({ _id: 1, a: 2, b: 3, tmp: 'x' }, [
        { $set: { total: { $add: ['$a', '$b'] } } },
        { $unset: 'tmp' },
      ]),
    ).toEqual({ _id: 1, a: 2, b: 3, total: 5 });
  });

  it('a pipeline update can reference fields set by an earlier stage', async () => {
    expect(
      await applied({ _id: 1, price: 10, qty: 3 }, [
        { $set: { subtotal: { $multiply: ['$price', '$qty'] } } },
        { $set: { total: { $add: ['$subtotal', 5] } } },
      ]),
    ).toEqual({ _id: 1, price: 10, qty: 3, subtotal: 30, total: 35 });
  });
});

describe('results and errors', () => {
  it('updateMany matching nothing reports zero matched and modified', async () => {
    const coll = ctx.freshCollection('res');
    await coll.insertOne({ _id: 1, a: 1 } as Document);
    expect(await coll.updateMany({ a: 2 }, { $set: { b: 1 } })).toEqual({
      acknowledged: true,
      matchedCount: 0,
      modifiedCount: 0,
      upsertedCount: 0,
      upsertedId: null,
    });
    expect(await coll.findOne({})).toEqual({ _id: 1, a: 1 });
  });

  it('a no-op update reports modifiedCount 0', async () => {
    const coll = ctx.freshCollection('res');
    await coll.insertOne({ _id: 1, a: 1, b: 5, arr: [1, 2] } as Document);
    const result = await coll.updateOne(
      { _id: 1 } as Document,
      { $set: { a: 1 }, $addToSet: { arr: 2 }, $max: { b: 0 }, $unset: { none: '' } },
    );
    expect(result.matchedCount).toBe(1);
    expect(result.modifiedCount).toBe(0);
  });

  it('$inc on a string fails with code 14 TypeMismatch', async () => {
    const error = await writeErrorOf({ _id: 1, a: 'text' }, { $inc: { a: 1 } });
    expect(error).toEqual({
      index: 0,
      code: 14,
      errmsg:
        "Cannot apply $inc to a value of non-numeric type. {_id: 1} has the field 'a' of non-numeric type string",
    });
  });

  it('$inc on a string fails through the driver too, leaving the document alone', async () => {
    const coll = ctx.freshCollection('res');
    await coll.insertOne({ _id: 1, a: 'text' } as Document);
    const error = await rejectionOf(coll.updateOne({ _id: 1 } as Document, { $inc: { a: 1 } }));
    expect(error).toBeInstanceOf(MongoServerError);
    expect(error.code).toBe(14);
    expect(await coll.findOne({})).toEqual({ _id: 1, a: 'text' });
  });

  it('$inc with a non-numeric amount fails with code 14 TypeMismatch', async () => {
    const error = await writeErrorOf({ _id: 1, a: 1 }, { $inc: { a: 'x' } });
    expect(error.code).toBe(14);
    expect(error.errmsg).toBe('Cannot increment with non-numeric argument: {a: "x"}');
  });

  it('$set of _id fails with code 66 ImmutableField', async () => {
    const error = await writeErrorOf({ _id: 1, a: 1 }, { $set: { _id: 2 } });
    expect(error.index).toBe(0);
    expect(error.code).toBe(66);
    expect(error.errmsg).toMatch(/would modify the immutable field '_id'$/);
  });

  it('an unknown update operator fails with code 9 FailedToParse', async () => {
    const error = await writeErrorOf({ _id: 1, a: 1 }, { $foo: { a: 1 } });
    expect(error).toEqual({
      index: 0,
      code: 9,
      errmsg:
        'Unknown modifier: $foo. Expected a valid update modifier or pipeline-style update specified as an array',
    });
  });

  it('two operators on the same path fail with code 40 ConflictingUpdateOperators', async () => {
    const error = await writeErrorOf({ _id: 1, a: 1 }, { $set: { a: 2 }, $inc: { a: 1 } });
    expect(error).toEqual({
      index: 0,
      code: 40,
      errmsg: "Updating the path 'a' would create a conflict at 'a'",
    });
  });

  it('stops an ordered multi-statement update at the failing statement', async () => {
    const coll = ctx.freshCollection('res');
    await coll.insertMany([{ _id: 1, a: 1 }, { _id: 2, a: 'x' }, { _id: 3, a: 3 }] as Document[]);
    const reply = await ctx.db.command({
      update: coll.collectionName,
      updates: [
        { q: { _id: 1 }, u: { $inc: { a: 1 } } },
        { q: { _id: 2 }, u: { $inc: { a: 1 } } },
        { q: { _id: 3 }, u: { $inc: { a: 1 } } },
      ],
    });
    expect(reply.n).toBe(1);
    expect(reply.nModified).toBe(1);
    expect(reply.writeErrors.map((e: Document) => [e.index, e.code])).toEqual([[1, 14]]);
    expect(await coll.find({}).sort({ _id: 1 }).toArray()).toEqual([
      { _id: 1, a: 2 },
      { _id: 2, a: 'x' },
      { _id: 3, a: 3 },
    ]);
  });
});
