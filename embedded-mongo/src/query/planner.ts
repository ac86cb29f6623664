// Chooses how to read a collection for a filter and sort: a point lookup by _id, an index scan
// over equality/range bounds (optionally already in sort order), or a full collection scan.
// Candidates are always re-checked against the whole filter, so a plan only affects cost — except
// that a sparse or partial index lacks some documents, so it is read only when none of those could match.
import { Bound, isPlainDocument, keyOf, typeOrder, TypeOrder, type Doc, type SortSpec } from '../bson-values.ts';
import type { Collection } from '../storage/catalog.ts';
import type { CollectionIndex, KeyBounds } from '../storage/collection-index.ts';
import { filterImplies } from './filter-implication.ts';

type FieldCondition = (
  | { kind: 'eq'; values: unknown[] }
  | { kind: 'range'; low: unknown; high: unknown; lowExclusive: boolean; highExclusive: boolean }
) & {
  /** True when index bounds built from this condition select exactly the values it matches. */
  exact: boolean;
  /** The filter's own condition object this was read from. */
  source?: unknown;
};

export interface Plan {
  /** Candidate documents; a superset of the matches. */
  docs: Iterable<Doc>;
  /** True when `docs` already come in the requested sort order. */
  sorted: boolean;
  /**
   * Set when the index bounds express the whole filter exactly, so every candidate matches: the
   * number of matches is the number of index keys in the bounds, counted without reading documents.
   */
  countKeys?: () => number;
  /** Shape for explain output. */
  stage: 'IDHACK' | 'IXSCAN' | 'COLLSCAN';
  indexName?: string;
  keyPattern?: Doc;
}

const MAX_POINTS = 200;

/** A value an index bound can use: scalars, ObjectIds, dates — not documents, arrays or regexes. */
function boundable(value: unknown): boolean {
  const t = typeOrder(value);
  return t !== TypeOrder.object && t !== TypeOrder.array && t !== TypeOrder.regex && !(value instanceof Bound);
}

function isOperatorObject(value: unknown): value is Doc {
  if (!isPlainDocument(value)) return false;
  const keys = Object.keys(value);
  return keys.length > 0 && keys.every((k) => k.startsWith('$'));
}

/** Per-field index-usable conditions from the top level of a filter (and of `$and`). */
export function indexableConditions(filter: Doc): Map<string, FieldCondition> {
  const out = new Map<string, FieldCondition>();
  const visit = (f: Doc) => {
    for (const [field, cond] of Object.entries(f)) {
      if (field === '$and' && Array.isArray(cond)) {
        for (const part of cond) if (isPlainDocument(part)) visit(part);
        continue;
      }
      if (field.startsWith('$') || out.has(field)) continue;
      const parsed = parseCondition(cond);
      if (parsed) out.set(field, { ...parsed, source: cond });
    }
  };
  visit(filter);
  return out;
}

const RANGE_OPERATORS = new Set(['$gt', '$gte', '$lt', '$lte']);

/** Equality or a range on a scalar: keys in its bounds are exactly its matches (non-multikey index). */
function exactValue(value: unknown): boolean {
  const t = typeOrder(value);
  return t !== TypeOrder.minKey && t !== TypeOrder.maxKey;
}

function parseCondition(cond: unknown): FieldCondition | undefined {
  if (!isOperatorObject(cond)) return boundable(cond) ? { kind: 'eq', values: [cond], exact: exactValue(cond) } : undefined;
  const operators = Object.keys(cond);
  const only = (...names: string[]) => operators.every((op) => names.includes(op));
  if ('$eq' in cond && boundable(cond.$eq)) return { kind: 'eq', values: [cond.$eq], exact: only('$eq') && exactValue(cond.$eq) };
  if ('$in' in cond && Array.isArray(cond.$in) && cond.$in.length > 0 && cond.$in.length <= MAX_POINTS && cond.$in.every(boundable)) {
    return { kind: 'eq', values: cond.$in, exact: only('$in') && cond.$in.every(exactValue) };
  }
  // {$all: [a, …]} holds only documents that contain a: bounds on a, the rest re-checked.
  if ('$all' in cond && Array.isArray(cond.$all) && cond.$all.length > 0 && boundable(cond.$all[0])) {
    return { kind: 'eq', values: [cond.$all[0]], exact: false };
  }
  let low: unknown;
  let high: unknown;
  let lowExclusive = false;
  let highExclusive = false;
  for (const op of ['$gt', '$gte'] as const) {
    if (op in cond && boundable(cond[op])) [low, lowExclusive] = [cond[op], op === '$gt'];
  }
  for (const op of ['$lt', '$lte'] as const) {
    if (op in cond && boundable(cond[op])) [high, highExclusive] = [cond[op], op === '$lt'];
  }
  if (low === undefined && high === undefined) return undefined;
  // Open ends stop at the edge of the value's type bracket: {$gt: 5} never reaches strings.
  const type = typeOrder(low ?? high);
  if (low !== undefined && high !== undefined && typeOrder(high) !== type) return undefined;
  // Ranges keep to one BSON type bracket, as the query operators do — except null, whose range means other things.
  const exact = operators.every((op) => RANGE_OPERATORS.has(op)) && type !== TypeOrder.null && exactValue(low ?? high);
  return { kind: 'range', low: low ?? new Bound(type, -1), high: high ?? new Bound(type, 1), lowExclusive, highExclusive, exact };
}

