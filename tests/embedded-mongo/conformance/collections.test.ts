// Conformance: creating, listing, renaming and dropping collections and databases.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MongoServerError, UUID, type Document } from 'mongodb';
import { openConformanceDb, rejectionOf, type ConformanceDb } from './conformance-db.ts';

let ctx: ConformanceDb;

beforeAll(async () => {
  ctx = await openConformanceDb();
});

afterAll(async () => {
  await ctx?.close();
});

async function collectionNames(): Promise<string[]> {
  const infos = await ctx.db.listCollections({}, { nameOnly: true }).toArray();
  return infos.map((c) => c.name).sort();
}

describe('creating and listing', () => {
  it('createCollection makes an empty collection that listCollections reports', async () => {
    const name = ctx.freshName('made');
    const coll = await ctx.db.createCollection(name);
    expect(coll.collectionName).toBe(name);
    expect(await coll.countDocuments()).toBe(0);
    const infos = await ctx.db.listCollections({ name }, { nameOnly: false }).toArray();
    expect(infos).toHaveLength(1);
    expect(infos[0].name).toBe(name);
    expect(infos[0].type).toBe('collection');
    expect(infos[0].options).toEqual({});
    expect(infos[0].info?.readOnly).toBe(false);
    expect(infos[0].info?.uuid).toBeInstanceOf(UUID);
    expect(infos[0].idIndex).toEqual({ v: 2, key: { _id: 1 }, name: '_id_' });
  });

  it('lists only names and types with nameOnly', async () => {
    const name = ctx.freshName('named');
    await ctx.db.createCollection(name);
    const infos = await ctx.db.listCollections({ name }, { nameOnly: true }).toArray();
    expect(infos).toEqual([{ name, type: 'collection' }]);
  });

  it('creates a collection implicitly on first insert', async () => {
    const name = ctx.freshName('implicit');
    expect(await collectionNames()).not.toContain(name);
    await ctx.db.collection(name).insertOne({ a: 1 });
    expect(await collectionNames()).toContain(name);
  });

  it('does not create a collection by reading from it', async () => {
    const name = ctx.freshName('readonly');
    expect(await ctx.db.collection(name).findOne({})).toBeNull();
    expect(await ctx.db.collection(name).countDocuments()).toBe(0);
    expect(await collectionNames()).not.toContain(name);
  });

  it('filters listCollections by name and by other fields', async () => {
    const a = ctx.freshName('filt');
    const b = ctx.freshName('filt');
    await ctx.db.createCollection(a);
    await ctx.db.createCollection(b);
    const byName = await ctx.db.listCollections({ name: b }, { nameOnly: true }).toArray();
    expect(byName.map((c) => c.name)).toEqual([b]);
    const byRegex = await ctx.db
      .listCollections({ name: { $in: [a, b, 'absent'] } }, { nameOnly: true })
      .toArray();
    expect(byRegex.map((c) => c.name).sort()).toEqual([a, b].sort());
    const byType = await ctx.db.listCollections({ type: 'collection', name: a }).toArray();
    expect(byType.map((c) => c.name)).toEqual([a]);
  });

  it('creating an existing collection again with the same options succeeds', async () => {
    const name = ctx.freshName('twice');
    await ctx.db.createCollection(name);
    await ctx.db.collection(name).insertOne({ keep: true });
    const reply = await ctx.db.command({ create: name });
    expect(reply).toEqual({ ok: 1 });
    expect(await ctx.db.collection(name).countDocuments()).toBe(1);
  });

  it('creating an existing collection with different options fails with code 48 NamespaceExists', async () => {
    const name = ctx.freshName('twice');
    await ctx.db.createCollection(name);
    const error = await rejectionOf(
      ctx.db.command({ create: name, validator: { a: { $exists: true } } }),
    );
    expect(error).toBeInstanceOf(MongoServerError);
    expect(error.code).toBe(48);
    expect(error.codeName).toBe('NamespaceExists');
  });
});

describe('dropping', () => {
  it('drop removes the collection, its documents and its indexes', async () => {
    const name = ctx.freshName('dropme');
    const coll = ctx.db.collection(name);
    await coll.insertMany([{ a: 1 }, { a: 2 }]);
    await coll.createIndex({ a: 1 });
    expect(await coll.drop()).toBe(true);
    expect(await collectionNames()).not.toContain(name);
    expect(await coll.countDocuments()).toBe(0);
    await coll.insertOne({ a: 3 });
    expect((await coll.listIndexes().toArray()).map((i) => i.name)).toEqual(['_id_']);
  });

  it('dropping a missing collection succeeds without throwing', async () => {
    const name = ctx.freshName('never');
    expect(await ctx.db.collection(name).drop()).toBe(true);
    expect(await ctx.db.dropCollection(name)).toBe(true);
    const reply = await ctx.db.command({ drop: name });
    expect(reply.ok).toBe(1);
  });

  it('answers the drop command with the dropped namespace and index count', async () => {
    const name = ctx.freshName('dropcmd');
    await ctx.db.collection(name).insertOne({ a: 1 });
    await ctx.db.collection(name).createIndex({ a: 1 });
    const reply = await ctx.db.command({ drop: name });
    expect(reply).toEqual({ nIndexesWas: 2, ns: `${ctx.mongo.dbName}.${name}`, ok: 1 });
  });

  it('dropDatabase removes every collection of that database only', async () => {
    const otherName = `${ctx.mongo.dbName}_gone`;
    const other = ctx.client.db(otherName);
    await other.collection('a').insertOne({ x: 1 });
    await other.collection('b').insertOne({ x: 2 });
    const survivor = ctx.freshName('survivor');
    await ctx.db.collection(survivor).insertOne({ y: 1 });

    expect(await other.dropDatabase()).toBe(true);
    expect(await other.listCollections().toArray()).toEqual([]);
    expect(await other.collection('a').countDocuments()).toBe(0);
    const dbs = await ctx.db.admin().listDatabases({ nameOnly: true });
    expect(dbs.databases.map((d) => d.name)).not.toContain(otherName);
    expect(await ctx.db.collection(survivor).countDocuments()).toBe(1);
  });
});

