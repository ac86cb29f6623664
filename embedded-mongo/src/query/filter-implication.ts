// Whether every document a query matches is sure to be in a sparse or partial index, so the planner
// may read that index instead of the collection. Only simple, provable cases answer yes: a wrong
// "yes" would silently drop results, a wrong "no" only costs a collection scan.
import { Bound, isPlainDocument, keyOf, typeOrder, TypeOrder, type Doc } from '../bson-values.ts';

const TYPE_NAMES: Record<string, string> = {
  1: 'double', 2: 'string', 3: 'object', 4: 'array', 5: 'binData', 6: 'undefined', 7: 'objectId', 8: 'bool',
  9: 'date', 10: 'null', 11: 'regex', 13: 'javascript', 16: 'int', 17: 'timestamp', 18: 'long', 19: 'decimal',
  [-1]: 'minKey', 127: 'maxKey',
};

type Op = [name: string, arg: unknown];

/** The operators of one field condition; a bare value is `$eq`. */
function opsOf(cond: unknown): Op[] {
  if (cond instanceof RegExp) return [['$regex', cond]];
  if (isPlainDocument(cond)) {
    const keys = Object.keys(cond);
    if (keys.length > 0 && keys.every((k) => k.startsWith('$'))) {
      // $regex and $options only mean something together: keep them as one opaque operator.
      if ('$options' in cond) {
        const rest = Object.entries(cond).filter(([k]) => k !== '$regex' && k !== '$options');
        return [...rest, ['$regex', { $regex: cond.$regex, $options: cond.$options }] as Op];
      }
      return Object.entries(cond);
    }
  }
  return [['$eq', cond]];
}

/** A scalar that equality compares exactly by value: not null, not a document, array or regex. */
function plainScalar(value: unknown): boolean {
  const t = typeOrder(value);
  return (
    t !== TypeOrder.null && t !== TypeOrder.object && t !== TypeOrder.array && t !== TypeOrder.regex &&
    t !== TypeOrder.minKey && t !== TypeOrder.maxKey && !(value instanceof Bound)
  );
}

function typeNames(arg: unknown): string[] {
  return (Array.isArray(arg) ? arg : [arg]).map((t) => TYPE_NAMES[String(t)] ?? String(t));
}

/**
 * The `$type` names a document value equal to `value` surely has. Numbers only promise 'number':
 * 5 equals an int, a double and a decimal alike.
 */
function typesOfEqualValues(value: unknown): string[] {
  if (typeof value === 'string') return ['string'];
  if (typeof value === 'boolean') return ['bool'];
  if (value instanceof Date) return ['date'];
  if (typeOrder(value) === TypeOrder.objectId) return ['objectId'];
  if (typeOrder(value) === TypeOrder.number) return ['number'];
  return [];
}

/** Whether a document holding `value` at the field (alone or as an array element) satisfies `op`. */
function valueSatisfies(value: unknown, [name, arg]: Op): boolean {
  switch (name) {
    case '$eq':
      return plainScalar(arg) && keyOf(arg) === keyOf(value);
    case '$in':
      // mingo compares $in members its own way; only strings and booleans are unambiguous.
      return (
        (typeof value === 'string' || typeof value === 'boolean') && Array.isArray(arg) &&
        arg.some((a) => typeof a === typeof value && a === value)
      );
    case '$exists':
      return Boolean(arg);
    case '$type': {
      const have = typesOfEqualValues(value);
      return typeNames(arg).some((t) => have.includes(t));
    }
    case '$gt':
    case '$gte':
    case '$lt':
    case '$lte': {
      // Strings and dates compare the same way in every engine; numbers come in several BSON types.
      const comparable = (typeof value === 'string' && typeof arg === 'string') || (value instanceof Date && arg instanceof Date);
      if (!comparable) return false;
      const a = value instanceof Date ? value.getTime() : value;
      const b = arg instanceof Date ? arg.getTime() : arg;
      if (name === '$gt') return a > b;
      if (name === '$gte') return a >= b;
      if (name === '$lt') return a < b;
      return a <= b;
    }
    default:
      return false;
  }
}

/** Whether one query operator on a field guarantees one filter operator on the same field. */
function opImplies(query: Op, wanted: Op, topLevelPath: boolean): boolean {
  const [qName, qArg] = query;
  const [wName, wArg] = wanted;
  // The same predicate, evaluated by the same engine.
  if (qName === wName && keyOf(qArg) === keyOf(wArg)) return true;
  if (qName === '$exists' && wName === '$exists') return Boolean(qArg) && Boolean(wArg);
  // Equality only matches documents holding the value at the path: whatever that value satisfies, they do.
  if (qName === '$eq') return plainScalar(qArg) && valueSatisfies(qArg, wanted);
  // mingo's $in walks dotted paths through nested arrays that equality does not: top level only.
  if (qName === '$in') {
    return (
      topLevelPath && Array.isArray(qArg) && qArg.length > 0 &&
      qArg.every((v) => (typeof v === 'string' || typeof v === 'boolean') && valueSatisfies(v, wanted))
    );
  }
  if (qName === '$type') {
    const have = typeNames(qArg);
    if (wName === '$type') {
      const allowed = typeNames(wArg);
      return have.every((t) => allowed.includes(t));
    }
    // A typed value is present, and for a top-level field that is all $exists asks.
    if (wName === '$exists') return Boolean(wArg) && topLevelPath && !have.includes('undefined');
  }
  return false;
}

/** Every condition the query places on `path` at its top level or inside `$and` / all branches of `$or`. */
function impliesOp(query: Doc, path: string, wanted: Op): boolean {
  for (const [key, cond] of Object.entries(query)) {
    if (key === '$and' && Array.isArray(cond)) {
      if (cond.some((part) => isPlainDocument(part) && impliesOp(part, path, wanted))) return true;
    } else if (key === '$or' && Array.isArray(cond)) {
      if (cond.length > 0 && cond.every((part) => isPlainDocument(part) && impliesOp(part, path, wanted))) return true;
    } else if (key === path) {
      if (opsOf(cond).some((op) => opImplies(op, wanted, !path.includes('.')))) return true;
    }
  }
  return false;
}

/** True when every document matching `query` also matches `filter` (false when unsure). */
export function filterImplies(query: Doc, filter: Doc): boolean {
  for (const [key, cond] of Object.entries(filter)) {
    if (key === '$and') {
      if (!Array.isArray(cond) || !cond.every((part) => isPlainDocument(part) && filterImplies(query, part))) return false;
    } else if (key === '$or') {
      if (!Array.isArray(cond) || !cond.some((part) => isPlainDocument(part) && filterImplies(query, part))) return false;
    } else if (key.startsWith('$')) {
      return false;
    } else {
      const ops = opsOf(cond);
      if (ops.length === 0 || !ops.every((op) => impliesOp(query, key, op))) return false;
    }
  }
  return true;
}
