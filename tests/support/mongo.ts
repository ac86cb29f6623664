// Where tests get their MongoDB: a real server when MONGODB_URI is set (conformance runs against
// mongod), otherwise a fresh in-memory embedded-mongo per test file.
import { randomBytes } from 'node:crypto';
import { startEmbeddedMongo, type EmbeddedMongo, type EmbeddedMongoOptions } from '../../embedded-mongo/src/index.ts';

export interface TestMongoOptions {
  /** A replica set (change streams): embedded-mongo as the single-member set `rs0`; MONGODB_URI must name one. */
  replSet?: boolean;
  /** Further options for the embedded server (ignored when MONGODB_URI is set). */
  embedded?: Omit<EmbeddedMongoOptions, 'replSet'>;
}

export interface TestMongo {
  /** Connection string without a database name. */
  uri: string;
  /** A database name unique to this test run, so suites never see each other's data. */
  dbName: string;
  /** `${uri}/${dbName}` style URI, for mongoose. */
  dbUri: string;
  stop(): Promise<void>;
  /** True when the tests run against the server MONGODB_URI names rather than an embedded one. */
  external: boolean;
}

export async function startTestMongo(options: TestMongoOptions = {}): Promise<TestMongo> {
  const dbName = `test_${randomBytes(6).toString('hex')}`;
  const external = process.env.MONGODB_URI;
  let server: EmbeddedMongo | undefined;
  const uri = external ?? (server = await startEmbeddedMongo({ ...options.embedded, replSet: options.replSet ? 'rs0' : undefined })).uri;
  return {
    uri,
    external: external !== undefined,
    dbName,
    dbUri: withDatabase(uri, dbName),
    async stop() {
      await server?.stop();
    },
  };
}

/** Puts a database name into a mongodb:// URI, keeping any query string. */
export function withDatabase(uri: string, dbName: string): string {
  const url = new URL(uri);
  url.pathname = `/${dbName}`;
  return url.toString();
}
