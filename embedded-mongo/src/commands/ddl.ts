// Collection and index commands: create, drop, dropDatabase, renameCollection, listCollections,
// createIndexes, listIndexes, dropIndexes.
import { UUID } from 'bson';
import { isPlainDocument, keyOf, toNumber, type Doc } from '../bson-values.ts';
import { MongoCommandError } from '../errors.ts';
import { compileFilterChecked } from '../query/find.ts';
import { ID_INDEX_NAME, type Collection } from '../storage/catalog.ts';
import type { IndexSpec } from '../storage/collection-index.ts';
import { collectionName, documentArg, namespaceOf, type CommandContext, type CommandDefinition } from './context.ts';

const UNSUPPORTED_CREATE_OPTIONS = ['viewOn', 'timeseries', 'clusteredIndex', 'encryptedFields'];

function create(command: Doc, ctx: CommandContext): Doc {
  const name = collectionName(command, 'create');
  for (const option of UNSUPPORTED_CREATE_OPTIONS) {
    if (option in command) throw new MongoCommandError('NotImplemented', `create with '${option}' is not supported by embedded-mongo`);
  }
  const { storage } = ctx.server;
  const options: Doc = {};
  for (const [k, v] of Object.entries(command)) {
    if (k !== 'create' && !k.startsWith('$') && k !== 'lsid' && k !== 'writeConcern') options[k] = v;
  }
  const existing = storage.collection(ctx.db, name);
  if (existing) {
    // Since MongoDB 7.0 creating an existing collection with identical options succeeds.
    if (keyOf(existing.options) === keyOf(options)) return { ok: 1 };
    throw new MongoCommandError('NamespaceExists', `Collection ${namespaceOf(ctx, name)} already exists with different options.`);
  }
  storage.getOrCreate(ctx.db, name, options);
  return { ok: 1 };
}

function drop(command: Doc, ctx: CommandContext): Doc {
  const name = collectionName(command, 'drop');
  const { storage } = ctx.server;
  const collection = storage.collection(ctx.db, name);
  // Since MongoDB 7.0 dropping a missing collection succeeds.
  if (!collection) return { ok: 1 };
  const nIndexesWas = collection.indexes.size;
  storage.dropCollection(ctx.db, name);
  return { nIndexesWas, ns: namespaceOf(ctx, name), ok: 1 };
}

function dropDatabase(_command: Doc, ctx: CommandContext): Doc {
  ctx.server.storage.dropDatabase(ctx.db);
  return { dropped: ctx.db, ok: 1 };
}

function splitNamespace(value: unknown, field: string): [string, string] {
  if (typeof value !== 'string' || !value.includes('.')) {
    throw new MongoCommandError('InvalidNamespace', `Invalid ${field} namespace: ${String(value)}`);
  }
  const dot = value.indexOf('.');
  return [value.slice(0, dot), value.slice(dot + 1)];
}

function renameCollection(command: Doc, ctx: CommandContext): Doc {
  if (ctx.db !== 'admin') throw new MongoCommandError('Unauthorized', 'renameCollection may only be run against the admin database.');
  const [db, name] = splitNamespace(command.renameCollection, 'source');
  const [toDb, toName] = splitNamespace(command.to, 'target');
  const { storage } = ctx.server;
  if (!storage.collection(db, name)) {
    throw new MongoCommandError('NamespaceNotFound', 'source namespace does not exist');
  }
  if (db === toDb && name === toName) throw new MongoCommandError('IllegalOperation', `Can't rename a collection to itself`);
  if (storage.collection(toDb, toName)) {
    if (command.dropTarget !== true) throw new MongoCommandError('NamespaceExists', 'target namespace exists');
    storage.dropCollection(toDb, toName);
  }
  storage.renameCollection(db, name, toDb, toName);
  return { ok: 1 };
}

const collectionUuids = new WeakMap<Collection, UUID>();

