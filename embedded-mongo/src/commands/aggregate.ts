// The aggregate command: a leading $match (and $sort/$limit) is answered through the query
// planner so it can use indexes; the remaining stages run in mingo on copies of the documents.
// A pipeline with $changeStream opens a change stream instead (change-stream-aggregate.ts).
import * as pipelineOperators from 'mingo/operators/pipeline';
import { isPlainDocument, type Doc } from '../bson-values.ts';
import { MongoCommandError } from '../errors.ts';
import { countDocumentsMatching, readDocuments, type ReadOptions } from '../query/find.ts';
import { newAggregator } from '../query/mingo-context.ts';
import { cloneDoc } from '../query/update.ts';
import { openChangeStream } from './change-stream-aggregate.ts';
import { collectionName, namespaceOf, numberArg, type CommandContext, type CommandDefinition } from './context.ts';

const UNSUPPORTED = new Set(['$out', '$merge', '$geoNear', '$search', '$listSessions']);
const KNOWN_STAGES = new Set([...Object.keys(pipelineOperators), ...UNSUPPORTED]);

/** Checks each stage as mongod does and rewrites `$count` (mingo answers 0 on no input; MongoDB answers nothing). */
function preparePipeline(pipeline: Doc[]): Doc[] {
  return pipeline.flatMap((stage) => {
    const names = Object.keys(stage);
    if (names.length !== 1) throw new MongoCommandError('Location40323', 'A pipeline stage specification object must contain exactly one field.');
    const name = names[0]!;
    if (!KNOWN_STAGES.has(name)) throw new MongoCommandError('Location40324', `Unrecognized pipeline stage name: '${name}'`);
    if (UNSUPPORTED.has(name)) throw new MongoCommandError('NotImplemented', `${name} is not supported by embedded-mongo`);
    if (name === '$group' && !(isPlainDocument(stage.$group) && '_id' in stage.$group)) {
      throw new MongoCommandError('Location15955', 'a group specification must include an _id');
    }
    if (name === '$count' && typeof stage.$count === 'string') {
      return [{ $group: { _id: null, [stage.$count]: { $sum: 1 } } }, { $project: { _id: 0 } }];
    }
    return [stage];
  });
}

/**
 * The shape of the driver's countDocuments — [$skip], [$limit], then a $group of everything
 * under one constant _id summing 1 — as { skip, limit, _id, field }; otherwise undefined.
 */
function countingStages(stages: Doc[]): { skip: number; limit: number; id: unknown; field: string } | undefined {
  let rest = stages;
  let skip = 0;
  let limit = 0;
  if (rest[0] && typeof rest[0].$skip === 'number' && Object.keys(rest[0]).length === 1) [skip, rest] = [rest[0].$skip, rest.slice(1)];
  if (rest[0] && typeof rest[0].$limit === 'number' && Object.keys(rest[0]).length === 1) [limit, rest] = [rest[0].$limit, rest.slice(1)];
  if (rest.length !== 1 || skip < 0 || limit < 0) return undefined;
  const group = rest[0]!.$group;
  if (!isPlainDocument(group)) return undefined;
  const { _id: id, ...accumulators } = group;
  const constantId = id === null || typeof id === 'number' || typeof id === 'boolean' || (typeof id === 'string' && !id.startsWith('$'));
  const fields = Object.entries(accumulators);
  if (!constantId || fields.length !== 1) return undefined;
  const [field, accumulator] = fields[0]!;
  if (!isPlainDocument(accumulator) || Object.keys(accumulator).length !== 1 || accumulator.$sum !== 1) return undefined;
  return { skip, limit, id, field };
}

function aggregate(command: Doc, ctx: CommandContext): Doc {
  const pipeline = command.pipeline;
  if (!Array.isArray(pipeline) || !pipeline.every(isPlainDocument)) {
    throw new MongoCommandError('TypeMismatch', `'pipeline' option must be specified as an array`);
  }
  const cursorOptions = isPlainDocument(command.cursor) ? command.cursor : {};
  if (pipeline.some((stage) => '$changeStream' in stage)) return openChangeStream(command, pipeline, numberArg(cursorOptions, 'batchSize'), ctx);
  const stages = preparePipeline(pipeline);
  // {aggregate: 1} runs collection-less stages ($currentOp, $documents …): nothing to read here.
  const name = command.aggregate === 1 ? undefined : collectionName(command, 'aggregate');
  const ns = namespaceOf(ctx, name ?? '$cmd.aggregate');
  const { storage } = ctx.server;

  const read: ReadOptions = {};
  let rest = stages;
  const first = rest[0];
  if (first && '$match' in first && isPlainDocument(first.$match)) {
    read.filter = first.$match;
    rest = rest.slice(1);
  }
  const next = rest[0];
  if (next && '$sort' in next && isPlainDocument(next.$sort)) {
    read.sort = next.$sort;
    rest = rest.slice(1);
    const limit = rest[0];
    if (limit && '$limit' in limit && typeof limit.$limit === 'number') {
      read.limit = limit.$limit;
      rest = rest.slice(1);
    }
  }
  read.hint = command.hint;
  const collection = name === undefined ? undefined : storage.collection(ctx.db, name);

  // A count (countDocuments) needs no copies of the documents, often not even the documents.
  const counting = read.sort === undefined && name !== undefined ? countingStages(rest) : undefined;
  if (counting) {
    const { n } = countDocumentsMatching(collection, { filter: read.filter, skip: counting.skip, limit: counting.limit, hint: read.hint });
    const batch = ctx.server.cursors.open(ns, n > 0 ? [{ _id: counting.id, [counting.field]: n }] : [], numberArg(cursorOptions, 'batchSize'));
    return { cursor: { firstBatch: batch.docs, id: batch.id, ns }, ok: 1 };
  }

  const { docs } = readDocuments(collection, read);

  let results: Doc[];
  if (rest.length === 0) {
    results = docs;
  } else {
    const foreign = new Map<string, Doc[]>();
    const aggregator = newAggregator(rest, {
      collectionResolver: (other: string) => {
        let docsOf = foreign.get(other);
        if (!docsOf) {
          docsOf = [...(storage.collection(ctx.db, other)?.docs.values() ?? [])].map(cloneDoc);
          foreign.set(other, docsOf);
        }
        return docsOf;
      },
    });
    try {
      results = aggregator.run(docs.map(cloneDoc)) as Doc[];
    } catch (error) {
      throw new MongoCommandError('BadValue', (error as Error).message);
    }
  }
  const batch = ctx.server.cursors.open(ns, results, numberArg(cursorOptions, 'batchSize'));
  return { cursor: { firstBatch: batch.docs, id: batch.id, ns }, ok: 1 };
}

export const aggregateCommands: Record<string, CommandDefinition> = {
  aggregate: { handler: aggregate },
};
