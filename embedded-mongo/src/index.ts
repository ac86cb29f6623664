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
  /**
   * Runs as a single-member replica set of this name (change streams, retryable writes). It is
   * initiated with itself as the one member before startEmbeddedMongo resolves.
   */
  replSet?: string;
  /** Replica-set mode: how many recent changes change streams can resume from (default 100 000). */
  changeHistoryLimit?: number;
}

export interface EmbeddedMongo {
  /**
   * `mongodb://HOST:PORT`, or `mongodb://HOST:PORT/?replicaSet=NAME` in replica-set mode — set the
   * path to name a database (`new URL(uri)`, `pathname`) and add options as needed.
   */
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
  const address = `mongodb://${host.includes(':') ? `[${host}]` : host}:${server.port}`;
  if (options.replSet !== undefined) {
    try {
      await server.initiateReplicaSet();
    } catch (error) {
      await server.stop();
      throw error;
    }
  }
  return {
    uri: options.replSet === undefined ? address : `${address}/?replicaSet=${encodeURIComponent(options.replSet)}`,
    port: server.port,
    host,
    stop: () => (stopping ??= server.stop()),
  };
}

export { WireServer } from './server.ts';
