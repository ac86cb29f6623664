// The recent changes change streams read, like mongod's oplog: a bounded ring of entries in write
// order, each with its cluster time and a sequence number. Recording is O(1): entries keep
// references to the stored documents (which are replaced on update, never mutated), and event
// documents are only shaped when a stream reads them.
import type { Timestamp } from 'bson';
import { randomInt } from 'node:crypto';
import type { Doc } from '../bson-values.ts';
import { ClusterClock, compareTimestamps } from './cluster-clock.ts';

export type ChangeOperation = 'insert' | 'update' | 'replace' | 'delete' | 'drop' | 'rename' | 'dropDatabase';

export interface ChangeEntry {
  readonly seq: number;
  readonly clusterTime: Timestamp;
  readonly wallTime: Date;
  readonly op: ChangeOperation;
  readonly db: string;
  /** Empty for dropDatabase. */
  readonly coll: string;
  /** The stored document before the change (update, replace, delete). */
  readonly before?: Doc;
  /** The stored document after the change (insert, update, replace). */
  readonly after?: Doc;
  /** The new namespace of a rename. */
  readonly to?: { db: string; coll: string };
}

export const DEFAULT_CHANGE_HISTORY_LIMIT = 100_000;

/** Databases change streams never report, as in mongod. */
const INTERNAL_DATABASES = new Set(['admin', 'config', 'local']);

export function isInternalNamespace(db: string, coll: string): boolean {
  return INTERNAL_DATABASES.has(db) || coll.startsWith('system.');
}

export class ChangeHistory {
  private readonly ring: ChangeEntry[] = [];
  private last = 0;
  private evictedTime: Timestamp | undefined;
  private readonly waiters = new Set<() => void>();
  /** The cluster time recording began at: nothing before it can be resumed from. */
  readonly startTime: Timestamp;
  /** Tells this history's resume tokens from those of an earlier run (or another server). */
  readonly epoch = randomInt(0, 2 ** 32);

  constructor(
    readonly clock: ClusterClock,
    /** How many entries are kept; older ones are dropped (a resume from them fails). */
    readonly limit = DEFAULT_CHANGE_HISTORY_LIMIT,
  ) {
    if (!(limit >= 1)) throw new RangeError('the change history must keep at least one entry');
    this.startTime = clock.current;
  }

  /** Sequence number of the latest entry (0 before the first). */
  get lastSeq(): number {
    return this.last;
  }

  /** Sequence number of the oldest entry still kept. */
  get firstSeq(): number {
    return Math.max(1, this.last - this.limit + 1);
  }

  /** Cluster time of the newest entry dropped from the ring, if any was. */
  get lastEvictedTime(): Timestamp | undefined {
    return this.evictedTime;
  }

  entry(seq: number): ChangeEntry | undefined {
    if (seq < this.firstSeq || seq > this.last) return undefined;
    return this.ring[(seq - 1) % this.limit];
  }

  /** Records one change to a user namespace; other writes only advance the clock. */
  record(op: ChangeOperation, db: string, coll: string, details: Pick<ChangeEntry, 'before' | 'after' | 'to'> = {}): void {
    const clusterTime = this.clock.tick();
    if (isInternalNamespace(db, coll)) return;
    const seq = ++this.last;
    const slot = (seq - 1) % this.limit;
    const evicted = this.ring[slot];
    if (evicted) this.evictedTime = evicted.clusterTime;
    this.ring[slot] = { seq, clusterTime, wallTime: this.clock.currentWallTime, op, db, coll, ...details };
    if (this.waiters.size > 0) {
      for (const wake of [...this.waiters]) wake();
    }
  }

  /** A write change streams do not report (index builds, collection creation): it still takes a cluster time. */
  tick(): void {
    this.clock.tick();
  }

  /** Sequence number of the last entry before `time` (entries from there on are at or after it). */
  seqBefore(time: Timestamp): number {
    let low = this.firstSeq;
    let high = this.last + 1;
    // Binary search for the first entry at or after `time`; the ring is ordered by cluster time.
    while (low < high) {
      const mid = (low + high) >>> 1;
      if (compareTimestamps(this.entry(mid)!.clusterTime, time) < 0) low = mid + 1;
      else high = mid;
    }
    return low - 1;
  }

  /** Resolves at the next recorded change, or when `signal` aborts. */
  changed(signal: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      if (signal.aborted) return resolve();
      const wake = () => {
        this.waiters.delete(wake);
        signal.removeEventListener('abort', wake);
        resolve();
      };
      this.waiters.add(wake);
      signal.addEventListener('abort', wake, { once: true });
    });
  }
}
