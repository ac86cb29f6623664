// The TCP server: frames messages per connection, runs commands one at a time per connection
// (as mongod does), and replies once any change the command made is durable.
import net from 'node:net';
import { once } from 'node:events';
import { Binary, Long } from 'bson';
import { isPlainDocument, type Doc } from './bson-values.ts';
import { commands } from './commands/index.ts';
import type { CommandContext, CommandDefinition, ReplicationState, ServerState } from './commands/context.ts';
import { STANDALONE_TRANSACTION_NUMBERS, TRANSACTIONS_UNSUPPORTED } from './commands/replication.ts';
import { CursorRegistry, DEFAULT_CURSOR_TIMEOUT_MS } from './cursors.ts';
import { MongoCommandError } from './errors.ts';
import { ChangeHistory } from './replication/change-history.ts';
import { ClusterClock } from './replication/cluster-clock.ts';
import { ReplicaSet } from './replication/replica-set.ts';
import { RetryableWrites } from './replication/retryable-writes.ts';
import { Storage } from './storage/catalog.ts';
import { OperationTotals } from './operation-totals.ts';
import { TtlMonitor } from './ttl-monitor.ts';
import { encodeMessage, encodeReply, HEADER_BYTES, MAX_MESSAGE_BYTES, parseMessage, type Request } from './wire.ts';

export interface ServerOptions {
  port?: number;
  host?: string;
  dbPath?: string;
  ttlMonitorSleepSecs?: number;
  /** Idle time after which an open cursor is closed (mongod's cursorTimeoutMillis). */
  cursorTimeoutMillis?: number;
  /** Journal size that triggers compaction (bytes). */
  compactBytes?: number;
  argv?: string[];
  /** Called when a client sends `shutdown`. */
  onShutdownRequest?: () => void;
  /**
   * Replica-set mode under this set name (mongod's --replSet): uninitiated until replSetInitiate
   * (or a config stored by an earlier run), then the primary of a one-member set.
   */
  replSet?: string;
  /** Replica-set mode: how many recent changes are kept for change streams to resume from. */
  changeHistoryLimit?: number;
  /** Called (after the current turn of the event loop) each time the server becomes primary. */
  onPrimary?: () => void;
}

const TRANSACTION_FIELDS = ['txnNumber', 'startTransaction', 'autocommit'];
/** Commands that read data, refused by an uninitiated replica-set member as by mongod. */
const READ_COMMANDS = new Set(['find', 'getMore', 'aggregate', 'count', 'distinct', 'listCollections', 'listIndexes']);
const ZERO_SIGNATURE = { hash: new Binary(Buffer.alloc(20)), keyId: Long.ZERO };
/** Requests read ahead of the one running; beyond this the socket is paused (backpressure). */
const MAX_QUEUED_REQUESTS = 8;

export class WireServer {
  private readonly server = net.createServer((socket) => this.accept(socket));
  private readonly sockets = new Set<net.Socket>();
  private readonly ttl: TtlMonitor;
  private nextConnectionId = 1;
  private nextRequestId = 1;
  readonly state: ServerState;

  private constructor(
    readonly storage: Storage,
    private readonly options: ServerOptions,
  ) {
    const parameters = {
      ttlMonitorSleepSecs: options.ttlMonitorSleepSecs ?? 60,
      cursorTimeoutMillis: options.cursorTimeoutMillis ?? DEFAULT_CURSOR_TIMEOUT_MS,
    };
    const cursors = new CursorRegistry(() => parameters.cursorTimeoutMillis);
    const host = options.host ?? '127.0.0.1';
    let replication: ReplicationState | undefined;
    if (options.replSet !== undefined) {
      const clock = new ClusterClock();
      const history = new ChangeHistory(clock, options.changeHistoryLimit);
      const onPrimary = () => setImmediate(() => options.onPrimary?.());
      const set = new ReplicaSet(options.replSet, storage, clock, { host, port: () => this.state.port }, onPrimary);
      storage.recordChangesTo(history);
      replication = { set, history, retryableWrites: new RetryableWrites() };
    }
    this.state = {
      storage,
      cursors,
      startedAt: Date.now(),
      host,
      port: 0,
      argv: options.argv ?? [],
      parameters,
      connections: { current: 0, totalCreated: 0 },
      operations: new OperationTotals(),
      requestShutdown: () => setImmediate(() => options.onShutdownRequest?.()),
      replication,
    };
    this.ttl = new TtlMonitor(storage, () => this.state.parameters.ttlMonitorSleepSecs, () => replication?.set.primary ?? true);
  }

