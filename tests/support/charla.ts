// A real Charla server for tests: in-process, HTTP and WebSocket on 127.0.0.1 port 0, its own
// database on the test MongoDB, and clients that speak to it the way the console and widget do.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createClient, type Client } from 'graphql-ws';
import WebSocket from 'ws';
import { startCharla, type RunningCharla, type StartOptions } from '../../server/src/charla.ts';
import { loadConfig, type Config } from '../../server/src/config.ts';
import { createLogger } from '../../server/src/logger.ts';
import { startTestMongo, type TestMongo } from './mongo.ts';
import { requestGraphQL, type GraphQLResult } from './graphql-http.ts';

export type { GraphQLResult };

export interface TestCharla extends RunningCharla {
  config: Config;
  dataDir: string;
  /** POST /graphql with an optional bearer token. */
  graphql<T = any>(query: string, variables?: Record<string, unknown>, token?: string): Promise<GraphQLResult<T>>;
  /** Like `graphql` but throws on errors and returns `data`. */
  mutate<T = any>(query: string, variables?: Record<string, unknown>, token?: string): Promise<T>;
  /** POST /uploads as the console and widget do; `claimedType` is what the client says the file is. */
  upload(bytes: Buffer | string, options: { token?: string; conversationId?: string; fileName?: string; claimedType?: string }): Promise<{ status: number; body: any }>;
  /** A graphql-ws subscription that records every result it receives. */
  subscribe<T = any>(query: string, variables?: Record<string, unknown>, token?: string): Promise<TestSubscription<T>>;
}

export interface TestSubscription<T> {
  /** Everything received so far, in order. */
  results: Array<GraphQLResult<T>>;
  /** Resolves with the first result (already received or future) that matches. */
  waitFor(match: (result: GraphQLResult<T>) => boolean, timeoutMs?: number): Promise<GraphQLResult<T>>;
  /** Resolves when the server ended the subscription (e.g. with an error). */
  ended: Promise<void>;
  close(): Promise<void>;
}

const running: Array<() => Promise<void>> = [];

/** Stops every server started by `startTestCharla` in this file (call in afterAll). */
export async function stopAllTestCharlas(): Promise<void> {
  for (const stop of running.splice(0)) await stop();
}

/**
 * Starts a server on a fresh database — or, when `overrides.mongodbUri` is given, on that one (a
 * restart test starts a second server on the first one's data; the caller owns that database).
 */
export async function startTestCharla(overrides: Partial<Config> = {}, env: NodeJS.ProcessEnv = {}, startOptions: StartOptions = {}): Promise<TestCharla> {
  const mongo: TestMongo | undefined = overrides.mongodbUri ? undefined : await startTestMongo();
  const dataDir = await mkdtemp(join(tmpdir(), 'charla-test-'));
  const config: Config = {
    ...loadConfig({ PORT: '0', HOST: '127.0.0.1', DATA_DIR: dataDir, CHARLA_DEMO: '0', CHARLA_ADMIN_PASSWORD: 'admin-password', ...env }),
    mongodbUri: mongo?.dbUri,
    ...overrides,
  };
  const logger = createLogger((process.env.TEST_LOG_LEVEL as Config['logLevel'] | undefined) ?? 'silent');
  const charla = await startCharla(config, logger, { jobsProcessEveryMs: 100, socketRecheckMs: 200, ...startOptions });
  const wsClients: Client[] = [];

  let stopped = false;
  const stop = async (): Promise<void> => {
    if (stopped) return;
    stopped = true;
    for (const client of wsClients.splice(0)) await client.dispose();
    await charla.stop();
    await mongo?.stop();
    await rm(dataDir, { recursive: true, force: true });
  };
  running.push(stop);

  const graphql = <T>(query: string, variables?: Record<string, unknown>, token?: string): Promise<GraphQLResult<T>> => requestGraphQL<T>(charla.url, query, variables, token);

  return {
    ...charla,
    config,
    dataDir,
    stop,
    graphql,
    async mutate<T>(query: string, variables?: Record<string, unknown>, token?: string): Promise<T> {
      const result = await graphql<T>(query, variables, token);
      if (result.errors?.length) throw new Error(`GraphQL errors: ${JSON.stringify(result.errors)}`);
      return result.data as T;
    },
    async upload(bytes, { token, conversationId, fileName = 'file.bin', claimedType = 'application/octet-stream' }) {
      const form = new FormData();
      if (conversationId) form.set('conversationId', conversationId);
      form.set('file', new Blob([bytes], { type: claimedType }), fileName);
      const response = await fetch(`${charla.url}/uploads`, { method: 'POST', body: form, headers: token ? { authorization: `Bearer ${token}` } : {} });
      return { status: response.status, body: await response.json() };
    },
    async subscribe<T>(query: string, variables?: Record<string, unknown>, token?: string): Promise<TestSubscription<T>> {
      const client = createClient({
        url: `${charla.url.replace(/^http/, 'ws')}/graphql`,
        webSocketImpl: WebSocket,
        connectionParams: token ? { authorization: `Bearer ${token}` } : {},
        retryAttempts: 0,
        lazy: false,
      });
      wsClients.push(client);
      await new Promise<void>((resolve, reject) => {
        const offConnected = client.on('connected', () => {
          offConnected();
          resolve();
        });
        client.on('closed', (event) => reject(new Error(`WebSocket closed before connecting: ${JSON.stringify(event)}`)));
      });
      const results: Array<GraphQLResult<T>> = [];
      const waiters = new Set<() => void>();
      let resolveEnded!: () => void;
      const ended = new Promise<void>((resolve) => (resolveEnded = resolve));
      let subscribed!: () => void;
      const acknowledged = new Promise<void>((resolve) => (subscribed = resolve));
      const unsubscribe = client.subscribe<T>(
        { query, variables },
        {
          next: (result) => {
            results.push(result as GraphQLResult<T>);
            for (const wake of waiters) wake();
          },
          error: (error) => {
            const closed = error as { code?: unknown; reason?: unknown; message?: unknown };
            const errors = Array.isArray(error)
              ? error
              : typeof closed?.code === 'number'
                ? [{ message: `WebSocket closed: ${closed.code} ${String(closed.reason ?? '')}` }]
                : [{ message: String(closed?.message ?? error) }];
            results.push({ errors } as GraphQLResult<T>);
            for (const wake of waiters) wake();
            resolveEnded();
          },
          complete: () => resolveEnded(),
        },
      );
      // graphql-ws has no "subscribed" acknowledgement; a ping round trip after the subscribe
      // message guarantees the server has processed it (messages are handled in order).
      void pingRoundTrip(client).then(subscribed);
      await acknowledged;
      return {
        results,
        ended,
        waitFor(match, timeoutMs = 5_000) {
          return new Promise((resolve, reject) => {
            const check = (): boolean => {
              const found = results.find(match);
              if (!found) return false;
              waiters.delete(check as () => void);
              clearTimeout(timer);
              resolve(found);
              return true;
            };
            const timer = setTimeout(() => {
              waiters.delete(check as () => void);
              reject(new Error(`no matching subscription result within ${timeoutMs} ms; got ${JSON.stringify(results)}`));
            }, timeoutMs);
            if (!check()) waiters.add(check as () => void);
          });
        },
        async close() {
          unsubscribe();
          await client.dispose();
        },
      };
    },
  };
}

async function pingRoundTrip(client: Client): Promise<void> {
  // A throwaway subscription on a trivial query resolves once the server answered it.
  await new Promise<void>((resolve) => {
    client.subscribe({ query: '{ health { status } }' }, { next: () => {}, error: () => resolve(), complete: () => resolve() });
  });
}
