// One index of a collection: an ordered B+tree of (key values, document id) → document, so
// equality/range lookups and sorted scans cost O(log n + results), independent of collection size.
import sortedBtree from 'sorted-btree';
import { Bound, compareValues, keyOf, valuesAtPath, type Doc, type SortSpec } from '../bson-values.ts';
import { MongoCommandError } from '../errors.ts';
import { compileFilter } from '../query/mingo-context.ts';

// sorted-btree is CommonJS with `exports.default`: Node's ESM import puts the class on `.default`,
// bundler-style interop (Vitest) hands over the class itself.
const BTree: typeof sortedBtree.default =
  (sortedBtree as { default?: typeof sortedBtree.default }).default ?? (sortedBtree as unknown as typeof sortedBtree.default);
type BTree<K, V> = InstanceType<typeof sortedBtree.default<K, V>>;

export interface IndexSpec extends Doc {
  v: number;
  key: Record<string, 1 | -1 | number>;
  name: string;
  unique?: boolean;
  sparse?: boolean;
  partialFilterExpression?: Doc;
  expireAfterSeconds?: number;
}

interface IndexEntry {
  values: unknown[];
  id: string;
}

/** Per-field [low, high] value bounds (inclusive; the caller re-checks exact predicates). */
export type KeyBounds = Array<{ low: unknown; high: unknown; lowExclusive?: boolean; highExclusive?: boolean }>;

const ID_MIN = '';
const ID_MAX = '\uffff';

export class CollectionIndex {
  readonly name: string;
  readonly fields: SortSpec;
  readonly unique: boolean;
  readonly sparse: boolean;
  /** Set once any document put an array into an indexed field: it gives sort order only where the planner pins those fields. */
  multikey = false;
  /** The fields that held an array (mongod's multikeyPaths): the other fields still give sort order. */
  readonly multikeyPaths = new Set<string>();
  /** Membership test of a partial index, with the same matcher queries use (the planner relies on that). */
  private readonly partial?: (doc: Doc) => boolean;
  private readonly tree: BTree<IndexEntry, Doc>;

  constructor(readonly spec: IndexSpec) {
    this.name = spec.name;
    this.fields = Object.entries(spec.key).map(([path, dir]) => [path, Number(dir) < 0 ? -1 : 1]);
    this.unique = spec.unique === true || spec.name === '_id_';
    this.sparse = spec.sparse === true;
    if (spec.partialFilterExpression) this.partial = compileFilter(spec.partialFilterExpression);
    const dirs = this.fields.map(([, d]) => d);
    this.tree = new BTree<IndexEntry, Doc>(undefined, (a: IndexEntry, b: IndexEntry) => {
      for (let i = 0; i < dirs.length; i++) {
        const x = a.values[i];
        const y = b.values[i];
        // The absolute MIN/MAX sentinels bound a scan in tree order, whatever the field's direction.
        const absolute = x === Bound.MIN || x === Bound.MAX || y === Bound.MIN || y === Bound.MAX;
        const c = absolute ? compareValues(x, y) : dirs[i]! * compareValues(x, y);
        if (c !== 0) return c;
      }
      return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
    });
  }

  get size(): number {
    return this.tree.size;
  }

  /** True when the index filters documents (sparse or partial), so it cannot answer every query. */
  get isSelective(): boolean {
    return this.sparse || this.partial !== undefined;
  }

  /** The distinct index keys of a document, or none when a sparse/partial index leaves it out. */
  keysFor(doc: Doc): unknown[][] {
    if (this.partial && !this.partial(doc)) return [];
    const perField: unknown[][] = [];
    let allMissing = true;
    for (const [path] of this.fields) {
      const values = valuesAtPath(doc, path);
      if (values.length === 0) {
        perField.push([null]);
      } else {
        allMissing = false;
        if (values.length > 1 || valuesAtPath(doc, path, false).some(Array.isArray)) {
          this.multikey = true;
          this.multikeyPaths.add(path);
        }
        perField.push(values);
      }
    }
    if (this.sparse && allMissing) return [];
    let keys: unknown[][] = [[]];
    for (const values of perField) {
      const next: unknown[][] = [];
      for (const prefix of keys) for (const v of values) next.push([...prefix, v]);
      keys = next;
    }
    if (keys.length === 1) return keys;
    const seen = new Set<string>();
    return keys.filter((k) => {
      const s = keyOf(k);
      if (seen.has(s)) return false;
      seen.add(s);
      return true;
    });
  }

