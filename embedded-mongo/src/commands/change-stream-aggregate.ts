// aggregate with $changeStream: checks where the stream may be opened (as mongod does) and opens
// a tailable cursor over the change history for a collection, a database or the whole cluster.
import { isPlainDocument, type Doc } from '../bson-values.ts';
import { MongoCommandError } from '../errors.ts';
import { ChangeStreamReader, type ChangeStreamScope } from '../query/change-stream.ts';
import { collectionName, typeLabel, type CommandContext } from './context.ts';

const INTERNAL_DATABASES = new Set(['admin', 'config', 'local']);

function scopeOf(command: Doc, spec: Doc, ctx: CommandContext): ChangeStreamScope {
  const { db } = ctx;
  const coll = command.aggregate === 1 ? undefined : collectionName(command, 'aggregate');
  if (spec.allChangesForCluster === true) {
    if (db !== 'admin' || coll !== undefined) {
      throw new MongoCommandError(
        'InvalidOptions',
        `A $changeStream with 'allChangesForCluster:true' may only be opened on the 'admin' database, and with no collection name; found ${db}.${coll ?? '$cmd.aggregate'}`,
      );
    }
    return { kind: 'cluster' };
  }
  if (INTERNAL_DATABASES.has(db)) throw new MongoCommandError('InvalidNamespace', `$changeStream may not be opened on the internal ${db} database`);
  if (coll === undefined) return { kind: 'database', db };
  if (coll.startsWith('system.')) throw new MongoCommandError('InvalidNamespace', `$changeStream may not be opened on the internal ${db}.${coll} collection`);
  return { kind: 'collection', db, coll };
}

export function openChangeStream(command: Doc, pipeline: Doc[], batchSize: number | undefined, ctx: CommandContext): Doc {
  const replication = ctx.server.replication;
  if (!replication) throw new MongoCommandError('Location40573', 'The $changeStream stage is only supported on replica sets');
  const [first, ...stages] = pipeline;
  if (!first || !('$changeStream' in first)) throw new MongoCommandError('Location40602', '$changeStream is only valid as the first stage in a pipeline');
  const spec = first.$changeStream;
  if (!isPlainDocument(spec)) {
    throw new MongoCommandError('TypeMismatch', `BSON field '$changeStream' is the wrong type '${typeLabel(spec)}', expected type 'object'`);
  }
  const scope = scopeOf(command, spec, ctx);
  const { storage } = ctx.server;
  const reader = new ChangeStreamReader({
    history: replication.history,
    scope,
    spec,
    stages,
    lookup: (db, coll, id) => storage.collection(db, coll)?.findById(id),
  });
  const ns = scope.kind === 'collection' ? `${scope.db}.${scope.coll}` : `${ctx.db}.$cmd.aggregate`;
  const batch = ctx.server.cursors.openTailable(ns, reader, batchSize);
  const reply: Doc = { cursor: { firstBatch: batch.docs, ...batch.extra, id: batch.id, ns }, ok: 1 };
  const startsNow = spec.resumeAfter === undefined && spec.startAfter === undefined && spec.startAtOperationTime === undefined;
  // The driver resumes a stream that has seen no event with startAtOperationTime = this
  // operationTime: it must be later than every write so far and no later than the next one.
  if (startsNow) reply.operationTime = replication.history.clock.peekNext();
  return reply;
}
