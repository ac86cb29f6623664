// Where tests get their MongoDB: a real server when MONGODB_URI is set (conformance runs against
// mongod), otherwise a fresh in-memory embedded-mongo per test file.
import { randomBytes } from 'node:crypto';
import { startEmbeddedMongo, type EmbeddedMongo } from '../../embedded-mongo/src/index.ts';

export interface TestMongo {
  /** Connection string without a database name. */
  uri: string;
  /** A database name unique to this test run, so suites never see each other's data. */
  dbName: string;
  /** `${uri}/${dbName}` style URI, for mongoose. */
  dbUri: string;
  stop(): Promise<void>;
}

export async function startTestMongo(): Promise<TestMongo> {
  const dbName = `test_${randomBytes(6).toString('hex')}`;
  const external = process.env.MONGODB_URI;
  let server: EmbeddedMongo | undefined;
  const uri = external ?? (server = await startEmbeddedMongo()).uri;
  return {
    uri,
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
