// What the server has run since it started, kept the way mongod reports it: `serverStatus`
// opcounters (per kind of operation) and the `top` command (count and time per namespace), so a
// benchmark can tell how many database operations each request of an application costs.
import type { Doc } from './bson-values.ts';

export type OperationKind = 'queries' | 'getmore' | 'insert' | 'update' | 'remove' | 'commands';
const KINDS: readonly OperationKind[] = ['queries', 'getmore', 'insert', 'update', 'remove', 'commands'];

interface Tally {
  count: number;
  micros: number;
}

const commandKinds: Record<string, OperationKind> = {
  find: 'queries',
  getMore: 'getmore',
  insert: 'insert',
  update: 'update',
  delete: 'remove',
};

// Commands that name the collection they run on as their first field's value.
const COLLECTION_COMMANDS = new Set(['find', 'insert', 'update', 'delete', 'aggregate', 'count', 'distinct', 'findAndModify', 'findandmodify', 'createIndexes', 'dropIndexes', 'listIndexes', 'collStats', 'drop', 'create']);

export class OperationTotals {
  readonly opcounters = { insert: 0, query: 0, update: 0, delete: 0, getmore: 0, command: 0 };
  private readonly namespaces = new Map<string, Record<OperationKind | 'total', Tally>>();

  /** Records one command that took `micros`; `command` is the request as received. */
  record(command: Doc, db: string, micros: number): void {
    const name = Object.keys(command)[0] ?? '';
    const kind = commandKinds[name] ?? 'commands';
    // opcounters count documents for inserts and statements for updates and deletes, as mongod does.
    if (kind === 'insert') this.opcounters.insert += Array.isArray(command.documents) ? command.documents.length : 1;
    else if (kind === 'update') this.opcounters.update += Array.isArray(command.updates) ? command.updates.length : 1;
    else if (kind === 'remove') this.opcounters.delete += Array.isArray(command.deletes) ? command.deletes.length : 1;
    else if (kind === 'queries') this.opcounters.query++;
    else if (kind === 'getmore') this.opcounters.getmore++;
    else this.opcounters.command++;

    const collection = name === 'getMore' ? command.collection : COLLECTION_COMMANDS.has(name) ? command[name] : undefined;
    if (typeof collection !== 'string') return;
    const namespace = `${db}.${collection}`;
    let tallies = this.namespaces.get(namespace);
    if (!tallies) {
      tallies = { total: { count: 0, micros: 0 }, ...Object.fromEntries(KINDS.map((k) => [k, { count: 0, micros: 0 }])) } as Record<OperationKind | 'total', Tally>;
      this.namespaces.set(namespace, tallies);
    }
    for (const tally of [tallies.total, tallies[kind]]) {
      tally.count++;
      tally.micros += micros;
    }
  }

  /** The `top` command's reply: per namespace, count and time (µs) in all and per kind. */
  top(): Doc {
    const totals: Doc = { note: 'all times in microseconds' };
    for (const [namespace, tallies] of [...this.namespaces].sort(([a], [b]) => a.localeCompare(b))) {
      const entry: Doc = {};
      for (const [key, tally] of Object.entries(tallies)) entry[key] = { time: Math.round(tally.micros), count: tally.count };
      // mongod splits time by lock; embedded-mongo runs one command at a time, so reads and writes are its locks.
      entry.readLock = entry.queries;
      entry.writeLock = { time: Math.round(tallies.insert.micros + tallies.update.micros + tallies.remove.micros), count: tallies.insert.count + tallies.update.count + tallies.remove.count };
      totals[namespace] = entry;
    }
    return { totals, ok: 1 };
  }
}