  static async start(options: ServerOptions = {}): Promise<WireServer> {
    const limit = options.changeHistoryLimit;
    if (limit !== undefined && !(Number.isSafeInteger(limit) && limit >= 1)) throw new RangeError('changeHistoryLimit must be a positive integer');
    const storage = await Storage.open({ dbPath: options.dbPath, compactBytes: options.compactBytes });
    const wire = new WireServer(storage, options);
    try {
      await new Promise<void>((resolve, reject) => {
        wire.server.once('error', reject);
        wire.server.listen(options.port ?? 0, wire.state.host, () => {
          wire.server.off('error', reject);
          resolve();
        });
      });
    } catch (error) {
      wire.state.cursors.close();
      await storage.close();
      throw error;
    }
    wire.state.port = (wire.server.address() as net.AddressInfo).port;
    // A config stored by an earlier run (durable dbPath) makes this member primary at once.
    wire.state.replication?.set.restore();
    wire.ttl.start();
    return wire;
  }

  get port(): number {
    return this.state.port;
  }

  /** The replica set this server is a member of (replSet option), else undefined. */
  get replicaSet(): ReplicaSet | undefined {
    return this.state.replication?.set;
  }

  /** replSetInitiate with the default config (one member: this server); resolves once it is primary and durable. */
  async initiateReplicaSet(): Promise<void> {
    const set = this.replicaSet;
    if (!set) throw new MongoCommandError('NoReplicationEnabled', 'This node was not started with replication enabled.');
    if (!set.primary) set.initiate(undefined);
    await this.storage.sync();
  }

  private accept(socket: net.Socket): void {
    const connectionId = this.nextConnectionId++;
    this.sockets.add(socket);
    this.state.connections.current++;
    this.state.connections.totalCreated++;
    socket.setNoDelay(true);
    const closed = new AbortController();
    const context: CommandContext = {
      server: this.state,
      db: 'admin',
      connectionId,
      remote: `${socket.remoteAddress}:${socket.remotePort}`,
      connectionClosed: closed.signal,
    };
    let buffered: Buffer[] = [];
    let bufferedBytes = 0;
    let busy = false;
    const queue: Buffer[] = [];

    const drain = async () => {
      if (busy) return;
      busy = true;
      try {
        while (queue.length > 0 && !socket.destroyed) {
          const message = queue.shift()!;
          if (socket.isPaused() && queue.length < MAX_QUEUED_REQUESTS) socket.resume();
          let request: Request;
          try {
            request = parseMessage(message);
          } catch {
            // Malformed frames end this connection only.
            socket.destroy();
            return;
          }
          const reply = await this.run(request, context);
          if (request.moreToCome || socket.destroyed) continue;
          try {
            const requestId = this.nextRequestId++;
            const frame = request.legacy
              ? encodeReply(requestId, request.header.requestId, reply)
              : encodeMessage(requestId, request.header.requestId, reply);
            // A client that does not read its replies is not read from either: wait for the socket.
            if (!socket.write(frame) && !socket.destroyed) {
              socket.pause();
              await Promise.race([once(socket, 'drain'), once(socket, 'close')]);
            }
          } catch (error) {
            socket.write(encodeMessage(this.nextRequestId++, request.header.requestId, {
              ok: 0,
              errmsg: `reply could not be encoded: ${(error as Error).message}`,
              code: 10334,
              codeName: 'BSONObjectTooLarge',
            }));
          }
        }
      } finally {
        busy = false;
        if (!socket.destroyed && socket.isPaused()) socket.resume();
      }
    };

    socket.on('data', (chunk: Buffer) => {
      buffered.push(chunk);
      bufferedBytes += chunk.length;
      while (bufferedBytes >= 4) {
        const data = buffered.length === 1 ? buffered[0]! : Buffer.concat(buffered);
        buffered = [data];
        const length = data.readInt32LE(0);
        if (length < HEADER_BYTES + 1 || length > MAX_MESSAGE_BYTES) {
          socket.destroy();
          return;
        }
        if (bufferedBytes < length) break;
        queue.push(data.subarray(0, length));
        if (queue.length >= MAX_QUEUED_REQUESTS) socket.pause();
        const rest = data.subarray(length);
        buffered = rest.length > 0 ? [rest] : [];
        bufferedBytes = rest.length;
      }
      void drain();
    });
    socket.on('error', () => socket.destroy());
    socket.on('close', () => {
      closed.abort();
      this.sockets.delete(socket);
      this.state.connections.current--;
    });
  }