interface Candidate {
  index: CollectionIndex;
  bounds: KeyBounds[];
  score: number;
  sorted: boolean;
  reverse: boolean;
  /** The sort order comes from merging the scans of several equality points (mongod's SORT_MERGE). */
  merge: boolean;
  /** How many leading index fields have equality bounds. */
  eqFields: number;
  /** The index fields the bounds constrain (its leading fields). */
  boundFields: number;
}

function evaluateIndex(index: CollectionIndex, conds: Map<string, FieldCondition>, sort: SortSpec): Candidate | undefined {
  let points: KeyBounds[] = [[]];
  let score = 0;
  let eqFields = 0;
  let boundFields = 0;
  let singlePoint = true;
  for (const [path] of index.fields) {
    const cond = conds.get(path);
    if (!cond) break;
    if (cond.kind === 'eq') {
      if (points.length * cond.values.length > MAX_POINTS) break;
      if (cond.values.length > 1) singlePoint = false;
      points = points.flatMap((p) => cond.values.map((v) => [...p, { low: v, high: v }]));
      score += 2;
      eqFields++;
      boundFields++;
      continue;
    }
    // On a multikey index, different elements may satisfy each side of a range: keep one side.
    const bound = index.multikey
      ? { low: cond.low, high: new Bound(typeOrder(cond.low), 1), lowExclusive: cond.lowExclusive }
      : { low: cond.low, high: cond.high, lowExclusive: cond.lowExclusive, highExclusive: cond.highExclusive };
    points = points.map((p) => [...p, bound]);
    score += 1;
    boundFields++;
    break;
  }
  const sortOrder = sortCompatibility(index, eqFields, sort, conds);
  if (score === 0 && !sortOrder.sorted) return undefined;
  return { index, bounds: points, score, boundFields, eqFields, ...sortOrder, merge: sortOrder.sorted && !singlePoint && sort.length > 0 };
}

/**
 * Whether every field of the index that held an array is fixed to one value by the equality
 * prefix: then a document has one key in the scan and the fields after the prefix, which never
 * held arrays, are in index order — as mongod sorts on a multikey index whose sort fields are not
 * multikey paths.
 */
function arraysPinned(index: CollectionIndex, eqFields: number, conds: Map<string, FieldCondition>): boolean {
  const pinned = new Set(index.fields.slice(0, eqFields).map(([path]) => path).filter((path) => {
    const cond = conds.get(path);
    return cond?.kind === 'eq' && cond.values.length === 1;
  }));
  return [...index.multikeyPaths].every((path) => pinned.has(path));
}

/**
 * Whether scanning the index after its equality prefix yields the sort order (or its reverse). With
 * several equality points each point's scan is in that order, and merging them keeps it.
 */
function sortCompatibility(index: CollectionIndex, eqFields: number, sort: SortSpec, conds: Map<string, FieldCondition>): { sorted: boolean; reverse: boolean } {
  if (sort.length === 0) return { sorted: true, reverse: false };
  if (index.multikey && !arraysPinned(index, eqFields, conds)) return { sorted: false, reverse: false };
  const rest = index.fields.slice(eqFields);
  if (rest.length < sort.length) return { sorted: false, reverse: false };
  let reverse: boolean | undefined;
  for (let i = 0; i < sort.length; i++) {
    const [sortPath, sortDir] = sort[i]!;
    const [indexPath, indexDir] = rest[i]!;
    if (sortPath !== indexPath) return { sorted: false, reverse: false };
    const r = sortDir !== indexDir;
    if (reverse === undefined) reverse = r;
    else if (reverse !== r) return { sorted: false, reverse: false };
  }
  return { sorted: true, reverse: reverse ?? false };
}

