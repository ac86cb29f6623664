// Reading documents: plan, filter, sort, skip, limit — shared by find, count, distinct,
// findAndModify, update/delete selection and the leading $match of aggregations.
import { compareValues, parseSortSpec, sortValue, type Doc, type SortSpec } from '../bson-values.ts';
import type { Collection } from '../storage/catalog.ts';
import { compileFilter, newQuery } from './mingo-context.ts';
import { planQuery, type Plan } from './planner.ts';
import { MongoCommandError } from '../errors.ts';

export interface ReadOptions {
  filter?: Doc;
  sort?: unknown;
  skip?: number;
  /** 0 or absent: no limit. */
  limit?: number;
  hint?: unknown;
}

export interface ReadResult {
  docs: Doc[];
  plan: Plan;
  docsExamined: number;
}

export function compileFilterChecked(filter: Doc): (doc: Doc) => boolean {
  try {
    return compileFilter(filter);
  } catch (error) {
    throw new MongoCommandError('BadValue', (error as Error).message);
  }
}

/** Matching documents in result order, after skip and limit. Never returns copies: do not mutate. */
export function readDocuments(collection: Collection | undefined, options: ReadOptions): ReadResult {
  const filter = options.filter ?? {};
  const sort = parseSortSpec(options.sort);
  const matches = compileFilterChecked(filter);
  if (!collection) return { docs: [], plan: { docs: [], sorted: true, stage: 'COLLSCAN' }, docsExamined: 0 };
  const plan = planQuery(collection, filter, sort, options.hint);
  const skip = Math.max(0, options.skip ?? 0);
  const limit = Math.abs(options.limit ?? 0);
  // With the order already given, stop as soon as skip + limit matches are found.
  const wanted = plan.sorted && limit > 0 ? skip + limit : Infinity;
  let docsExamined = 0;
  let docs: Doc[] = [];
  for (const doc of plan.docs) {
    docsExamined++;
    if (!matches(doc)) continue;
    docs.push(doc);
    if (docs.length >= wanted) break;
  }
  if (!plan.sorted) docs = sortDocuments(docs, sort);
  if (skip > 0 || limit > 0) docs = docs.slice(skip, limit > 0 ? skip + limit : undefined);
  return { docs, plan, docsExamined };
}

/** Sorts by a MongoDB sort spec, computing each document's sort keys once. */
export function sortDocuments(docs: Doc[], sort: SortSpec): Doc[] {
  if (sort.length === 0) return docs;
  const keyed = docs.map((doc, i) => ({ doc, i, keys: sort.map(([path, dir]) => sortValue(doc, path, dir)) }));
  keyed.sort((a, b) => {
    for (let k = 0; k < sort.length; k++) {
      const c = compareValues(a.keys[k], b.keys[k]);
      if (c !== 0) return sort[k]![1] * c;
    }
    return a.i - b.i;
  });
  return keyed.map((k) => k.doc);
}

/** Applies a find projection (inclusion, exclusion, $slice, $elemMatch, positional `$`). */
export function projector(projection: unknown, filter: Doc = {}): (docs: Doc[]) => Doc[] {
  if (!projection || typeof projection !== 'object' || Object.keys(projection).length === 0) return (docs) => docs;
  let query;
  try {
    query = newQuery(filter);
  } catch (error) {
    throw new MongoCommandError('BadValue', (error as Error).message);
  }
  return (docs) => {
    try {
      return query.find(docs, projection as Doc).all() as Doc[];
    } catch (error) {
      throw new MongoCommandError('BadValue', (error as Error).message);
    }
  };
}
