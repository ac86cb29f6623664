// Reading documents: plan, filter, sort, skip, limit — shared by find, count, distinct,
// findAndModify, update/delete selection and the leading $match of aggregations.
import { compareValues, isPlainDocument, parseSortSpec, sortValue, type Doc, type SortSpec } from '../bson-values.ts';
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
    if (error instanceof MongoCommandError) throw error;
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

/**
 * How many documents match, after skip and limit: from the index keys alone when the plan's
 * bounds are the whole filter, else by testing the candidates (documents are never copied).
 */
export function countDocumentsMatching(collection: Collection | undefined, options: Omit<ReadOptions, 'sort'>): { n: number; plan: Plan; docsExamined: number } {
  const filter = options.filter ?? {};
  const matches = compileFilterChecked(filter);
  if (!collection) return { n: 0, plan: { docs: [], sorted: true, stage: 'COLLSCAN' }, docsExamined: 0 };
  const skip = Math.max(0, options.skip ?? 0);
  const limit = Math.abs(options.limit ?? 0);
  const clamp = (n: number) => {
    const left = Math.max(0, n - skip);
    return limit > 0 ? Math.min(left, limit) : left;
  };
  if (Object.keys(filter).length === 0 && options.hint === undefined) {
    return { n: clamp(collection.docs.size), plan: { docs: [], sorted: true, stage: 'COLLSCAN' }, docsExamined: 0 };
  }
  const plan = planQuery(collection, filter, [], options.hint);
  if (plan.countKeys) return { n: clamp(plan.countKeys()), plan, docsExamined: 0 };
  const wanted = limit > 0 ? skip + limit : Infinity;
  let docsExamined = 0;
  let n = 0;
  for (const doc of plan.docs) {
    docsExamined++;
    if (matches(doc) && ++n >= wanted) break;
  }
  return { n: clamp(n), plan, docsExamined };
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
  if (!isPlainDocument(projection) || Object.keys(projection).length === 0) return (docs) => docs;
  const entries = Object.entries(projection);
  const isSlice = (v: unknown) => isPlainDocument(v) && '$slice' in v;
  const slices = entries.filter(([, v]) => isSlice(v)) as Array<[string, Doc]>;
  const others = Object.fromEntries(entries.filter(([, v]) => !isSlice(v)));
  const inclusive = Object.entries(others).some(([k, v]) => k !== '_id' && v !== false && v !== 0);
  // A projection of only $slice (and exclusions) keeps every other field, unlike an inclusion.
  const mingoProjection = slices.length > 0 && !inclusive ? others : projection;
  let query: ReturnType<typeof newQuery> | undefined;
  try {
    if (Object.keys(mingoProjection).length > 0) query = newQuery(filter);
  } catch (error) {
    throw new MongoCommandError('BadValue', (error as Error).message);
  }
  return (docs) => {
    let out: Doc[];
    try {
      out = query ? (query.find(docs, mingoProjection).all() as Doc[]) : docs.map((d) => ({ ...d }));
    } catch (error) {
      throw new MongoCommandError('BadValue', (error as Error).message);
    }
    if (mingoProjection !== projection) for (const doc of out) for (const [path, spec] of slices) sliceAt(doc, path, spec.$slice);
    // mongod returns fields in document order, whatever order the projection named them in.
    return out.map((doc, i) => reorderLike(doc, docs[i]) as Doc);
  };
}

function sliceAt(doc: Doc, path: string, spec: unknown): void {
  const parts = path.split('.');
  let current: Doc = doc;
  for (const part of parts.slice(0, -1)) {
    if (!isPlainDocument(current[part])) return;
    current = current[part] = { ...(current[part] as Doc) };
  }
  const last = parts[parts.length - 1]!;
  const value = current[last];
  if (!Array.isArray(value)) return;
  if (Array.isArray(spec)) {
    const [skip, limit] = spec.map(Number) as [number, number];
    const start = skip < 0 ? Math.max(0, value.length + skip) : skip;
    current[last] = value.slice(start, start + limit);
  } else {
    const n = Number(spec);
    current[last] = n >= 0 ? value.slice(0, n) : value.slice(n);
  }
}

function reorderLike(result: unknown, original: unknown): unknown {
  if (!isPlainDocument(result) || !isPlainDocument(original)) return result;
  const out: Doc = {};
  for (const key of Object.keys(original)) if (key in result) out[key] = reorderLike(result[key], original[key]);
  for (const key of Object.keys(result)) if (!(key in out)) out[key] = result[key];
  return out;
}
