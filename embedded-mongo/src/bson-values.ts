// BSON value semantics mingo does not give us: MongoDB's cross-type comparison order, canonical
// equality keys (for _id lookup and unique indexes), and dotted-path value extraction.

export type Doc = Record<string, unknown>;

/** MongoDB's canonical type order for comparisons (missing and undefined rank with null). */
export const TypeOrder = {
  minKey: 1,
  null: 2,
  number: 3,
  string: 4,
  object: 5,
  array: 6,
  binData: 7,
  objectId: 8,
  bool: 9,
  date: 10,
  timestamp: 11,
  regex: 12,
  code: 13,
  maxKey: 14,
} as const;

function bsonTypeName(value: object): string | undefined {
  const tag = (value as { _bsontype?: unknown })._bsontype;
  return typeof tag === 'string' ? tag : undefined;
}

export function typeOrder(value: unknown): number {
  if (value === null || value === undefined) return TypeOrder.null;
  switch (typeof value) {
    case 'number':
    case 'bigint':
      return TypeOrder.number;
    case 'string':
      return TypeOrder.string;
    case 'boolean':
      return TypeOrder.bool;
    case 'object':
      break;
    default:
      return TypeOrder.object;
  }
  if (Array.isArray(value)) return TypeOrder.array;
  if (value instanceof Date) return TypeOrder.date;
  if (value instanceof RegExp) return TypeOrder.regex;
  if (value instanceof Uint8Array) return TypeOrder.binData;
  if (value instanceof Bound) return value.type;
  switch (bsonTypeName(value)) {
    case 'ObjectId':
      return TypeOrder.objectId;
    case 'Int32':
    case 'Double':
    case 'Long':
    case 'Decimal128':
      return TypeOrder.number;
    case 'BSONSymbol':
      return TypeOrder.string;
    case 'Binary':
      return TypeOrder.binData;
    case 'Timestamp':
      return TypeOrder.timestamp;
    case 'BSONRegExp':
      return TypeOrder.regex;
    case 'Code':
      return TypeOrder.code;
    case 'MinKey':
      return TypeOrder.minKey;
    case 'MaxKey':
      return TypeOrder.maxKey;
    default:
      return TypeOrder.object;
  }
}

/**
 * A sentinel that sorts just below (side -1) or just above (side 1) every value of one type
 * bracket; index scans use it for open-ended ranges ({$gt: 5} stops at the end of the numbers).
 */
export class Bound {
  constructor(
    readonly type: number,
    readonly side: -1 | 1,
  ) {}
  static readonly MIN = new Bound(0, -1);
  static readonly MAX = new Bound(99, 1);
}

export function toNumber(value: unknown): number {
  if (typeof value === 'number') return value;
  if (typeof value === 'bigint') return Number(value);
  const v = value as { toNumber?: () => number; valueOf: () => unknown; toString: () => string };
  if (bsonTypeName(value as object) === 'Decimal128') return Number.parseFloat(v.toString());
  if (typeof v.toNumber === 'function') return v.toNumber();
  return Number(v.valueOf());
}

function sign(n: number): -1 | 0 | 1 {
  return n < 0 ? -1 : n > 0 ? 1 : 0;
}

function compareStrings(a: string, b: string): -1 | 0 | 1 {
  return a < b ? -1 : a > b ? 1 : 0;
}

function compareBytes(a: Uint8Array, b: Uint8Array): number {
  if (a.length !== b.length) return sign(a.length - b.length);
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return sign(a[i]! - b[i]!);
  return 0;
}

function binaryBytes(value: unknown): Uint8Array {
  if (value instanceof Uint8Array) return value;
  const bin = value as { buffer: Uint8Array; position?: number };
  return bin.buffer.subarray(0, bin.position ?? bin.buffer.length);
}