  add(id: string, doc: Doc, keys = this.keysFor(doc)): void {
    for (const values of keys) this.tree.set({ values, id }, doc, true);
  }

  remove(id: string, doc: Doc): void {
    for (const values of this.keysFor(doc)) this.tree.delete({ values, id });
  }

  /** Throws the duplicate-key error mongod gives when `doc` (stored under `id`) would break uniqueness. */
  assertUnique(ns: string, id: string, doc: Doc, keys = this.keysFor(doc)): void {
    if (!this.unique) return;
    for (const values of keys) {
      const low = { values, id: ID_MIN };
      const found = this.tree.getPairOrNextHigher(low);
      if (!found) continue;
      const [entry] = found;
      if (entry.id === id) {
        // The same document may already hold this key (an update); look at the next entry too.
        const next = this.tree.nextHigherPair(entry);
        if (!next || !sameValues(next[0].values, values) || next[0].id === id) continue;
        throw duplicateKeyError(ns, this, values);
      }
      if (sameValues(entry.values, values)) throw duplicateKeyError(ns, this, values);
    }
  }

  /**
   * Documents whose keys fall inside any of the bounds, in index order (or reversed).
   * Each bound gives a [low, high] value range per leading field; later fields are unbounded.
   */
  *scan(boundsList: KeyBounds[], reverse = false): Generator<Doc> {
    const seen = this.multikey ? new Set<Doc>() : undefined;
    const ordered = boundsList.map((b) => ({ ...this.treeRange(b), excluded: exclusions(b) }));
    ordered.sort((a, b) => this.tree._compare(a.low, b.low) * (reverse ? -1 : 1));
    for (const { low, high, excluded } of ordered) {
      const iterator = reverse ? this.tree.entriesReversed(high) : this.tree.entries(low);
      for (const [entry, doc] of iterator) {
        if (reverse ? this.tree._compare(entry, low) < 0 : this.tree._compare(entry, high) > 0) break;
        if (excluded && excluded(entry.values)) continue;
        if (seen) {
          if (seen.has(doc)) continue;
          seen.add(doc);
        }
        yield doc;
      }
    }
  }

  /**
   * Like `scan`, for bounds that differ only in their values of the first `equalityFields` fields
   * (an `$in`): each bound's keys come in index order, and merging the bounds by the fields after
   * those keeps that order, so a
   * sort on those fields needs no sorting and can stop after the first page.
   */
  *scanMerged(boundsList: KeyBounds[], reverse: boolean, equalityFields: number): Generator<Doc> {
    if (boundsList.length <= 1) {
      yield* this.scan(boundsList, reverse);
      return;
    }
    const heads: Array<{ entry: IndexEntry; doc: Doc; rest: Iterator<[IndexEntry, Doc]> }> = [];
    for (const bounds of boundsList) {
      const rest = this.entriesWithin(bounds, reverse);
      const first = rest.next();
      if (!first.done) heads.push({ entry: first.value[0], doc: first.value[1], rest });
    }
    const direction = reverse ? -1 : 1;
    while (heads.length > 0) {
      // Few bounds (at most a couple of hundred): a linear pick of the next key is cheapest.
      let next = 0;
      for (let i = 1; i < heads.length; i++) if (this.compareAfter(equalityFields, heads[i]!.entry, heads[next]!.entry) * direction < 0) next = i;
      const head = heads[next]!;
      yield head.doc;
      const following = head.rest.next();
      if (following.done) heads.splice(next, 1);
      else [head.entry, head.doc] = following.value;
    }
  }

  /** Index order of two keys on the fields after the first `skip` (then by document id). */
  private compareAfter(skip: number, a: IndexEntry, b: IndexEntry): number {
    for (let i = skip; i < this.fields.length; i++) {
      const c = this.fields[i]![1] * compareValues(a.values[i], b.values[i]);
      if (c !== 0) return c;
    }
    return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
  }

