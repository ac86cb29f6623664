// Charla and embedded-mongo as separate operating-system processes, started the way an operator
// starts them (the `embedded-mongo` command, `node server/src/main.ts`), for what an in-process
// server cannot show: a SIGKILLed server, a database that stops answering, a load generator that
// must not share the server's event loop.
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { MongoClient } from 'mongodb';

const EMBEDDED_MONGO_BIN = fileURLToPath(new URL('../../embedded-mongo/bin/embedded-mongo.js', import.meta.url));
const SERVER_MAIN = fileURLToPath(new URL('../../server/src/main.ts', import.meta.url));
const REPOSITORY_ROOT = fileURLToPath(new URL('../..', import.meta.url));
const READY_TIMEOUT_MS = 60_000;

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** A child process whose JSON log lines are collected and can be waited for. */
export class LoggingProcess {
  readonly child: ChildProcess;
  readonly exited: Promise<Exit>;
  /** Every line written to stdout or stderr, in order. */
  readonly lines: string[] = [];
  private readonly watchers = new Set<(line: string) => void>();

  constructor(command: string, args: string[], options: { env?: NodeJS.ProcessEnv; cwd?: string } = {}) {
    this.child = spawn(command, args, { cwd: options.cwd ?? REPOSITORY_ROOT, env: { ...process.env, ...options.env }, stdio: ['ignore', 'pipe', 'pipe'] });
    for (const stream of [this.child.stdout!, this.child.stderr!]) {
      let partial = '';
      stream.setEncoding('utf8').on('data', (chunk: string) => {
        const parts = (partial + chunk).split('\n');
        partial = parts.pop()!;
        for (const line of parts) {
          this.lines.push(line);
          for (const watch of this.watchers) watch(line);
        }
      });
    }
    this.exited = new Promise((resolve) => this.child.once('exit', (code, signal) => resolve({ code, signal })));
  }

  get pid(): number {
    return this.child.pid!;
  }

  /** Resolves with the first JSON line (already written or future) that `match` accepts. */
  waitForJsonLine<T = Record<string, unknown>>(match: (line: T) => boolean, what: string, timeoutMs = READY_TIMEOUT_MS): Promise<T> {
    const parse = (line: string): T | undefined => {
      if (!line.trimStart().startsWith('{')) return undefined;
      try {
        return JSON.parse(line) as T;
      } catch {
        return undefined;
      }
    };
    for (const line of this.lines) {
      const parsed = parse(line);
      if (parsed && match(parsed)) return Promise.resolve(parsed);
    }
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => finish(new Error(`timed out waiting for ${what}:\n${this.lines.slice(-20).join('\n')}`)), timeoutMs);
      const watch = (line: string): void => {
        const parsed = parse(line);
        if (parsed && match(parsed)) finish(undefined, parsed);
      };
      const finish = (error?: Error, value?: T): void => {
        clearTimeout(timer);
        this.watchers.delete(watch);
        if (error) reject(error);
        else resolve(value!);
      };
      this.watchers.add(watch);
      void this.exited.then((exit) => finish(new Error(`the process exited (${exit.code ?? exit.signal}) before ${what}:\n${this.lines.slice(-20).join('\n')}`)));
    });
  }

  signal(signal: NodeJS.Signals): void {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill(signal);
  }

  /** SIGTERM, then SIGKILL when it has not exited within `graceMs`. */
  async stop(graceMs = 10_000): Promise<Exit> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return this.exited;
    this.signal('SIGTERM');
    const timer = setTimeout(() => this.signal('SIGKILL'), graceMs);
    const exit = await this.exited;
    clearTimeout(timer);
    return exit;
  }
}

export interface MongoProcess extends LoggingProcess {
  /** `mongodb://127.0.0.1:PORT` (no database name; a replica set's adds `/?replicaSet=NAME`). */
  uri: string;
  port: number;
}