function collectionInfo(collection: Collection): Doc {
  let uuid = collectionUuids.get(collection);
  if (!uuid) collectionUuids.set(collection, (uuid = new UUID()));
  return {
    name: collection.name,
    type: 'collection',
    options: collection.options,
    info: { readOnly: false, uuid },
    idIndex: { v: 2, key: { _id: 1 }, name: ID_INDEX_NAME },
  };
}

function listCollections(command: Doc, ctx: CommandContext): Doc {
  const matches = compileFilterChecked(documentArg(command, 'filter'));
  const nameOnly = command.nameOnly === true;
  const infos = ctx.server.storage
    .collections(ctx.db)
    .map(collectionInfo)
    .filter(matches)
    .map((info) => (nameOnly ? { name: info.name, type: info.type } : info));
  const ns = namespaceOf(ctx, '$cmd.listCollections');
  const batch = ctx.server.cursors.open(ns, infos, undefined);
  return { cursor: { id: batch.id, ns, firstBatch: batch.docs }, ok: 1 };
}

const INDEX_OPTIONS = ['unique', 'sparse', 'partialFilterExpression', 'expireAfterSeconds', 'collation', 'hidden', 'weights', 'default_language', 'textIndexVersion', '2dsphereIndexVersion', 'bits', 'min', 'max', 'wildcardProjection'];

/** Index specs equal in every option that matters (order of options does not). */
function sameOptions(a: IndexSpec, b: IndexSpec): boolean {
  return INDEX_OPTIONS.every((option) => keyOf(a[option] ?? null) === keyOf(b[option] ?? null));
}

function parseIndexSpec(raw: unknown): IndexSpec {
  if (!isPlainDocument(raw) || !isPlainDocument(raw.key) || Object.keys(raw.key).length === 0) {
    throw new MongoCommandError('FailedToParse', `The 'key' field of an index specification must be a non-empty object`);
  }
  if (typeof raw.name !== 'string' || raw.name.length === 0) {
    throw new MongoCommandError('FailedToParse', `The index name must be a non-empty string`);
  }
  for (const [field, dir] of Object.entries(raw.key)) {
    const ok = typeof dir === 'string' || (Number.isFinite(toNumber(dir)) && toNumber(dir) !== 0);
    if (!ok) throw new MongoCommandError('BadValue', `Values in the index key pattern can only be numbers or strings; got ${String(dir)} for ${field}`);
  }
  if (raw.expireAfterSeconds !== undefined) {
    const seconds = toNumber(raw.expireAfterSeconds);
    if (!Number.isFinite(seconds) || seconds < 0) {
      throw new MongoCommandError('InvalidOptions', 'TTL index \'expireAfterSeconds\' option must be within an acceptable range');
    }
  }
  if (raw.partialFilterExpression !== undefined) {
    if (!isPlainDocument(raw.partialFilterExpression)) throw new MongoCommandError('TypeMismatch', 'partialFilterExpression must be an object');
    compileFilterChecked(raw.partialFilterExpression);
  }
  const spec: IndexSpec = { v: 2, key: raw.key as IndexSpec['key'], name: raw.name };
  for (const [k, v] of Object.entries(raw)) if (k !== 'key' && k !== 'name' && k !== 'v' && k !== 'ns') spec[k] = v;
  return spec;
}

