// Opens the application's database: the configured MongoDB, or — when none is configured — the
// embedded server started in-process with its files under the data directory.
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import mongoose from 'mongoose';
import type { EmbeddedMongo } from 'embedded-mongo';
import type { Logger } from '../logger.ts';

/** Used when the connection string names no database. */
export const DEFAULT_DATABASE_NAME = 'charla';

const DEFAULT_TIMEOUT_MS = 20_000;

// A health check must answer quickly even when the database is unreachable.
const PING_TIMEOUT_MS = 2_000;

export interface DatabaseOptions {
  mongodbUri: string | undefined;
  dataDir: string;
  /** Bounds every wait for the database (see DATABASE_TIMEOUT_SECONDS); the driver's defaults wait forever for an answer. */
  timeoutMs?: number;
  logger: Logger;
}

export interface Database {
  /** True when the embedded server runs in this process. */
  readonly embedded: boolean;
  /** A replica set or sharded cluster: change streams work, so several nodes can share it. */
  readonly replicated: boolean;
  /** Resolves true when the database answers a ping. Never rejects. */
  ping(): Promise<boolean>;
  /** Closes the connection, then stops the embedded server if one was started. */
  close(): Promise<void>;
}

export async function connectDatabase({ mongodbUri, dataDir, timeoutMs = DEFAULT_TIMEOUT_MS, logger }: DatabaseOptions): Promise<Database> {
  let embeddedServer: EmbeddedMongo | undefined;
  let uri: string;
  if (mongodbUri === undefined) {
    // Loaded only here, so a deployment with its own MongoDB never loads the embedded server.
    const { startEmbeddedMongo } = await import('embedded-mongo');
    // The database gets its own folder so other data (uploads) can live beside it in DATA_DIR.
    const dbPath = join(dataDir, 'db');
    await mkdir(dbPath, { recursive: true });
    embeddedServer = await startEmbeddedMongo({ host: '127.0.0.1', port: 0, dbPath });
    logger.info({ dbPath, port: embeddedServer.port }, 'embedded database started');
    uri = embeddedServer.uri;
  } else {
    uri = mongodbUri;
  }

  let replicated: boolean;
  try {
    await mongoose.connect(uri, {
      dbName: databaseNameIn(uri) ?? DEFAULT_DATABASE_NAME,
      // A database that stops answering (a stalled disk, a paused machine, a partition) must fail
      // requests with 'database/unavailable' rather than leave them hanging: the driver waits
      // without limit for an operation's answer unless socketTimeoutMS says otherwise. The socket
      // timeout runs only while an operation waits, so idle connections are not affected.
      socketTimeoutMS: timeoutMs,
      serverSelectionTimeoutMS: timeoutMs,
      connectTimeoutMS: timeoutMs,
    });
    const hello = await mongoose.connection.db!.admin().command({ hello: 1 });
    replicated = typeof hello.setName === 'string' || hello.msg === 'isdbgrid';
  } catch (error) {
    await mongoose.disconnect().catch(() => undefined);
    await embeddedServer?.stop();
    throw error;
  }
  logger.info({ embedded: embeddedServer !== undefined, replicated, database: mongoose.connection.name }, 'database connected');

  return {
    embedded: embeddedServer !== undefined,
    replicated,
    async ping() {
      const db = mongoose.connection.db;
      if (db === undefined) return false;
      let timer: NodeJS.Timeout | undefined;
      try {
        // The driver's own timeout does not cover every wait (server selection after the server
        // vanished can take its full 30 s), so the health check sets its own deadline too.
        const deadline = new Promise<never>((_resolve, reject) => {
          timer = setTimeout(() => reject(new Error(`no answer to ping within ${PING_TIMEOUT_MS} ms`)), PING_TIMEOUT_MS);
        });
        await Promise.race([db.command({ ping: 1 }, { timeoutMS: PING_TIMEOUT_MS }), deadline]);
        return true;
      } catch (error) {
        logger.warn({ err: error }, 'database ping failed');
        return false;
      } finally {
        clearTimeout(timer);
      }
    },
    async close() {
      try {
        await mongoose.disconnect();
      } finally {
        await embeddedServer?.stop();
      }
    },
  };
}

/** The database named in a connection string's path, if any (hosts may be a comma list). */
function databaseNameIn(uri: string): string | undefined {
  const name = /^mongodb(?:\+srv)?:\/\/[^/?]+\/([^?]*)/.exec(uri)?.[1];
  return name ? decodeURIComponent(name) : undefined;
}
