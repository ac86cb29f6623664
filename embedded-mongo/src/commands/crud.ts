// Document commands: insert, find, getMore, killCursors, update, delete, findAndModify, count, distinct.
import { ObjectId } from 'bson';
import { isPlainDocument, keyOf, valuesAtPath, type Doc } from '../bson-values.ts';
import type { Batch } from '../cursors.ts';
import { MongoCommandError } from '../errors.ts';
import { countDocumentsMatching, projector, readDocuments } from '../query/find.ts';
import { applyUpdate, buildUpsert, idFirst, isOperatorUpdate, validateId } from '../query/update.ts';
import {
  collectionName,
  documentArg,
  namespaceOf,
  numberArg,
  type CommandContext,
  type CommandDefinition,
} from './context.ts';

function writeError(index: number, error: unknown): Doc {
  if (error instanceof MongoCommandError) {
    // mongod's order: extra details (keyPattern, keyValue, errInfo) follow the message.
    return { index, code: error.code, errmsg: error.message, ...error.extra };
  }
  return { index, code: 1, errmsg: (error as Error).message };
}

function statementsArg(command: Doc, key: string): Doc[] {
  const list = command[key];
  if (!Array.isArray(list) || !list.every(isPlainDocument)) {
    throw new MongoCommandError('TypeMismatch', `BSON field '${key}' is the wrong type, expected an array of objects`);
  }
  return list;
}

function insert(command: Doc, ctx: CommandContext): Doc {
  const name = collectionName(command, 'insert');
  const docs = statementsArg(command, 'documents');
  const ordered = command.ordered !== false;
  const { storage } = ctx.server;
  const collection = storage.getOrCreate(ctx.db, name);
  const writeErrors: Doc[] = [];
  let n = 0;
  for (let i = 0; i < docs.length; i++) {
    try {
      const doc = idFirst('_id' in docs[i]! ? docs[i]! : { _id: new ObjectId(), ...docs[i] });
      validateId(doc);
      storage.insert(collection, doc);
      n++;
    } catch (error) {
      writeErrors.push(writeError(i, error));
      if (ordered) break;
    }
  }
  return writeErrors.length > 0 ? { n, writeErrors, ok: 1 } : { n, ok: 1 };
}

export function projectedBatches(docs: Doc[], projection: unknown, filter: Doc): Iterable<Doc> {
  if (!isPlainDocument(projection) || Object.keys(projection).length === 0) return docs;
  const project = projector(projection, filter);
  return (function* () {
    for (let i = 0; i < docs.length; i += 101) yield* project(docs.slice(i, i + 101));
  })();
}

function find(command: Doc, ctx: CommandContext): Doc {
  const name = collectionName(command, 'find');
  const filter = documentArg(command, 'filter');
  const limit = numberArg(command, 'limit') ?? 0;
  const { docs } = readDocuments(ctx.server.storage.collection(ctx.db, name), {
    filter,
    sort: documentArg(command, 'sort'),
    skip: numberArg(command, 'skip'),
    limit,
    hint: command.hint,
  });
  const ns = namespaceOf(ctx, name);
  const batchSize = numberArg(command, 'batchSize');
  const single = command.singleBatch === true || limit < 0;
  const noTimeout = command.noCursorTimeout === true;
  const batch = ctx.server.cursors.open(ns, projectedBatches(docs, command.projection, filter), batchSize, single, noTimeout);
  return { cursor: { firstBatch: batch.docs, id: batch.id, ns }, ok: 1 };
}

/** The collection a cursor command names: also `$cmd.aggregate` and the like, for cursors of collection-less commands. */
function cursorCollection(command: Doc, key: string): string {
  const value = command[key];
  return typeof value === 'string' && value.startsWith('$cmd.') ? value : collectionName(command, key);
}