/**
 * The `embedded-mongo` command. With `dbPath` every acknowledged write is journaled there and
 * survives a restart on the same path; without it the data lives in memory only.
 */
export async function startMongoProcess(options: { dbPath?: string; port?: number; args?: string[]; nodeArgs?: string[] } = {}): Promise<MongoProcess> {
  const args = ['--port', String(options.port ?? 0), ...(options.dbPath ? ['--dbpath', options.dbPath] : []), ...(options.args ?? [])];
  // `nodeArgs` go to Node itself (--cpu-prof, --max-old-space-size …), before the script.
  const process_ = new LoggingProcess(process.execPath, [...(options.nodeArgs ?? []), EMBEDDED_MONGO_BIN, ...args]);
  const ready = await process_.waitForJsonLine<{ id?: number; attr?: { port: number } }>((line) => line.id === 23016, 'embedded-mongo to accept connections');
  const port = ready.attr!.port;
  return Object.assign(process_, { port, uri: `mongodb://127.0.0.1:${port}` });
}

/** mongod's log message once a replica-set member may take writes (mongodb-memory-server waits for it too, ignoring case). */
const PRIMARY_LOG_MESSAGE = /transition to primary complete; database writes are now permitted/i;

/**
 * The `embedded-mongo` command as a one-member replica set named `replSet`, initiated the way an
 * operator does it (replSetInitiate over a direct connection). `uri` names the set.
 */
export async function startReplicaSetMongoProcess(options: { dbPath?: string; replSet?: string; nodeArgs?: string[] } = {}): Promise<MongoProcess> {
  const replSet = options.replSet ?? 'rs0';
  const mongo = await startMongoProcess({ dbPath: options.dbPath, args: ['--replSet', replSet], nodeArgs: options.nodeArgs });
  const primary = mongo.waitForJsonLine<{ msg?: string }>((line) => PRIMARY_LOG_MESSAGE.test(line.msg ?? ''), 'the replica set to have a primary');
  const direct = await MongoClient.connect(`${mongo.uri}/?directConnection=true`);
  try {
    await direct.db('admin').command({ replSetInitiate: { _id: replSet, members: [{ _id: 0, host: `127.0.0.1:${mongo.port}` }] } });
  } finally {
    await direct.close();
  }
  await primary;
  return Object.assign(mongo, { uri: `mongodb://127.0.0.1:${mongo.port}/?replicaSet=${replSet}` });
}

export interface CharlaProcess extends LoggingProcess {
  /** Base URL, like http://127.0.0.1:PORT. */
  url: string;
  /** The demo inbox's website token, when the process created the demo account (first start, CHARLA_DEMO=1). */
  websiteToken: string | undefined;
}

/**
 * `node server/src/main.ts` as `npm start` runs it (without building the UIs), on `mongodbUri`.
 * `env` adds to or overrides the defaults: port 0, info logs, no demo account.
 */
export async function startCharlaProcess(options: { mongodbUri: string; dataDir: string; env?: NodeJS.ProcessEnv; nodeArgs?: string[] }): Promise<CharlaProcess> {
  const env: NodeJS.ProcessEnv = {
    PORT: '0',
    HOST: '127.0.0.1',
    LOG_LEVEL: 'info',
    CHARLA_DEMO: '0',
    CHARLA_ADMIN_PASSWORD: 'admin-password',
    ...options.env,
    MONGODB_URI: options.mongodbUri,
    DATA_DIR: options.dataDir,
  };
  const process_ = new LoggingProcess(process.execPath, [...(options.nodeArgs ?? []), '--import', 'tsx', SERVER_MAIN], { env });
  const ready = await process_.waitForJsonLine<{ url?: string }>((line) => typeof line.url === 'string' && 'starts' in line, 'Charla to be ready');
  const announced = process_.lines.map((line) => (line.includes('"websiteToken"') ? (JSON.parse(line) as { websiteToken: string }).websiteToken : undefined)).find(Boolean);
  return Object.assign(process_, { url: ready.url!, websiteToken: announced });
}
