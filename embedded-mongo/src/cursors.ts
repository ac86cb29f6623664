// Open cursors: the rest of a result set a client pulls with getMore, until exhausted, killed or idle.
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

interface OpenCursor {
  ns: string;
  docs: Iterator<Doc>;
  lastUsed: number;
  /** find's noCursorTimeout: never closed for being idle. */
  noTimeout: boolean;
}

export interface Batch {
  id: Long;
  ns: string;
  docs: Doc[];
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
    const id = Long.fromBigInt(randomBytes(8).readBigInt64LE() & 0x7fffffffffffffffn);
    this.cursors.set(id.toString(), { ns, docs: iterator, lastUsed: Date.now(), noTimeout });
    return { id, ns, docs: batch };
  }

  getMore(id: unknown, ns: string, batchSize: number | undefined): Batch {
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
    const { docs, done } = takeBatch(cursor.docs, batchSize && batchSize > 0 ? batchSize : Infinity);
    if (done) {
      this.cursors.delete(key);
      return { id: Long.ZERO, ns, docs };
    }
    return { id: Long.fromString(key), ns, docs };
  }

  kill(ids: unknown[]): { killed: unknown[]; notFound: unknown[] } {
    const killed: unknown[] = [];
    const notFound: unknown[] = [];
    for (const id of ids) (this.cursors.delete(String(id)) ? killed : notFound).push(id);
    return { killed, notFound };
  }

  get size(): number {
    return this.cursors.size;
  }

  private expired(cursor: OpenCursor, now: number): boolean {
    return !cursor.noTimeout && now - cursor.lastUsed > this.idleTimeoutMs();
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
    this.cursors.clear();
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