  /** Runs one command and returns its reply document (errors become ok:0 replies). */
  async run(request: Request, base: CommandContext): Promise<Doc> {
    const { command } = request;
    const name = Object.keys(command)[0] ?? '';
    const db = typeof command.$db === 'string' ? command.$db : 'admin';
    let reply: Doc;
    try {
      reply = await this.execute(name, command, { ...base, db });
    } catch (error) {
      reply =
        error instanceof MongoCommandError
          ? error.toReply()
          : { ok: 0, errmsg: (error as Error).message ?? String(error), code: 1, codeName: 'InternalError' };
    }
    const replication = this.state.replication;
    if (!replication) return reply;
    // A replica-set member stamps every reply with the cluster time, as mongod does.
    const { operationTime = replication.history.clock.current, ...rest } = reply;
    return { ...rest, $clusterTime: { clusterTime: replication.history.clock.current, signature: ZERO_SIGNATURE }, operationTime };
  }

  private async execute(name: string, command: Doc, ctx: CommandContext): Promise<Doc> {
    const replication = this.state.replication;
    const definition = commands.get(name);
    if (TRANSACTION_FIELDS.some((f) => f in command)) {
      if (!replication) throw new MongoCommandError('IllegalOperation', STANDALONE_TRANSACTION_NUMBERS);
      // A replica set takes retryable writes (txnNumber alone), not multi-document transactions.
      // NotImplemented, not IllegalOperation: the driver rewrites code 20 on writes into advice to
      // turn off retryable writes, which would hide what is missing.
      if ('startTransaction' in command || 'autocommit' in command) throw new MongoCommandError('NotImplemented', TRANSACTIONS_UNSUPPORTED);
    }
    if (!definition) throw new MongoCommandError('CommandNotFound', `no such command: '${name}'`);
    if (replication && !replication.set.primary) refuseUnlessPrimary(name, definition, command, ctx.db);
    const sessions = replication && definition.writes ? replication.retryableWrites : undefined;
    const retryable = sessions ? RetryableWrites.of(command) : undefined;
    if (sessions && retryable) {
      const earlier = sessions.replayed(retryable);
      if (earlier) {
        // The first attempt may still be waiting for its journal write: answer once it is durable.
        await this.storage.sync();
        return { ...earlier };
      }
    }
    const started = performance.now();
    try {
      const reply = await definition.handler(command, ctx);
      // Writes run synchronously inside the handler: the clock now shows this command's last one.
      if (replication && reply.operationTime === undefined) reply.operationTime = replication.history.clock.current;
      // Remembered before the durability wait, so a retry arriving meanwhile is not applied again.
      if (sessions && retryable) sessions.remember(retryable, reply);
      return reply;
    } finally {
      if (definition.writes) await this.storage.sync();
      this.state.operations.record(command, ctx.db, (performance.now() - started) * 1000);
    }
  }

  async stop(): Promise<void> {
    this.ttl.stop();
    this.state.cursors.close();
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    for (const socket of this.sockets) socket.destroy();
    await closed;
    await this.storage.close();
  }
}

/** What an uninitiated replica-set member refuses, with mongod's errors (the local database stays open). */
function refuseUnlessPrimary(name: string, definition: CommandDefinition, command: Doc, db: string): void {
  if (db === 'local') return;
  if (definition.writes) throw new MongoCommandError('NotWritablePrimary', 'not primary');
  if (!READ_COMMANDS.has(name)) return;
  const readPreference = command.$readPreference;
  const mode = isPlainDocument(readPreference) ? readPreference.mode : undefined;
  if (mode !== undefined && mode !== 'primary') throw new MongoCommandError('NotPrimaryOrSecondary', 'node is not in primary or recovering state');
  throw new MongoCommandError('NotPrimaryNoSecondaryOk', 'not primary and secondaryOk=false');
}
