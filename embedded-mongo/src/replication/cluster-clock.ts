// The replica set's logical clock: every write gets a fresh Timestamp (seconds since the epoch,
// then a counter within the second), strictly increasing, as mongod stamps its oplog entries.
import { Timestamp } from 'bson';

export function compareTimestamps(a: Timestamp, b: Timestamp): number {
  return a.t !== b.t ? (a.t < b.t ? -1 : 1) : a.i === b.i ? 0 : a.i < b.i ? -1 : 1;
}

export class ClusterClock {
  private last: Timestamp;
  private lastWall: Date;

  constructor(now = Date.now()) {
    this.last = new Timestamp({ t: Math.floor(now / 1000), i: 0 });
    this.lastWall = new Date(now);
  }

  /** The time of the latest write (or of start-up, before any write). */
  get current(): Timestamp {
    return this.last;
  }

  /** Wall-clock time of the latest write. */
  get currentWallTime(): Date {
    return this.lastWall;
  }

  /** The time the next write will have at the earliest: later than every write so far. */
  peekNext(): Timestamp {
    return new Timestamp({ t: this.last.t, i: this.last.i + 1 });
  }

  /** Allocates the time of one write. */
  tick(now = Date.now()): Timestamp {
    const seconds = Math.floor(now / 1000);
    // A clock that went backwards keeps the old second and counts on: times never repeat.
    this.last = seconds > this.last.t ? new Timestamp({ t: seconds, i: 1 }) : this.peekNext();
    this.lastWall = new Date(now);
    return this.last;
  }
}
