// Open cursors: the rest of a result set a client pulls with getMore, until exhausted, killed or idle.
import { Long, calculateObjectSize } from 'bson';
import { randomBytes } from 'node:crypto';
import type { Doc } from './bson-values.ts';
import { MongoCommandError } from './errors.ts';

/** mongod's default cursorTimeoutMillis. */
const IDLE_TIMEOUT_MS = 10 * 60 * 1000;
/** A reply must stay under the 16 MiB document limit, with room for the envelope. */
const BATCH_BYTES = 16 * 1024 * 1024 - 64 * 1024;
export const DEFAULT_FIRST_BATCH = 101;

interface OpenCursor {
  ns: string;
  docs: Iterator<Doc>;
  lastUsed: number;
}

export interface Batch {
  id: Long;
  ns: string;
  docs: Doc[];
}

export class CursorRegistry {
  private readonly cursors = new Map<string, OpenCursor>();
  private readonly sweeper: NodeJS.Timeout;

  constructor() {
    this.sweeper = setInterval(() => this.sweep(), 60_000);
    this.sweeper.unref();
  }

  /** Takes the first batch; keeps a cursor open only when more documents remain. */
  open(ns: string, docs: Iterable<Doc>, batchSize: number | undefined, single = false): Batch {
    const iterator = docs[Symbol.iterator]();
    const { docs: batch, done } = takeBatch(iterator, batchSize ?? DEFAULT_FIRST_BATCH);
    if (done || single) return { id: Long.ZERO, ns, docs: batch };
    const id = Long.fromBigInt(randomBytes(8).readBigInt64LE() & 0x7fffffffffffffffn);
    this.cursors.set(id.toString(), { ns, docs: iterator, lastUsed: Date.now() });
    return { id, ns, docs: batch };
  }

  getMore(id: unknown, ns: string, batchSize: number | undefined): Batch {
    const key = String(id);
    const cursor = this.cursors.get(key);
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

  private sweep(): void {
    const cutoff = Date.now() - IDLE_TIMEOUT_MS;
    for (const [key, cursor] of this.cursors) if (cursor.lastUsed < cutoff) this.cursors.delete(key);
  }

  close(): void {
    clearInterval(this.sweeper);
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
