// The TCP server: frames messages per connection, runs commands one at a time per connection
// (as mongod does), and replies once any change the command made is durable.
import net from 'node:net';
import { once } from 'node:events';
import type { Doc } from './bson-values.ts';
import { commands } from './commands/index.ts';
import type { CommandContext, ServerState } from './commands/context.ts';
import { CursorRegistry, DEFAULT_CURSOR_TIMEOUT_MS } from './cursors.ts';
import { MongoCommandError } from './errors.ts';
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
}

const TRANSACTION_FIELDS = ['txnNumber', 'startTransaction', 'autocommit'];
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
    this.state = {
      storage,
      cursors,
      startedAt: Date.now(),
      host: options.host ?? '127.0.0.1',
      port: 0,
      argv: options.argv ?? [],
      parameters,
      connections: { current: 0, totalCreated: 0 },
      operations: new OperationTotals(),
      requestShutdown: () => setImmediate(() => options.onShutdownRequest?.()),
    };
    this.ttl = new TtlMonitor(storage, () => this.state.parameters.ttlMonitorSleepSecs);
  }

  static async start(options: ServerOptions = {}): Promise<WireServer> {
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
    wire.ttl.start();
    return wire;
  }

  get port(): number {
    return this.state.port;
  }

  private accept(socket: net.Socket): void {
    const connectionId = this.nextConnectionId++;
    this.sockets.add(socket);
    this.state.connections.current++;
    this.state.connections.totalCreated++;
    socket.setNoDelay(true);
    const context: CommandContext = {
      server: this.state,
      db: 'admin',
      connectionId,
      remote: `${socket.remoteAddress}:${socket.remotePort}`,
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
      this.sockets.delete(socket);
      this.state.connections.current--;
    });
  }

  /** Runs one command and returns its reply document (errors become ok:0 replies). */
  async run(request: Request, base: CommandContext): Promise<Doc> {
    const { command } = request;
    const name = Object.keys(command)[0] ?? '';
    const db = typeof command.$db === 'string' ? command.$db : 'admin';
    const definition = commands.get(name);
    try {
      if (TRANSACTION_FIELDS.some((f) => f in command)) {
        throw new MongoCommandError('IllegalOperation', 'Transaction numbers are only allowed on a replica set member or mongos');
      }
      if (!definition) throw new MongoCommandError('CommandNotFound', `no such command: '${name}'`);
      const started = performance.now();
      try {
        return await definition.handler(command, { ...base, db });
      } finally {
        if (definition.writes) await this.storage.sync();
        this.state.operations.record(command, db, (performance.now() - started) * 1000);
      }
    } catch (error) {
      if (error instanceof MongoCommandError) return error.toReply();
      return { ok: 0, errmsg: (error as Error).message ?? String(error), code: 1, codeName: 'InternalError' };
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
