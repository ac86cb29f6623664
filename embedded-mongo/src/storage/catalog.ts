// The in-memory catalog (databases → collections → documents + indexes) and the only place that
// changes it: every mutation is applied in memory and appended to the journal in the same step.
import { mkdir, readFile, realpath, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { keyOf, type Doc } from '../bson-values.ts';
import { MongoCommandError } from '../errors.ts';
import type { ChangeHistory } from '../replication/change-history.ts';
import { CollectionIndex, duplicateKeyError, type IndexSpec } from './collection-index.ts';
import {
  Journal,
  journalName,
  listStoredFiles,
  readRecords,
  removeOlderGenerations,
  snapshotName,
  writeSnapshot,
} from './journal.ts';

export const ID_INDEX_NAME = '_id_';

export class Collection {
  /** Documents by canonical _id key, in insertion (natural) order. Stored documents are never mutated. */
  readonly docs = new Map<string, Doc>();
  readonly indexes = new Map<string, CollectionIndex>();

  constructor(
    readonly db: string,
    public name: string,
    readonly options: Doc = {},
  ) {
    this.indexes.set(ID_INDEX_NAME, new CollectionIndex({ v: 2, key: { _id: 1 }, name: ID_INDEX_NAME }));
  }

  get ns(): string {
    return `${this.db}.${this.name}`;
  }

  get idIndex(): CollectionIndex {
    return this.indexes.get(ID_INDEX_NAME)!;
  }

  findById(id: unknown): Doc | undefined {
    return this.docs.get(keyOf(id));
  }

  /** Adds a document (it must carry _id); throws a duplicate-key error and changes nothing on conflict. */
  insert(doc: Doc): void {
    const id = keyOf(doc._id);
    if (this.docs.has(id)) throw duplicateKeyError(this.ns, this.idIndex, [doc._id]);
    const planned: Array<[CollectionIndex, unknown[][]]> = [];
    for (const index of this.indexes.values()) {
      const keys = index.keysFor(doc);
      if (index.unique) index.assertUnique(this.ns, id, doc, keys);
      planned.push([index, keys]);
    }
    for (const [index, keys] of planned) index.add(id, doc, keys);
    this.docs.set(id, doc);
  }

  /** Swaps a stored document for its new version (same _id); uniqueness checked before any change. */
  replace(oldDoc: Doc, newDoc: Doc): void {
    const id = keyOf(oldDoc._id);
    for (const index of this.indexes.values()) {
      if (index.unique) index.assertUnique(this.ns, id, newDoc);
    }
    for (const index of this.indexes.values()) {
      index.remove(id, oldDoc);
      index.add(id, newDoc);
    }
    this.docs.set(id, newDoc);
  }

  remove(doc: Doc): void {
    const id = keyOf(doc._id);
    for (const index of this.indexes.values()) index.remove(id, doc);
    this.docs.delete(id);
  }

  /** Builds an index over the existing documents; fails without side effects on a duplicate. */
  buildIndex(spec: IndexSpec): void {
    const index = new CollectionIndex(spec);
    for (const [id, doc] of this.docs) {
      const keys = index.keysFor(doc);
      index.assertUnique(this.ns, id, doc, keys);
      index.add(id, doc, keys);
    }
    this.indexes.set(spec.name, index);
  }

  approximateSize(): number {
    // An estimate good enough for stats: BSON size of a sample times the count.
    let sampled = 0;
    let bytes = 0;
    for (const doc of this.docs.values()) {
      bytes += JSON.stringify(doc)?.length ?? 0;
      if (++sampled >= 100) break;
    }
    return sampled === 0 ? 0 : Math.round((bytes / sampled) * this.docs.size);
  }
}

export interface StorageOptions {
  /** Directory for snapshot and journal; in-memory when absent. */
  dbPath?: string;
  /** Journal size that triggers compaction into a new snapshot (default 64 MiB). */
  compactBytes?: number;
}

/** dbPaths opened by this process: a second open in the same process is refused too. */
const openPaths = new Set<string>();

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Claims dbPath for this process (mongod.lock holds the pid). The file is created exclusively, so
 * of several processes starting on one dbPath at the same moment exactly one wins. A lock left by
 * a process that no longer runs (a crash) is taken over, so restart after kill -9 needs no manual
 * step.
 */
async function lockDbPath(dir: string): Promise<() => Promise<void>> {
  const real = await realpath(dir);
  const lockFile = join(dir, 'mongod.lock');
  const inUse = (): MongoCommandError =>
    new MongoCommandError('DBPathInUse', `Unable to lock the lock file: ${lockFile}. Another mongod instance is already running on the ${dir} directory`);
  if (openPaths.has(real)) throw inUse();
  for (let attempt = 0; ; attempt++) {
    try {
      await writeFile(lockFile, `${process.pid}\n`, { flag: 'wx' });
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST' || attempt >= 3) throw (error as NodeJS.ErrnoException).code === 'EEXIST' ? inUse() : error;
    }
    const written = await readFile(lockFile, 'utf8').catch(() => '');
    const holder = Number.parseInt(written, 10);
    // An empty file is a winner still writing its pid (in use), unless it has been empty for a
    // while (a crash right after creating it). A dead holder's lock is removed (only if it still
    // names that holder) and the exclusive create tried again.
    const beingWritten = !(holder > 0) && Date.now() - (await stat(lockFile).then((info) => info.mtimeMs, () => 0)) < 5_000;
    if (beingWritten || (holder > 0 && holder !== process.pid && processAlive(holder))) throw inUse();
    if ((await readFile(lockFile, 'utf8').catch(() => '')) === written) await rm(lockFile, { force: true });
  }
  openPaths.add(real);
  return async () => {
    openPaths.delete(real);
    await rm(lockFile, { force: true });
  };
}

/** Everything the server stores, and the single writer of the journal. */
export class Storage {
  private readonly databases = new Map<string, Map<string, Collection>>();
  private journal: Journal | undefined;
  private replaying = false;
  private compacting: Promise<void> | undefined;
  private lastSnapshotBytes = 0;
  private readonly compactBytes: number;
  private unlock: (() => Promise<void>) | undefined;
  /** Replica-set mode: where changes are recorded for change streams (absent on a standalone). */
  private changes: ChangeHistory | undefined;

  private constructor(readonly options: StorageOptions) {
    this.compactBytes = options.compactBytes ?? 64 * 1024 * 1024;
  }

  static async open(options: StorageOptions = {}): Promise<Storage> {
    const storage = new Storage(options);
    if (options.dbPath) await storage.recover(options.dbPath);
    return storage;
  }

  get durable(): boolean {
    return this.journal !== undefined;
  }

  /** Journal counters (fsyncs, records) when durable: how well group commit shares fsyncs. */
  get journalStats(): { fsyncs: number; records: number } | undefined {
    return this.journal ? { ...this.journal.stats } : undefined;
  }

  private async recover(dir: string): Promise<void> {
    await mkdir(dir, { recursive: true });
    this.unlock = await lockDbPath(dir);
    const files = await listStoredFiles(dir);
    this.replaying = true;
    let generation = files.snapshotGeneration ?? files.journalGenerations[0] ?? 0;
    if (files.snapshotGeneration !== undefined) {
      const { records } = await readRecords(join(dir, snapshotName(files.snapshotGeneration)));
      for (const record of records) this.apply(record);
    }
    let truncateTo: number | undefined;
    const journals = files.journalGenerations.filter((g) => g >= generation);
    for (const g of journals) {
      const { records, validBytes, totalBytes } = await readRecords(join(dir, journalName(g)));
      for (const record of records) this.apply(record);
      generation = g;
      // A torn tail is a write that was never acknowledged: cut it so appends start clean.
      truncateTo = validBytes < totalBytes ? validBytes : undefined;
    }
    this.replaying = false;
    this.journal = await Journal.openAt(dir, generation, truncateTo);
  }

  /** From now on every write is recorded there (not the replay of the journal, which came before). */
  recordChangesTo(history: ChangeHistory): void {
    this.changes = history;
  }

  /** Resolves once every change made so far is durable (immediately when in-memory). */
  sync(): Promise<void> {
    return this.journal ? this.journal.sync() : Promise.resolve();
  }

  async close(): Promise<void> {
    await this.compacting;
    await this.journal?.close();
    await this.unlock?.();
  }

  private log(record: Doc): void {
    if (this.replaying || !this.journal) return;
    this.journal.append(record);
    if (this.journal.size > Math.max(this.compactBytes, 2 * this.lastSnapshotBytes) && !this.compacting) {
      this.compacting = this.compact().finally(() => {
        this.compacting = undefined;
      });
    }
  }

  /** Writes the current state as a snapshot and drops the journal before it, bounding disk use. */
  async compact(): Promise<void> {
    const journal = this.journal;
    if (!journal) return;
    // Capture and rotate in the same tick: the snapshot is exactly the state at the new journal's start.
    const captured = [...this.allCollections()].map((c) => ({
      db: c.db,
      name: c.name,
      options: c.options,
      indexes: [...c.indexes.values()].filter((i) => i.name !== ID_INDEX_NAME).map((i) => i.spec),
      docs: [...c.docs.values()],
    }));
    const generation = journal.rotate();
    await journal.sync();
    function* records(): Generator<Doc> {
      for (const c of captured) {
        yield { op: 'create', db: c.db, coll: c.name, options: c.options };
        for (const spec of c.indexes) yield { op: 'createIndex', db: c.db, coll: c.name, spec };
        for (const doc of c.docs) yield { op: 'i', db: c.db, coll: c.name, doc };
      }
    }
    this.lastSnapshotBytes = await writeSnapshot(journal.dir, generation, records());
    await removeOlderGenerations(journal.dir, generation);
  }

  /** Replays one journal or snapshot record. */
  private apply(record: Doc): void {
    const db = String(record.db);
    const coll = String(record.coll);
    switch (record.op) {
      case 'i':
        this.insert(this.getOrCreate(db, coll), record.doc as Doc);
        break;
      case 'u': {
        const c = this.getOrCreate(db, coll);
        const doc = record.doc as Doc;
        const old = c.findById(doc._id);
        if (old) this.replace(c, old, doc);
        else this.insert(c, doc);
        break;
      }
      case 'd': {
        const c = this.collection(db, coll);
        const old = c?.findById(record.id);
        if (c && old) this.remove(c, old);
        break;
      }
      case 'create':
        this.getOrCreate(db, coll, (record.options as Doc) ?? {});
        break;
      case 'drop':
        this.dropCollection(db, coll);
        break;
      case 'dropDatabase':
        this.dropDatabase(db);
        break;
      case 'rename':
        this.renameCollection(db, coll, String(record.toDb), String(record.toColl));
        break;
      case 'createIndex':
        this.createIndex(this.getOrCreate(db, coll), record.spec as IndexSpec);
        break;
      case 'dropIndex': {
        const c = this.collection(db, coll);
        if (c) this.dropIndex(c, String(record.name));
        break;
      }
      default:
        break;
    }
  }

  // ---- reads ----

  databaseNames(): string[] {
    return [...this.databases.keys()].filter((db) => (this.databases.get(db)?.size ?? 0) > 0);
  }

  collections(db: string): Collection[] {
    return [...(this.databases.get(db)?.values() ?? [])];
  }

  *allCollections(): Generator<Collection> {
    for (const colls of this.databases.values()) yield* colls.values();
  }

  collection(db: string, name: string): Collection | undefined {
    return this.databases.get(db)?.get(name);
  }

  // ---- writes (each one journaled) ----

  /** The collection, created implicitly (as a write to a missing collection does in MongoDB). */
  getOrCreate(db: string, name: string, options: Doc = {}): Collection {
    let colls = this.databases.get(db);
    if (!colls) this.databases.set(db, (colls = new Map()));
    let c = colls.get(name);
    if (!c) {
      c = new Collection(db, name, options);
      colls.set(name, c);
      this.log({ op: 'create', db, coll: name, options });
      if (this.changes && !this.replaying) this.changes.tick();
    }
    return c;
  }

  insert(c: Collection, doc: Doc): void {
    c.insert(doc);
    this.log({ op: 'i', db: c.db, coll: c.name, doc });
    if (this.changes && !this.replaying) this.changes.record('insert', c.db, c.name, { after: doc });
  }

  /**
   * Swaps in a document's new version. `kind` is what a change stream reports: 'update' for
   * operator and pipeline updates, 'replace' for a replacement document.
   */
  replace(c: Collection, oldDoc: Doc, newDoc: Doc, kind: 'update' | 'replace' = 'update'): void {
    c.replace(oldDoc, newDoc);
    this.log({ op: 'u', db: c.db, coll: c.name, doc: newDoc });
    if (this.changes && !this.replaying) this.changes.record(kind, c.db, c.name, { before: oldDoc, after: newDoc });
  }

  remove(c: Collection, doc: Doc): void {
    c.remove(doc);
    this.log({ op: 'd', db: c.db, coll: c.name, id: doc._id });
    if (this.changes && !this.replaying) this.changes.record('delete', c.db, c.name, { before: doc });
  }

  dropCollection(db: string, name: string): boolean {
    const colls = this.databases.get(db);
    if (!colls?.delete(name)) return false;
    if (colls.size === 0) this.databases.delete(db);
    this.log({ op: 'drop', db, coll: name });
    if (this.changes && !this.replaying) this.changes.record('drop', db, name);
    return true;
  }

  dropDatabase(db: string): void {
    const colls = this.databases.get(db);
    if (!colls) return;
    this.databases.delete(db);
    this.log({ op: 'dropDatabase', db, coll: '' });
    if (this.changes && !this.replaying) {
      // As mongod reports it: each collection's drop, then the database's.
      for (const name of colls.keys()) this.changes.record('drop', db, name);
      this.changes.record('dropDatabase', db, '');
    }
  }

  renameCollection(db: string, name: string, toDb: string, toName: string): void {
    const source = this.collection(db, name);
    if (!source) throw new MongoCommandError('NamespaceNotFound', 'source namespace does not exist');
    this.databases.get(db)!.delete(name);
    if (this.databases.get(db)!.size === 0) this.databases.delete(db);
    let target = source;
    if (toDb !== db) {
      // A move across databases copies documents and index definitions.
      target = new Collection(toDb, toName, source.options);
      for (const index of source.indexes.values()) if (index.name !== ID_INDEX_NAME) target.buildIndex(index.spec);
      for (const doc of source.docs.values()) target.insert(doc);
    } else {
      target.name = toName;
    }
    let colls = this.databases.get(toDb);
    if (!colls) this.databases.set(toDb, (colls = new Map()));
    colls.set(toName, target);
    this.log({ op: 'rename', db, coll: name, toDb, toColl: toName });
    if (this.changes && !this.replaying) this.changes.record('rename', db, name, { to: { db: toDb, coll: toName } });
  }

  createIndex(c: Collection, spec: IndexSpec): void {
    c.buildIndex(spec);
    this.log({ op: 'createIndex', db: c.db, coll: c.name, spec });
    if (this.changes && !this.replaying) this.changes.tick();
  }

  dropIndex(c: Collection, name: string): void {
    c.indexes.delete(name);
    this.log({ op: 'dropIndex', db: c.db, coll: c.name, name });
    if (this.changes && !this.replaying) this.changes.tick();
  }
}
