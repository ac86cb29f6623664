// What every command handler receives, and small argument parsers shared by the handlers.
import type { Doc } from '../bson-values.ts';
import { isPlainDocument, toNumber, typeOrder, TypeOrder } from '../bson-values.ts';
import type { CursorRegistry } from '../cursors.ts';
import { MongoCommandError } from '../errors.ts';
import type { OperationTotals } from '../operation-totals.ts';
import type { ChangeHistory } from '../replication/change-history.ts';
import type { ReplicaSet } from '../replication/replica-set.ts';
import type { RetryableWrites } from '../replication/retryable-writes.ts';
import type { Storage } from '../storage/catalog.ts';

/** What a server started with --replSet has besides storage; absent on a standalone. */
export interface ReplicationState {
  readonly set: ReplicaSet;
  /** Recent changes, for change streams; its clock is the cluster time. */
  readonly history: ChangeHistory;
  readonly retryableWrites: RetryableWrites;
}

export interface ServerState {
  readonly storage: Storage;
  readonly cursors: CursorRegistry;
  readonly startedAt: number;
  readonly host: string;
  port: number;
  readonly argv: string[];
  readonly parameters: { ttlMonitorSleepSecs: number; cursorTimeoutMillis: number };
  readonly connections: { current: number; totalCreated: number };
  /** Commands run since start (serverStatus opcounters, `top`). */
  readonly operations: OperationTotals;
  readonly replication?: ReplicationState;
  /** Stops the server after the current reply is sent (the `shutdown` command). */
  requestShutdown(): void;
}

export interface CommandContext {
  readonly server: ServerState;
  /** The database the command runs in (`$db`). */
  readonly db: string;
  readonly connectionId: number;
  readonly remote: string;
  /** Aborted when the client's connection closes (ends waits such as a change stream's getMore). */
  readonly connectionClosed?: AbortSignal;
}

export type CommandHandler = (command: Doc, context: CommandContext) => Doc | Promise<Doc>;

export interface CommandDefinition {
  handler: CommandHandler;
  /** Changes data: the reply waits until the change is durable. */
  writes?: boolean;
}

export const MONGOD_VERSION = '7.0.14';

/** The collection a command names; anything but a non-empty string is rejected (no operator injection). */
export function collectionName(command: Doc, key: string): string {
  const value = command[key];
  if (typeof value !== 'string') {
    throw new MongoCommandError('InvalidNamespace', `collection name has invalid type ${typeLabel(value)}`);
  }
  if (value.length === 0 || value.includes('\0') || value.startsWith('$')) {
    throw new MongoCommandError('InvalidNamespace', `Invalid namespace specified '${value}'`);
  }
  return value;
}

export function typeLabel(value: unknown): string {
  if (value === null) return 'null';
  if (value === undefined) return 'missing';
  if (Array.isArray(value)) return 'array';
  if (typeof value === 'object') return typeOrder(value) === TypeOrder.objectId ? 'objectId' : 'object';
  return typeof value === 'number' ? 'double' : typeof value;
}

/** A document-valued argument (filter, sort, projection); absent → default. */
export function documentArg(command: Doc, key: string, fallback: Doc = {}): Doc {
  const value = command[key];
  if (value === undefined || value === null) return fallback;
  if (!isPlainDocument(value)) {
    throw new MongoCommandError('TypeMismatch', `BSON field '${key}' is the wrong type '${typeLabel(value)}', expected type 'object'`);
  }
  return value;
}

export function numberArg(command: Doc, key: string): number | undefined {
  const value = command[key];
  if (value === undefined || value === null) return undefined;
  if (typeOrder(value) !== TypeOrder.number) {
    throw new MongoCommandError('TypeMismatch', `BSON field '${key}' is the wrong type '${typeLabel(value)}', expected a number`);
  }
  return toNumber(value);
}

export function namespaceOf(context: CommandContext, collection: string): string {
  return `${context.db}.${collection}`;
}