  /** The entries inside one bound, in index order or reversed (exclusive ends skipped). */
  private *entriesWithin(bounds: KeyBounds, reverse: boolean): Generator<[IndexEntry, Doc]> {
    const { low, high } = this.treeRange(bounds);
    const excluded = exclusions(bounds);
    const iterator = reverse ? this.tree.entriesReversed(high) : this.tree.entries(low);
    for (const pair of iterator) {
      const [entry] = pair;
      if (reverse ? this.tree._compare(entry, low) < 0 : this.tree._compare(entry, high) > 0) return;
      if (excluded && excluded(entry.values)) continue;
      yield pair;
    }
  }

  /**
   * How many keys fall inside the bounds, without reading a document. Equals the number of
   * documents only on an index that is not multikey (one key per document).
   */
  countKeys(boundsList: KeyBounds[]): number {
    let count = 0;
    for (const bounds of boundsList) {
      const { low, high } = this.treeRange(bounds);
      const excluded = exclusions(bounds);
      if (!excluded) {
        count += this.tree.forRange(low, high, true);
        continue;
      }
      this.tree.forRange(low, high, true, (entry) => {
        if (!excluded(entry.values)) count++;
      });
    }
    return count;
  }

  /** Converts value bounds into tree-order entries (descending fields swap low and high). */
  private treeRange(bounds: KeyBounds): { low: IndexEntry; high: IndexEntry } {
    const low: unknown[] = [];
    const high: unknown[] = [];
    this.fields.forEach(([, dir], i) => {
      const b = bounds[i];
      if (!b) {
        low.push(Bound.MIN);
        high.push(Bound.MAX);
      } else if (dir === 1) {
        low.push(b.low);
        high.push(b.high);
      } else {
        low.push(b.high);
        high.push(b.low);
      }
    });
    return { low: { values: low, id: ID_MIN }, high: { values: high, id: ID_MAX } };
  }

  /** Every document of the index in its order (full index scan for a sort). */
  scanAll(reverse = false): Generator<Doc> {
    return this.scan([[]], reverse);
  }
}

/** For $gt/$lt bounds: a test that skips keys equal to an exclusive end (the scan itself is inclusive). */
function exclusions(bounds: KeyBounds): ((values: unknown[]) => boolean) | undefined {
  const i = bounds.length - 1;
  const b = bounds[i];
  if (!b || (!b.lowExclusive && !b.highExclusive)) return undefined;
  return (values) =>
    (b.lowExclusive === true && compareValues(values[i], b.low) === 0) ||
    (b.highExclusive === true && compareValues(values[i], b.high) === 0);
}

function sameValues(a: unknown[], b: unknown[]): boolean {
  return a.length === b.length && a.every((v, i) => compareValues(v, b[i]) === 0);
}

export function duplicateKeyError(ns: string, index: CollectionIndex, values: unknown[]): MongoCommandError {
  const keyPattern: Doc = {};
  const keyValue: Doc = {};
  index.fields.forEach(([path, dir], i) => {
    keyPattern[path] = dir;
    keyValue[path] = values[i];
  });
  const shown = index.fields.map(([path], i) => `${path}: ${formatKeyValue(values[i])}`).join(', ');
  return new MongoCommandError(
    'DuplicateKey',
    `E11000 duplicate key error collection: ${ns} index: ${index.name} dup key: { ${shown} }`,
    { keyPattern, keyValue },
  );
}

/** Renders a key value as mongod does in duplicate-key messages. */
export function formatKeyValue(value: unknown): string {
  if (value === null || value === undefined) return 'null';
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint') return String(value);
  if (value instanceof Date) return `new Date(${value.getTime()})`;
  if (Array.isArray(value)) return `[ ${value.map(formatKeyValue).join(', ')} ]`;
  const tag = (value as { _bsontype?: string })._bsontype;
  if (tag === 'ObjectId') return `ObjectId('${(value as { toHexString(): string }).toHexString()}')`;
  if (tag === 'Long' || tag === 'Int32' || tag === 'Double' || tag === 'Decimal128') return String(value);
  const entries = Object.entries(value as Doc);
  if (entries.length === 0) return '{}';
  return `{ ${entries.map(([k, v]) => `${k}: ${formatKeyValue(v)}`).join(', ')} }`;
}
