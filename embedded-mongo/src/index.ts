// embedded-mongo: a MongoDB-wire-compatible server for development, tests and small deployments.
import { WireServer } from './server.ts';

export interface EmbeddedMongoOptions {
  /** TCP port; 0 (default) picks a free one. */
  port?: number;
  /** Interface to listen on (default 127.0.0.1). */
  host?: string;
  /** Directory for durable data; in-memory when omitted. */
  dbPath?: string;
  /** Seconds between TTL monitor passes (mongod's ttlMonitorSleepSecs, default 60). */
  ttlMonitorSleepSecs?: number;
  /** Milliseconds an open cursor may sit idle before it is closed (mongod's cursorTimeoutMillis, default 10 min). */
  cursorTimeoutMillis?: number;
  /** Journal size in bytes that triggers compaction into a snapshot (default 64 MiB). */
  compactBytes?: number;
}

export interface EmbeddedMongo {
  /** `mongodb://HOST:PORT` — add a database name and options as needed. */
  uri: string;
  port: number;
  host: string;
  /** Closes connections, flushes the journal and releases the port. */
  stop(): Promise<void>;
}

export async function startEmbeddedMongo(options: EmbeddedMongoOptions = {}): Promise<EmbeddedMongo> {
  const host = options.host ?? '127.0.0.1';
  const server = await WireServer.start({ ...options, host });
  let stopping: Promise<void> | undefined;
  return {
    uri: `mongodb://${host.includes(':') ? `[${host}]` : host}:${server.port}`,
    port: server.port,
    host,
    stop: () => (stopping ??= server.stop()),
  };
}

export { WireServer } from './server.ts';