describe('renaming', () => {
  it('renameCollection moves the documents and the indexes', async () => {
    const from = ctx.freshName('src');
    const to = ctx.freshName('dst');
    const source = ctx.db.collection(from);
    await source.insertMany([{ _id: 1, e: 'a' }, { _id: 2, e: 'b' }] as Document[]);
    await source.createIndex({ e: 1 }, { unique: true });

    const renamed = await ctx.db.renameCollection(from, to);
    expect(renamed.collectionName).toBe(to);
    const names = await collectionNames();
    expect(names).toContain(to);
    expect(names).not.toContain(from);
    expect(await renamed.find({}).sort({ _id: 1 }).toArray()).toEqual([
      { _id: 1, e: 'a' },
      { _id: 2, e: 'b' },
    ]);
    const indexes = await renamed.listIndexes().toArray();
    expect(indexes).toEqual([
      { v: 2, key: { _id: 1 }, name: '_id_' },
      { v: 2, key: { e: 1 }, name: 'e_1', unique: true },
    ]);
    const error = await rejectionOf(renamed.insertOne({ _id: 3, e: 'a' } as Document));
    expect(error.code).toBe(11000);
  });

  it('refuses to rename onto an existing collection with code 48 NamespaceExists', async () => {
    const from = ctx.freshName('src');
    const to = ctx.freshName('dst');
    await ctx.db.collection(from).insertOne({ a: 1 });
    await ctx.db.collection(to).insertOne({ b: 1 });
    const error = await rejectionOf(ctx.db.renameCollection(from, to));
    expect(error).toBeInstanceOf(MongoServerError);
    expect(error.code).toBe(48);
    expect(error.codeName).toBe('NamespaceExists');
    expect(error.message).toBe('target namespace exists');
    expect(await ctx.db.collection(from).countDocuments()).toBe(1);
    expect(await ctx.db.collection(to).findOne({}, { projection: { _id: 0 } })).toEqual({ b: 1 });
  });

  it('replaces an existing target with dropTarget', async () => {
    const from = ctx.freshName('src');
    const to = ctx.freshName('dst');
    await ctx.db.collection(from).insertOne({ a: 1 });
    await ctx.db.collection(to).insertMany([{ b: 1 }, { b: 2 }]);
    await ctx.db.renameCollection(from, to, { dropTarget: true });
    expect(await ctx.db.collection(to).find({}, { projection: { _id: 0 } }).toArray()).toEqual([{ a: 1 }]);
    expect(await collectionNames()).not.toContain(from);
  });

  it('fails to rename a missing collection with code 26 NamespaceNotFound', async () => {
    const error = await rejectionOf(
      ctx.db.renameCollection(ctx.freshName('absent'), ctx.freshName('dst')),
    );
    expect(error).toBeInstanceOf(MongoServerError);
    expect(error.code).toBe(26);
    expect(error.codeName).toBe('NamespaceNotFound');
    expect(error.message).toMatch(/does not exist/);
  });

  it('answers renameCollection on the admin database with ok', async () => {
    const from = ctx.freshName('src');
    const to = ctx.freshName('dst');
    await ctx.db.collection(from).insertOne({ a: 1 });
    const reply = await ctx.db.admin().command({
      renameCollection: `${ctx.mongo.dbName}.${from}`,
      to: `${ctx.mongo.dbName}.${to}`,
    });
    expect(reply).toEqual({ ok: 1 });
    expect(await ctx.db.collection(to).countDocuments()).toBe(1);
  });
});

describe('listIndexes', () => {
  it('fails on a missing collection with code 26 NamespaceNotFound', async () => {
    const name = ctx.freshName('noindexes');
    const error = await rejectionOf(ctx.db.command({ listIndexes: name }));
    expect(error).toBeInstanceOf(MongoServerError);
    expect(error.code).toBe(26);
    expect(error.codeName).toBe('NamespaceNotFound');
    expect(error.message).toBe(`ns does not exist: ${ctx.mongo.dbName}.${name}`);
  });

  it('answers with a cursor on an existing collection', async () => {
    const name = ctx.freshName('withindexes');
    await ctx.db.createCollection(name);
    const reply = await ctx.db.command({ listIndexes: name });
    expect(reply.ok).toBe(1);
    expect(reply.cursor.ns).toBe(`${ctx.mongo.dbName}.$cmd.listIndexes.${name}`);
    expect(reply.cursor.firstBatch).toEqual([{ v: 2, key: { _id: 1 }, name: '_id_' }]);
  });
});