function createIndexes(command: Doc, ctx: CommandContext): Doc {
  const name = collectionName(command, 'createIndexes');
  if (!Array.isArray(command.indexes) || command.indexes.length === 0) {
    throw new MongoCommandError('BadValue', 'Must specify at least one index to create');
  }
  const specs = command.indexes.map(parseIndexSpec);
  const { storage } = ctx.server;
  const existed = storage.collection(ctx.db, name) !== undefined;
  const collection = storage.getOrCreate(ctx.db, name);
  const numIndexesBefore = collection.indexes.size;
  let created = 0;
  for (const spec of specs) {
    const byName = collection.indexes.get(spec.name);
    if (byName) {
      if (keyOf(byName.spec.key) === keyOf(spec.key) && sameOptions(byName.spec, spec)) continue;
      throw new MongoCommandError(
        keyOf(byName.spec.key) === keyOf(spec.key) ? 'IndexOptionsConflict' : 'IndexKeySpecsConflict',
        `An existing index has the same name as the requested index. When index names are not specified, they are auto generated and can cause conflicts. Please refer to our documentation. Requested index: ${JSON.stringify(spec)}, existing index: ${JSON.stringify(byName.spec)}`,
      );
    }
    const byKey = [...collection.indexes.values()].find((i) => keyOf(i.spec.key) === keyOf(spec.key));
    if (byKey && sameOptions(byKey.spec, spec)) {
      throw new MongoCommandError('IndexOptionsConflict', `Index already exists with a different name: ${byKey.name}`);
    }
    storage.createIndex(collection, spec);
    created++;
  }
  if (created === 0) return { numIndexesBefore, numIndexesAfter: numIndexesBefore, note: 'all indexes already exist', ok: 1 };
  return { numIndexesBefore, numIndexesAfter: collection.indexes.size, createdCollectionAutomatically: !existed, ok: 1 };
}

function listIndexes(command: Doc, ctx: CommandContext): Doc {
  const name = collectionName(command, 'listIndexes');
  const collection = ctx.server.storage.collection(ctx.db, name);
  if (!collection) throw new MongoCommandError('NamespaceNotFound', `ns does not exist: ${namespaceOf(ctx, name)}`);
  const specs = [...collection.indexes.values()].map((i) => i.spec);
  const ns = namespaceOf(ctx, `$cmd.listIndexes.${name}`);
  const batch = ctx.server.cursors.open(ns, specs, undefined);
  return { cursor: { id: batch.id, ns, firstBatch: batch.docs }, ok: 1 };
}

function dropIndexes(command: Doc, ctx: CommandContext): Doc {
  const name = collectionName(command, 'dropIndexes');
  const { storage } = ctx.server;
  const collection = storage.collection(ctx.db, name);
  if (!collection) throw new MongoCommandError('NamespaceNotFound', `ns not found ${namespaceOf(ctx, name)}`);
  const nIndexesWas = collection.indexes.size;
  const target = command.index;
  let names: string[];
  if (target === '*') {
    names = [...collection.indexes.keys()].filter((n) => n !== ID_INDEX_NAME);
  } else if (typeof target === 'string') {
    names = [target];
  } else if (Array.isArray(target) && target.every((t) => typeof t === 'string')) {
    names = target as string[];
  } else if (isPlainDocument(target)) {
    const found = [...collection.indexes.values()].find((i) => keyOf(i.spec.key) === keyOf(target));
    if (!found) throw new MongoCommandError('IndexNotFound', `can't find index with key: ${JSON.stringify(target)}`);
    names = [found.name];
  } else {
    throw new MongoCommandError('TypeMismatch', `BSON field 'dropIndexes.index' is the wrong type`);
  }
  for (const n of names) {
    if (n === ID_INDEX_NAME) throw new MongoCommandError('InvalidOptions', 'cannot drop _id index');
    if (!collection.indexes.has(n)) throw new MongoCommandError('IndexNotFound', `index not found with name [${n}]`);
  }
  for (const n of names) storage.dropIndex(collection, n);
  return { nIndexesWas, ok: 1 };
}

export const ddlCommands: Record<string, CommandDefinition> = {
  create: { handler: create, writes: true },
  drop: { handler: drop, writes: true },
  dropDatabase: { handler: dropDatabase, writes: true },
  renameCollection: { handler: renameCollection, writes: true },
  listCollections: { handler: listCollections },
  createIndexes: { handler: createIndexes, writes: true },
  listIndexes: { handler: listIndexes },
  dropIndexes: { handler: dropIndexes, writes: true },
  deleteIndexes: { handler: dropIndexes, writes: true },
};