/** Compares two BSON values the way MongoDB orders them (sort, ranges, index keys). */
export function compareValues(a: unknown, b: unknown): number {
  const ta = typeOrder(a);
  const tb = typeOrder(b);
  if (a instanceof Bound || b instanceof Bound) {
    if (ta !== tb) return sign(ta - tb);
    const sa = a instanceof Bound ? a.side : 0;
    const sb = b instanceof Bound ? b.side : 0;
    return sign(sa - sb);
  }
  if (ta !== tb) return sign(ta - tb);
  switch (ta) {
    case TypeOrder.null:
    case TypeOrder.minKey:
    case TypeOrder.maxKey:
      return 0;
    case TypeOrder.number: {
      const x = toNumber(a);
      const y = toNumber(b);
      if (Number.isNaN(x)) return Number.isNaN(y) ? 0 : -1;
      if (Number.isNaN(y)) return 1;
      return sign(x - y);
    }
    case TypeOrder.string:
      return compareStrings(String(a), String(b));
    case TypeOrder.bool:
      return sign(Number(a) - Number(b));
    case TypeOrder.date:
      return sign((a as Date).getTime() - (b as Date).getTime());
    case TypeOrder.objectId:
      return compareStrings(
        (a as { toHexString(): string }).toHexString(),
        (b as { toHexString(): string }).toHexString(),
      );
    case TypeOrder.timestamp: {
      const x = a as { high: number; low: number };
      const y = b as { high: number; low: number };
      return x.high >>> 0 !== y.high >>> 0 ? sign((x.high >>> 0) - (y.high >>> 0)) : sign((x.low >>> 0) - (y.low >>> 0));
    }
    case TypeOrder.binData:
      return compareBytes(binaryBytes(a), binaryBytes(b));
    case TypeOrder.regex: {
      const x = regexParts(a);
      const y = regexParts(b);
      return compareStrings(x.source, y.source) || compareStrings(x.flags, y.flags);
    }
    case TypeOrder.array: {
      const x = a as unknown[];
      const y = b as unknown[];
      for (let i = 0; i < Math.min(x.length, y.length); i++) {
        const c = compareValues(x[i], y[i]);
        if (c !== 0) return c;
      }
      return sign(x.length - y.length);
    }
    case TypeOrder.code:
      return compareStrings(String((a as { code: unknown }).code), String((b as { code: unknown }).code));
    default: {
      // Embedded documents: field by field, comparing the value's type, then the name, then the value.
      const x = Object.entries(a as Doc);
      const y = Object.entries(b as Doc);
      for (let i = 0; i < Math.min(x.length, y.length); i++) {
        const [ka, va] = x[i]!;
        const [kb, vb] = y[i]!;
        const c = sign(typeOrder(va) - typeOrder(vb)) || compareStrings(ka, kb) || compareValues(va, vb);
        if (c !== 0) return c;
      }
      return sign(x.length - y.length);
    }
  }
}

function regexParts(value: unknown): { source: string; flags: string } {
  if (value instanceof RegExp) return { source: value.source, flags: value.flags };
  const r = value as { pattern: string; options: string };
  return { source: r.pattern, flags: r.options };
}

/**
 * A string that is equal for two values exactly when MongoDB considers them equal
 * (1 and 1.0 are the same key; "1" is not). Used for _id lookup and unique indexes.
 */
