// Removes documents whose TTL index date is older than expireAfterSeconds, like mongod's TTL
// monitor: one pass every ttlMonitorSleepSecs (default 60), using the index to find them.
import { Bound, TypeOrder } from './bson-values.ts';
import type { Storage } from './storage/catalog.ts';

export class TtlMonitor {
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;

  constructor(
    private readonly storage: Storage,
    private readonly sleepSeconds: () => number,
    /** As in mongod, only a primary (or a standalone) deletes: an uninitiated member waits. */
    private readonly writable: () => boolean = () => true,
  ) {}

  start(): void {
    this.schedule();
  }

  private schedule(): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.pass()
        .catch(() => undefined)
        .finally(() => this.schedule());
    }, this.sleepSeconds() * 1000);
    this.timer.unref();
  }

  /** One pass over every TTL index; returns how many documents were removed. */
  async pass(now = Date.now()): Promise<number> {
    let removed = 0;
    if (!this.writable()) return removed;
    for (const collection of [...this.storage.allCollections()]) {
      for (const index of [...collection.indexes.values()]) {
        const seconds = index.spec.expireAfterSeconds;
        if (seconds === undefined || index.fields.length !== 1) continue;
        const cutoff = new Date(now - Number(seconds) * 1000);
        // Dates sort between type-bracket bounds; scanning up to the cutoff finds the expired ones.
        const expired = [...index.scan([[{ low: new Bound(TypeOrder.date, -1), high: cutoff }]])];
        for (const doc of expired) {
          if (collection.findById(doc._id) === doc) {
            this.storage.remove(collection, doc);
            removed++;
          }
        }
      }
    }
    if (removed > 0) await this.storage.sync();
    return removed;
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
  }
}
