// A Charla installation as an operator runs it, for the fault tests: embedded-mongo journaling to
// a folder and the server, each its own process, so either can be killed, paused or restarted.
// The test reads the database directly (its own driver connection) to check what survived.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MongoClient, type Db } from 'mongodb';
import { createClient, type Client } from 'graphql-ws';
import WebSocket from 'ws';
import { requestGraphQL, type GraphQLResult } from '../support/graphql-http.ts';
import { startCharlaProcess, startMongoProcess, type CharlaProcess, type MongoProcess } from '../support/processes.ts';

const DATABASE_NAME = 'charla';

export interface Installation {
  mongo: MongoProcess;
  /** The server process running now (replaced by `restart`). */
  charla: CharlaProcess;
  /** The demo inbox's website token (CHARLA_DEMO=1). */
  websiteToken: string;
  db: Db;
  /** SIGKILL: no shutdown code runs, as when the machine loses power or the OOM killer strikes. */
  kill(): Promise<void>;
  /** A new server process on the same database and DATA_DIR (a new port). */
  restart(env?: NodeJS.ProcessEnv): Promise<CharlaProcess>;
  /** POST /graphql to the server running now. */
  graphql<T = any>(query: string, variables?: Record<string, unknown>, token?: string): Promise<GraphQLResult<T>>;
  mutate<T = any>(query: string, variables?: Record<string, unknown>, token?: string): Promise<T>;
  /** The administrator's session token. */
  login(): Promise<string>;
  /**
   * A graphql-ws client that follows the server across restarts: it reconnects with back-off,
   * forever, to wherever the installation's server listens now.
   */
  liveClient(token: string): Client;
}

const cleanups: Array<() => Promise<void>> = [];

/** Kills every process and removes every folder the fault tests started (call in afterEach). */
export async function cleanUpInstallations(): Promise<void> {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => {});
}

export async function startInstallation(env: NodeJS.ProcessEnv = {}): Promise<Installation> {
  const dbPath = await mkdtemp(join(tmpdir(), 'charla-fault-db-'));
  const dataDir = await mkdtemp(join(tmpdir(), 'charla-fault-data-'));
  cleanups.push(() => rm(dbPath, { recursive: true, force: true }));
  cleanups.push(() => rm(dataDir, { recursive: true, force: true }));

  const mongo = await startMongoProcess({ dbPath });
  cleanups.push(async () => {
    // A paused database cannot die until it runs again.
    mongo.signal('SIGCONT');
    mongo.signal('SIGKILL');
    await mongo.exited;
  });
  const mongodbUri = `${mongo.uri}/${DATABASE_NAME}`;
  const processes: CharlaProcess[] = [];
  cleanups.push(async () => {
    for (const process_ of processes) process_.signal('SIGKILL');
    await Promise.all(processes.map((process_) => process_.exited));
  });
  const clients: Client[] = [];
  cleanups.push(async () => {
    await Promise.all(clients.splice(0).map((client) => client.dispose()));
  });

  const start = async (extra: NodeJS.ProcessEnv): Promise<CharlaProcess> => {
    // NODE_ENV as a shell has it, not vitest's 'test' (libraries differ in what they do under test).
    const started = await startCharlaProcess({ mongodbUri, dataDir, env: { NODE_ENV: 'development', CHARLA_DEMO: '1', ...env, ...extra } });
    processes.push(started);
    return started;
  };

  const driver = await MongoClient.connect(mongo.uri, { serverSelectionTimeoutMS: 30_000 });
  cleanups.push(() => driver.close(true));

  let charla = await start({});
  if (!charla.websiteToken) throw new Error('the first start did not announce the demo website token');
  const websiteToken = charla.websiteToken;

  const graphql = <T>(query: string, variables?: Record<string, unknown>, token?: string): Promise<GraphQLResult<T>> => requestGraphQL<T>(charla.url, query, variables, token);
  const mutate = async <T>(query: string, variables?: Record<string, unknown>, token?: string): Promise<T> => {
    const result = await graphql<T>(query, variables, token);
    if (result.errors?.length) throw new Error(`GraphQL errors: ${JSON.stringify(result.errors)}`);
    return result.data as T;
  };

  return {
    mongo,
    get charla() {
      return charla;
    },
    websiteToken,
    db: driver.db(DATABASE_NAME),
    async kill() {
      charla.signal('SIGKILL');
      await charla.exited;
    },
    async restart(extra = {}) {
      charla = await start(extra);
      return charla;
    },
    graphql,
    mutate,
    async login() {
      const data = await mutate<{ login: { token: string } }>(`mutation { login(email: "admin@charla.local", password: "admin-password") { token } }`);
      return data.login.token;
    },
    liveClient(token) {
      const client = createClient({
        url: () => `${charla.url.replace(/^http/, 'ws')}/graphql`,
        webSocketImpl: WebSocket,
        connectionParams: { authorization: `Bearer ${token}` },
        lazy: false,
        retryAttempts: Infinity,
        // A refused connection (the server is down) is an error, not a close event: retry it too.
        shouldRetry: () => true,
        retryWait: (retries) => new Promise((resolve) => setTimeout(resolve, Math.min(2_000, 100 * 2 ** retries) * (0.5 + Math.random() / 2))),
      });
      clients.push(client);
      return client;
    },
  };
}

/** One query or mutation over graphql-ws; rejects with the GraphQL errors. */
export function request<T = any>(client: Client, query: string, variables?: Record<string, unknown>): Promise<T> {
  return new Promise((resolve, reject) => {
    let data: T | undefined;
    client.subscribe<T>(
      { query, variables },
      {
        next: (result) => {
          if (result.errors?.length) reject(Object.assign(new Error(JSON.stringify(result.errors)), { errors: result.errors }));
          else data = result.data as T;
        },
        error: (error) => reject(error instanceof Error ? error : Object.assign(new Error(JSON.stringify(error)), { errors: error })),
        complete: () => resolve(data as T),
      },
    );
  });
}

/** Polls `check` until it returns something other than undefined, or fails after `timeoutMs`. */
export async function eventually<T>(what: string, check: () => Promise<T | undefined> | T | undefined, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