export function planQuery(collection: Collection, filter: Doc, sort: SortSpec, hint?: unknown): Plan {
  if ('_id' in filter && boundable(filter._id) && sort.length === 0) {
    const doc = collection.docs.get(keyOf(filter._id));
    return { docs: doc ? [doc] : [], sorted: true, stage: 'IDHACK' };
  }
  const conds = indexableConditions(filter);
  let best: Candidate | undefined;
  for (const index of collection.indexes.values()) {
    if (index.isSelective && !holdsEveryMatch(index, filter, conds)) continue;
    if (hint !== undefined && !matchesHint(index, hint)) continue;
    const candidate = evaluateIndex(index, conds, sort) ??
      (hint !== undefined ? { index, bounds: [[]], score: 0, sorted: sort.length === 0, reverse: false, merge: false, boundFields: 0, eqFields: 0 } : undefined);
    if (!candidate) continue;
    if (!best || better(candidate, best)) best = candidate;
  }
  // An index that only gives the sort order is worth it; one that gives neither is not.
  if (best && (best.score > 0 || (best.sorted && sort.length > 0) || hint !== undefined)) {
    const { index, bounds, reverse } = best;
    const covered = !index.multikey && !index.isSelective && coversFilter(filter, index, best.boundFields, conds);
    return {
      docs: best.merge ? index.scanMerged(bounds, reverse, best.eqFields) : index.scan(bounds, reverse),
      sorted: best.sorted,
      ...(covered && { countKeys: () => index.countKeys(bounds) }),
      stage: 'IXSCAN',
      indexName: index.name,
      keyPattern: index.spec.key,
    };
  }
  return { docs: collection.docs.values(), sorted: sort.length === 0, stage: 'COLLSCAN' };
}

/**
 * Whether a sparse/partial index holds every document the filter can match. A sparse index leaves out
 * documents missing all its fields, so some field needs a condition that null (missing) cannot meet;
 * a partial index leaves out documents failing its filter, so the query must imply that filter.
 */
function holdsEveryMatch(index: CollectionIndex, filter: Doc, conds: Map<string, FieldCondition>): boolean {
  if (index.sparse && !index.fields.some(([path]) => excludesMissing(conds.get(path)))) return false;
  const partial = index.spec.partialFilterExpression;
  return partial === undefined || filterImplies(filter, partial);
}

function excludesMissing(cond: FieldCondition | undefined): boolean {
  if (!cond) return false;
  const values = cond.kind === 'eq' ? cond.values : [cond.low, cond.high];
  return values.every((v) => {
    const t = typeOrder(v);
    return t !== TypeOrder.null && t !== TypeOrder.minKey && t !== TypeOrder.maxKey;
  });
}

/** Whether every part of the filter is a condition the index bounds express exactly. */
function coversFilter(filter: Doc, index: CollectionIndex, boundFields: number, conds: Map<string, FieldCondition>): boolean {
  const bounded = new Set(index.fields.slice(0, boundFields).map(([path]) => path));
  const covers = (f: Doc): boolean =>
    Object.entries(f).every(([field, cond]) => {
      if (field === '$and') return Array.isArray(cond) && cond.every((part) => isPlainDocument(part) && covers(part));
      if (field.startsWith('$') || !bounded.has(field)) return false;
      const parsed = conds.get(field);
      // The condition that made the bounds must be this one (a field named twice under $and is not).
      return parsed !== undefined && parsed.exact && parsed.source === cond;
    });
  return covers(filter);
}

function better(a: Candidate, b: Candidate): boolean {
  if (a.score !== b.score) return a.score > b.score;
  if (a.sorted !== b.sorted) return a.sorted;
  // One range read in order beats merging several.
  if (a.bounds.length !== b.bounds.length) return a.bounds.length < b.bounds.length;
  return a.index.fields.length < b.index.fields.length;
}

function matchesHint(index: CollectionIndex, hint: unknown): boolean {
  if (typeof hint === 'string') return index.name === hint;
  if (isPlainDocument(hint)) return keyOf(hint) === keyOf(index.spec.key);
  return true;
}
