// One MongoClient and one database per conformance test file, plus small helpers the files share.
// The suite runs unchanged against a real mongod 7.0 (MONGODB_URI set) and against embedded-mongo.
import { Long, MongoClient, type Collection, type Db, type Document, type Filter } from 'mongodb';
import { startTestMongo, type TestMongo, type TestMongoOptions } from '../../support/mongo.ts';

export interface ConformanceDb {
  mongo: TestMongo;
  client: MongoClient;
  db: Db;
  /** A collection name no other test in this file uses. */
  freshName(label: string): string;
  /** A collection no other test in this file uses (not created until first written). */
  freshCollection<T extends Document = Document>(label: string): Collection<T>;
  close(): Promise<void>;
}

/** `{ replSet: true }` for suites that need a replica set (change streams); MONGODB_URI must then name one. */
export async function openConformanceDb(options: TestMongoOptions = {}): Promise<ConformanceDb> {
  const mongo = await startTestMongo(options);
  const client = new MongoClient(mongo.uri, { serverSelectionTimeoutMS: 10_000 });
  await client.connect();
  const db = client.db(mongo.dbName);
  let counter = 0;
  const freshName = (label: string) => `${label}_${++counter}`;
  return {
    mongo,
    client,
    db,
    freshName,
    freshCollection: <T extends Document = Document>(label: string) =>
      db.collection<T>(freshName(label)),
    async close() {
      try {
        // A real server keeps what the suite wrote; an embedded one goes away with stop().
        if (process.env.MONGODB_URI) await db.dropDatabase();
      } finally {
        await client.close();
        await mongo.stop();
      }
    },
  };
}

/** The `_id`s of the documents matching `filter`, in ascending `_id` order. */
export async function idsOf(coll: Collection<any>, filter: Filter<Document>): Promise<unknown[]> {
  const docs = await coll
    .find(filter, { projection: { _id: 1 } })
    .sort({ _id: 1 })
    .toArray();
  return docs.map((d) => d._id);
}

/** Cursor ids arrive as Long, or as a number when the driver promoted a small one. */
export function asLong(id: unknown): Long {
  if (Long.isLong(id)) return id;
  if (typeof id === 'number') return Long.fromNumber(id);
  if (typeof id === 'bigint') return Long.fromBigInt(id);
  throw new Error(`not a cursor id: ${String(id)}`);
}

/** Every string value of `key` anywhere in an explain plan tree (classic `inputStage(s)` or SBE `queryPlan`). */
function planValues(plan: unknown, key: string): string[] {
  const values: string[] = [];
  const visit = (node: unknown) => {
    if (Array.isArray(node)) {
      node.forEach(visit);
      return;
    }
    if (node === null || typeof node !== 'object') return;
    for (const [name, value] of Object.entries(node)) {
      if (name === key && typeof value === 'string') values.push(value);
      else visit(value);
    }
  };
  visit(plan);
  return values;
}

/** Every `stage` name in an explain plan tree. */
export const planStages = (plan: unknown): string[] => planValues(plan, 'stage');

/** Every `indexName` an explain plan tree scans. */
export const planIndexNames = (plan: unknown): string[] => planValues(plan, 'indexName');

/** Resolves with the rejection of `promise`, failing when it resolves instead. */
export async function rejectionOf(promise: Promise<unknown>): Promise<any> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected the operation to fail, but it succeeded');
}
