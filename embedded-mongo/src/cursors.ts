// Open cursors: the rest of a result set a client pulls with getMore, until exhausted, killed or
// idle; and tailable cursors (change streams), whose getMore waits for new documents.
import { Long, calculateObjectSize } from 'bson';
import { randomBytes } from 'node:crypto';
import type { Doc } from './bson-values.ts';
import { MongoCommandError } from './errors.ts';

/** mongod's default cursorTimeoutMillis. */
export const DEFAULT_CURSOR_TIMEOUT_MS = 10 * 60 * 1000;
/** How often idle cursors are looked for at most (mongod's clientCursorMonitorFrequencySecs). */
const SWEEP_MAX_MS = 4_000;
/** A reply must stay under the 16 MiB document limit, with room for the envelope. */
const BATCH_BYTES = 16 * 1024 * 1024 - 64 * 1024;
export const DEFAULT_FIRST_BATCH = 101;
/** How long a getMore on a tailable cursor waits for documents when the client names no maxTimeMS (mongod's default). */
export const DEFAULT_AWAIT_DATA_MS = 1000;

/** Where a tailable cursor's documents come from. */
export interface TailSource {
  /** Up to `limit` documents available now; `closed` once the source will never give more. */
  take(limit: number): { docs: Doc[]; closed: boolean };
  /** Resolves when new documents may be available, or when `signal` aborts. */
  changed(signal: AbortSignal): Promise<void>;
  /** Fields every batch reply carries after the documents (postBatchResumeToken). */
  replyFields(): Doc;
}

interface OpenCursor {
  ns: string;
  docs?: Iterator<Doc>;
  tail?: TailSource;
  lastUsed: number;
  /** find's noCursorTimeout: never closed for being idle. */
  noTimeout: boolean;
  /** getMores waiting on this tailable cursor; aborted when it is killed. */
  waiting?: AbortController;
  /** How many getMores are running on it: a cursor in use is not idle. */
  inUse: number;
}

export interface Batch {
  id: Long;
  ns: string;
  docs: Doc[];
  /** Fields the reply's cursor document carries after the batch. */
  extra?: Doc;
}

export interface GetMoreOptions {
  /** How long a tailable cursor's getMore waits for documents. */
  maxTimeMS?: number;
  /** Aborted when the client's connection closes: a waiting getMore stops at once. */
  signal?: AbortSignal;
}

export class CursorRegistry {
  private readonly cursors = new Map<string, OpenCursor>();
  private sweeper: NodeJS.Timeout | undefined;
  /** Cursors closed for being idle since start (serverStatus metrics.cursor.timedOut). */
  timedOut = 0;

  /** `idleTimeoutMs` is read on every check, so a setParameter takes effect at once. */
  constructor(private readonly idleTimeoutMs: () => number = () => DEFAULT_CURSOR_TIMEOUT_MS) {
    this.scheduleSweep();
  }

  private scheduleSweep(): void {
    // Look at least twice per timeout period, so a short timeout (tests) is honoured promptly.
    const delay = Math.min(SWEEP_MAX_MS, Math.max(10, Math.floor(this.idleTimeoutMs() / 2)));
    this.sweeper = setTimeout(() => {
      this.sweep();
      this.scheduleSweep();
    }, delay);
    this.sweeper.unref();
  }

  /** Takes the first batch; keeps a cursor open only when more documents remain. */
  open(ns: string, docs: Iterable<Doc>, batchSize: number | undefined, single = false, noTimeout = false): Batch {
    const iterator = docs[Symbol.iterator]();
    const { docs: batch, done } = takeBatch(iterator, batchSize ?? DEFAULT_FIRST_BATCH);
    if (done || single) return { id: Long.ZERO, ns, docs: batch };
    const id = newCursorId();
    this.cursors.set(id.toString(), { ns, docs: iterator, lastUsed: Date.now(), noTimeout, inUse: 0 });
    return { id, ns, docs: batch };
  }

  /** Takes the first batch of a tailable cursor without waiting; it stays open, even empty, until its source closes. */
  openTailable(ns: string, tail: TailSource, batchSize: number | undefined): Batch {
    const { docs, closed } = tail.take(batchSize ?? DEFAULT_FIRST_BATCH);
    const extra = tail.replyFields();
    if (closed) return { id: Long.ZERO, ns, docs, extra };
    const id = newCursorId();
    this.cursors.set(id.toString(), { ns, tail, lastUsed: Date.now(), noTimeout: false, inUse: 0 });
    return { id, ns, docs, extra };
  }