export function keyOf(value: unknown): string {
  switch (typeOrder(value)) {
    case TypeOrder.null:
      return 'N';
    case TypeOrder.number: {
      const tag = typeof value === 'object' ? bsonTypeName(value as object) : undefined;
      if (tag === 'Long' || tag === 'Decimal128' || typeof value === 'bigint') {
        const n = toNumber(value);
        return Number.isSafeInteger(n) ? `n${n}` : `n${String(value)}`;
      }
      const n = toNumber(value);
      return `n${Object.is(n, -0) ? 0 : n}`;
    }
    case TypeOrder.string:
      return `s${JSON.stringify(String(value))}`;
    case TypeOrder.bool:
      return value ? 'T' : 'F';
    case TypeOrder.date:
      return `d${(value as Date).getTime()}`;
    case TypeOrder.objectId:
      return `o${(value as { toHexString(): string }).toHexString()}`;
    case TypeOrder.binData:
      return `b${Buffer.from(binaryBytes(value)).toString('base64')}`;
    case TypeOrder.timestamp:
      return `t${String(value)}`;
    case TypeOrder.regex: {
      const r = regexParts(value);
      return `r${JSON.stringify(`${r.source}/${r.flags}`)}`;
    }
    case TypeOrder.array:
      return `[${(value as unknown[]).map(keyOf).join(',')}]`;
    case TypeOrder.minKey:
      return '<';
    case TypeOrder.maxKey:
      return '>';
    case TypeOrder.code:
      return `c${JSON.stringify(String((value as { code: unknown }).code))}`;
    default:
      return `{${Object.entries(value as Doc)
        .map(([k, v]) => `${JSON.stringify(k)}:${keyOf(v)}`)
        .join(',')}}`;
  }
}

export function isPlainDocument(value: unknown): value is Doc {
  return typeOrder(value) === TypeOrder.object && value !== null && typeof value === 'object' && !Array.isArray(value);
}

/**
 * Every value a dotted path reaches, traversing arrays like MongoDB does for index keys and sorts:
 * `a.b` over `{a: [{b: 1}, {b: [2, 3]}]}` gives [1, 2, 3]. A path that reaches nothing gives [].
 * Arrays at the end of the path are expanded into their elements unless `expandLeafArrays` is false.
 */
export function valuesAtPath(doc: unknown, path: string, expandLeafArrays = true): unknown[] {
  const out: unknown[] = [];
  collect(doc, path.split('.'), 0, out, expandLeafArrays);
  return out;
}

function collect(value: unknown, parts: string[], i: number, out: unknown[], expandLeaf: boolean): void {
  if (i === parts.length) {
    if (Array.isArray(value) && expandLeaf) out.push(...value);
    else out.push(value);
    return;
  }
  if (value === null || value === undefined || typeof value !== 'object') return;
  const part = parts[i]!;
  if (Array.isArray(value)) {
    if (/^\d+$/.test(part) && Number(part) < value.length) {
      collect(value[Number(part)], parts, i + 1, out, expandLeaf);
    }
    for (const element of value) {
      if (element !== null && typeof element === 'object' && !Array.isArray(element)) {
        collect(element, parts, i, out, expandLeaf);
      }
    }
    return;
  }
  if (!isPlainDocument(value)) return;
  if (!Object.prototype.hasOwnProperty.call(value, part)) return;
  collect((value as Doc)[part], parts, i + 1, out, expandLeaf);
}

/** The value MongoDB sorts a document by for one key: arrays contribute their min (asc) or max (desc) element. */
export function sortValue(doc: Doc, path: string, direction: 1 | -1): unknown {
  const values = valuesAtPath(doc, path, true);
  if (values.length === 0) {
    // A path that ends in an empty array sorts below null; a missing one sorts as null.
    const raw = valuesAtPath(doc, path, false);
    return raw.some((v) => Array.isArray(v)) ? Bound.MIN : null;
  }
  let best = values[0];
  for (let i = 1; i < values.length; i++) {
    const c = compareValues(values[i], best);
    if (direction === 1 ? c < 0 : c > 0) best = values[i];
  }
  return best;
}

export type SortSpec = Array<[path: string, direction: 1 | -1]>;

export function parseSortSpec(sort: unknown): SortSpec {
  if (!sort || typeof sort !== 'object') return [];
  return Object.entries(sort as Doc).map(([path, dir]) => {
    const d = typeof dir === 'object' && dir !== null ? 1 : toNumber(dir);
    return [path, d < 0 ? -1 : 1];
  });
}

export function compareBySort(spec: SortSpec): (a: Doc, b: Doc) => number {
  return (a, b) => {
    for (const [path, dir] of spec) {
      const c = compareValues(sortValue(a, path, dir), sortValue(b, path, dir));
      if (c !== 0) return dir * c;
    }
    return 0;
  };
}