function getMore(command: Doc, ctx: CommandContext): Doc | Promise<Doc> {
  const name = cursorCollection(command, 'collection');
  const ns = namespaceOf(ctx, name);
  const reply = (batch: Batch): Doc => ({ cursor: { nextBatch: batch.docs, ...batch.extra, id: batch.id, ns }, ok: 1 });
  const batch = ctx.server.cursors.getMore(command.getMore, ns, numberArg(command, 'batchSize'), {
    maxTimeMS: numberArg(command, 'maxTimeMS'),
    signal: ctx.connectionClosed,
  });
  return batch instanceof Promise ? batch.then(reply) : reply(batch);
}

function killCursors(command: Doc, ctx: CommandContext): Doc {
  cursorCollection(command, 'killCursors');
  const ids = Array.isArray(command.cursors) ? command.cursors : [];
  const { killed, notFound } = ctx.server.cursors.kill(ids);
  return { cursorsKilled: killed, cursorsNotFound: notFound, cursorsAlive: [], cursorsUnknown: [], ok: 1 };
}

/** What a change stream calls a write of this update: a replacement document replaces. */
function changeKind(u: Doc | Doc[]): 'update' | 'replace' {
  return Array.isArray(u) || isOperatorUpdate(u) ? 'update' : 'replace';
}

function updateArg(statement: Doc): Doc | Doc[] {
  const u = statement.u;
  if (Array.isArray(u) && u.every(isPlainDocument)) return u;
  if (isPlainDocument(u)) return u;
  throw new MongoCommandError('FailedToParse', 'Update argument must be either an object or an array');
}

function update(command: Doc, ctx: CommandContext): Doc {
  const name = collectionName(command, 'update');
  const statements = statementsArg(command, 'updates');
  const ordered = command.ordered !== false;
  const { storage } = ctx.server;
  const writeErrors: Doc[] = [];
  const upserted: Doc[] = [];
  let n = 0;
  let nModified = 0;
  for (let i = 0; i < statements.length; i++) {
    const s = statements[i]!;
    try {
      const filter = documentArg(s, 'q');
      const u = updateArg(s);
      const arrayFilters = Array.isArray(s.arrayFilters) ? (s.arrayFilters as Doc[]) : undefined;
      const collection = storage.collection(ctx.db, name);
      const { docs } = readDocuments(collection, { filter, limit: s.multi === true ? 0 : 1, hint: s.hint });
      if (docs.length === 0) {
        if (s.upsert === true) {
          const doc = buildUpsert(filter, u, arrayFilters);
          storage.insert(storage.getOrCreate(ctx.db, name), doc);
          upserted.push({ index: i, _id: doc._id });
          n++;
        }
        continue;
      }
      if (s.multi === true && !Array.isArray(u) && !Object.keys(u)[0]?.startsWith('$')) {
        throw new MongoCommandError('FailedToParse', 'multi update is not supported for replacement-style update');
      }
      for (const doc of docs) {
        const next = applyUpdate(doc, u, { filter, arrayFilters, inserting: false });
        n++;
        if (keyOf(next) !== keyOf(doc)) {
          storage.replace(collection!, doc, next, changeKind(u));
          nModified++;
        }
      }
    } catch (error) {
      writeErrors.push(writeError(i, error));
      if (ordered) break;
    }
  }
  const reply: Doc = { n, nModified };
  if (upserted.length > 0) reply.upserted = upserted;
  if (writeErrors.length > 0) reply.writeErrors = writeErrors;
  reply.ok = 1;
  return reply;
}

function deleteCommand(command: Doc, ctx: CommandContext): Doc {
  const name = collectionName(command, 'delete');
  const statements = statementsArg(command, 'deletes');
  const ordered = command.ordered !== false;
  const { storage } = ctx.server;
  const writeErrors: Doc[] = [];
  let n = 0;
  for (let i = 0; i < statements.length; i++) {
    const s = statements[i]!;
    try {
      const collection = storage.collection(ctx.db, name);
      const limit = numberArg(s, 'limit') ?? 0;
      const { docs } = readDocuments(collection, { filter: documentArg(s, 'q'), limit: limit === 1 ? 1 : 0, hint: s.hint });
      for (const doc of docs) {
        storage.remove(collection!, doc);
        n++;
      }
    } catch (error) {
      writeErrors.push(writeError(i, error));
      if (ordered) break;
    }
  }
  return writeErrors.length > 0 ? { n, writeErrors, ok: 1 } : { n, ok: 1 };
}