  getMore(id: unknown, ns: string, batchSize: number | undefined, options: GetMoreOptions = {}): Batch | Promise<Batch> {
    const key = String(id);
    let cursor = this.cursors.get(key);
    // A cursor past its idle timeout is gone even if the sweep has not come round to it yet.
    if (cursor && this.expired(cursor, Date.now())) {
      this.cursors.delete(key);
      this.timedOut++;
      cursor = undefined;
    }
    if (!cursor) throw new MongoCommandError('CursorNotFound', `cursor id ${key} not found`);
    if (cursor.ns !== ns) {
      throw new MongoCommandError('Unauthorized', `Requested getMore on namespace '${ns}', but cursor belongs to a different namespace ${cursor.ns}`);
    }
    cursor.lastUsed = Date.now();
    if (cursor.tail) return this.getMoreTailable(key, cursor, cursor.tail, batchSize && batchSize > 0 ? batchSize : Infinity, options);
    const { docs, done } = takeBatch(cursor.docs!, batchSize && batchSize > 0 ? batchSize : Infinity);
    if (done) {
      this.cursors.delete(key);
      return { id: Long.ZERO, ns, docs };
    }
    return { id: Long.fromString(key), ns, docs };
  }

  /** Returns what the source has; with nothing there, waits until it has something or maxTimeMS passes. */
  private async getMoreTailable(key: string, cursor: OpenCursor, tail: TailSource, limit: number, options: GetMoreOptions): Promise<Batch> {
    const id = Long.fromString(key);
    const deadline = Date.now() + (options.maxTimeMS ?? DEFAULT_AWAIT_DATA_MS);
    const killed = (cursor.waiting ??= new AbortController()).signal;
    cursor.inUse++;
    try {
      for (;;) {
        let taken: { docs: Doc[]; closed: boolean };
        try {
          taken = tail.take(limit);
        } catch (error) {
          this.cursors.delete(key);
          throw error;
        }
        const { docs, closed } = taken;
        if (closed) this.cursors.delete(key);
        const remaining = deadline - Date.now();
        if (docs.length > 0 || closed || remaining <= 0 || options.signal?.aborted) {
          return { id: closed ? Long.ZERO : id, ns: cursor.ns, docs, extra: tail.replyFields() };
        }
        await waitForChange(tail, remaining, [killed, ...(options.signal ? [options.signal] : [])]);
        if (killed.aborted) throw new MongoCommandError('CursorKilled', `cursor id ${key} was killed`);
      }
    } finally {
      cursor.inUse--;
      cursor.lastUsed = Date.now();
      if (cursor.inUse === 0) cursor.waiting = undefined;
    }
  }

  kill(ids: unknown[]): { killed: unknown[]; notFound: unknown[] } {
    const killed: unknown[] = [];
    const notFound: unknown[] = [];
    for (const id of ids) {
      const key = String(id);
      const cursor = this.cursors.get(key);
      if (cursor) {
        this.cursors.delete(key);
        cursor.waiting?.abort();
      }
      (cursor ? killed : notFound).push(id);
    }
    return { killed, notFound };
  }

  get size(): number {
    return this.cursors.size;
  }

  private expired(cursor: OpenCursor, now: number): boolean {
    return !cursor.noTimeout && cursor.inUse === 0 && now - cursor.lastUsed > this.idleTimeoutMs();
  }

  private sweep(): void {
    const now = Date.now();
    for (const [key, cursor] of this.cursors) {
      if (!this.expired(cursor, now)) continue;
      this.cursors.delete(key);
      this.timedOut++;
    }
  }

  close(): void {
    clearTimeout(this.sweeper);
    for (const cursor of this.cursors.values()) cursor.waiting?.abort();
    this.cursors.clear();
  }
}

function newCursorId(): Long {
  return Long.fromBigInt(randomBytes(8).readBigInt64LE() & 0x7fffffffffffffffn);
}

/** Resolves when the source reports a change, after `ms`, or when any signal aborts. */
async function waitForChange(tail: TailSource, ms: number, signals: AbortSignal[]): Promise<void> {
  const done = new AbortController();
  const stop = () => done.abort();
  const timer = setTimeout(stop, ms);
  for (const signal of signals) signal.addEventListener('abort', stop, { once: true });
  if (signals.some((signal) => signal.aborted)) stop();
  try {
    await tail.changed(done.signal);
  } finally {
    clearTimeout(timer);
    for (const signal of signals) signal.removeEventListener('abort', stop);
    done.abort();
  }
}

function takeBatch(iterator: Iterator<Doc>, size: number): { docs: Doc[]; done: boolean } {
  const docs: Doc[] = [];
  let bytes = 0;
  while (docs.length < size) {
    const next = iterator.next();
    if (next.done) return { docs, done: true };
    docs.push(next.value);
    bytes += calculateObjectSize(next.value);
    if (bytes >= BATCH_BYTES) break;
  }
  // Look ahead so an exhausted cursor reports id 0 in the same reply, as mongod does for find.
  return { docs, done: false };
}