function findAndModify(command: Doc, ctx: CommandContext): Doc {
  const name = collectionName(command, Object.keys(command)[0]!);
  const filter = documentArg(command, 'query');
  const { storage } = ctx.server;
  const collection = storage.collection(ctx.db, name);
  const [doc] = readDocuments(collection, { filter, sort: documentArg(command, 'sort'), limit: 1, hint: command.hint }).docs;
  const project = projector(command.fields, filter);
  const shown = (d: Doc | undefined) => (d === undefined ? null : project([d])[0] ?? null);
  if (command.remove === true) {
    if (command.update !== undefined) throw new MongoCommandError('FailedToParse', 'Cannot specify both an update and remove=true');
    if (!doc) return { lastErrorObject: { n: 0 }, value: null, ok: 1 };
    storage.remove(collection!, doc);
    return { lastErrorObject: { n: 1 }, value: shown(doc), ok: 1 };
  }
  if (command.update === undefined) throw new MongoCommandError('FailedToParse', 'Either an update or remove=true must be specified');
  const u = updateArg({ u: command.update });
  const arrayFilters = Array.isArray(command.arrayFilters) ? (command.arrayFilters as Doc[]) : undefined;
  if (doc) {
    const next = applyUpdate(doc, u, { filter, arrayFilters, inserting: false });
    if (keyOf(next) !== keyOf(doc)) storage.replace(collection!, doc, next, changeKind(u));
    return { lastErrorObject: { n: 1, updatedExisting: true }, value: shown(command.new === true ? next : doc), ok: 1 };
  }
  if (command.upsert === true) {
    const created = buildUpsert(filter, u, arrayFilters);
    storage.insert(storage.getOrCreate(ctx.db, name), created);
    return {
      lastErrorObject: { n: 1, updatedExisting: false, upserted: created._id },
      value: command.new === true ? shown(created) : null,
      ok: 1,
    };
  }
  return { lastErrorObject: { n: 0, updatedExisting: false }, value: null, ok: 1 };
}

function count(command: Doc, ctx: CommandContext): Doc {
  const name = collectionName(command, 'count');
  const collection = ctx.server.storage.collection(ctx.db, name);
  const query = documentArg(command, 'query');
  const skip = numberArg(command, 'skip') ?? 0;
  const limit = Math.abs(numberArg(command, 'limit') ?? 0);
  const { n } = countDocumentsMatching(collection, { filter: query, skip, limit, hint: command.hint });
  return { n, ok: 1 };
}

function distinct(command: Doc, ctx: CommandContext): Doc {
  const name = collectionName(command, 'distinct');
  if (typeof command.key !== 'string') throw new MongoCommandError('TypeMismatch', `BSON field 'distinct.key' is missing or not a string`);
  const { docs } = readDocuments(ctx.server.storage.collection(ctx.db, name), { filter: documentArg(command, 'query') });
  const seen = new Map<string, unknown>();
  for (const doc of docs) {
    for (const value of valuesAtPath(doc, command.key)) {
      if (value === undefined) continue;
      const k = keyOf(value);
      if (!seen.has(k)) seen.set(k, value);
    }
  }
  return { values: [...seen.values()], ok: 1 };
}

export const crudCommands: Record<string, CommandDefinition> = {
  insert: { handler: insert, writes: true },
  find: { handler: find },
  getMore: { handler: getMore },
  killCursors: { handler: killCursors },
  update: { handler: update, writes: true },
  delete: { handler: deleteCommand, writes: true },
  findAndModify: { handler: findAndModify, writes: true },
  findandmodify: { handler: findAndModify, writes: true },
  count: { handler: count },
  distinct: { handler: distinct },
};
