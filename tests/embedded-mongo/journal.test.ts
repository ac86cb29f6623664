// The on-disk format: journal compaction bounds disk use, and a torn or corrupt tail (a crash in
// the middle of an append) is dropped without losing the records before it.
import { appendFile, mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MongoClient } from 'mongodb';
import { afterEach, describe, expect, it } from 'vitest';
import { startEmbeddedMongo } from '../../embedded-mongo/src/index.ts';

const dirs: string[] = [];
async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'embedded-mongo-journal-'));
  dirs.push(dir);
  return dir;
}
afterEach(async () => {
  for (const dir of dirs.splice(0)) await rm(dir, { recursive: true, force: true });
});

async function withServer<T>(dbPath: string, fn: (client: MongoClient) => Promise<T>, compactBytes?: number): Promise<T> {
  const server = await startEmbeddedMongo({ dbPath, compactBytes });
  const client = await MongoClient.connect(server.uri);
  try {
    return await fn(client);
  } finally {
    await client.close();
    await server.stop();
  }
}

async function bytesOnDisk(dir: string): Promise<number> {
  let total = 0;
  for (const name of await readdir(dir)) total += (await stat(join(dir, name))).size;
  return total;
}

describe('the journal', () => {
  it('makes concurrent acknowledged writes share fsyncs (group commit)', async () => {
    const dbPath = await tempDir();
    const server = await startEmbeddedMongo({ dbPath });
    // Many connections, so the inserts really arrive together rather than queued on one socket.
    const client = await MongoClient.connect(server.uri, { maxPoolSize: 50, minPoolSize: 50 });
    try {
      const admin = client.db('admin');
      const journal = async () => (await admin.command({ serverStatus: 1 })).embedded.journal as { fsyncs: number; records: number };
      const events = client.db('app').collection('events');
      await events.insertOne({ warm: true });
      const before = await journal();

      const writes = 200;
      await Promise.all(
        Array.from({ length: writes }, (_, i) => events.insertOne({ i }, { writeConcern: { w: 1, j: true } })),
      );

      const after = await journal();
      expect(after.records - before.records).toBe(writes);
      expect(after.fsyncs - before.fsyncs).toBeGreaterThan(0);
      expect(after.fsyncs - before.fsyncs).toBeLessThan(writes / 3);
      expect(await events.countDocuments({ i: { $exists: true } })).toBe(writes);
    } finally {
      await client.close();
      await server.stop();
    }
  });

  it('fsyncs once per write for a single client writing one at a time', async () => {
    const dbPath = await tempDir();
    await withServer(dbPath, async (client) => {
      const admin = client.db('admin');
      const journal = async () => (await admin.command({ serverStatus: 1 })).embedded.journal as { fsyncs: number; records: number };
      const events = client.db('app').collection('events');
      await events.insertOne({ warm: true });
      const before = await journal();
      for (let i = 0; i < 5; i++) await events.insertOne({ i });
      const after = await journal();
      expect(after.records - before.records).toBe(5);
      expect(after.fsyncs - before.fsyncs).toBe(5);
    });
  });

  it('is compacted so rewriting one document many times does not grow the files without bound', async () => {
    const dbPath = await tempDir();
    const payload = 'x'.repeat(1000);
    await withServer(
      dbPath,
      async (client) => {
        const c = client.db('j').collection<{ _id: string; n: number; payload: string }>('counters');
        await c.insertOne({ _id: 'one', n: 0, payload });
        // ~1 KB per journal record: 3,000 updates would be ~3 MB without compaction.
        for (let i = 1; i <= 3000; i++) await c.updateOne({ _id: 'one' }, { $set: { n: i } });
      },
      64 * 1024,
    );
    expect(await bytesOnDisk(dbPath)).toBeLessThan(512 * 1024);
    const doc = await withServer(dbPath, (client) => client.db('j').collection('counters').findOne({ _id: 'one' as never }));
    expect(doc).toEqual({ _id: 'one', n: 3000, payload });
    // 3,000 acknowledged writes, each waiting for its fsync: on a busy disk that takes a while.
  }, 120_000);

  it('drops a torn record at the end and keeps accepting writes after it', async () => {
    const dbPath = await tempDir();
    await withServer(dbPath, (client) => client.db('j').collection('c').insertMany([{ _id: 1 }, { _id: 2 }] as never[]));
    const journals = (await readdir(dbPath)).filter((n) => n.startsWith('journal-'));
    expect(journals.length).toBeGreaterThan(0);
    // Half a record: a length prefix promising more bytes than follow, as a crash mid-append leaves.
    const torn = Buffer.alloc(12);
    torn.writeUInt32LE(500, 0);
    await appendFile(join(dbPath, journals.at(-1)!), torn);
    await withServer(dbPath, async (client) => {
      expect(await client.db('j').collection('c').find().sort({ _id: 1 }).toArray()).toEqual([{ _id: 1 }, { _id: 2 }]);
      await client.db('j').collection('c').insertOne({ _id: 3 } as never);
    });
    const ids = await withServer(dbPath, (client) => client.db('j').collection('c').distinct('_id'));
    expect(ids.sort()).toEqual([1, 2, 3]);
  });

  it('stops replay at a record whose checksum does not match', async () => {
    const dbPath = await tempDir();
    await withServer(dbPath, (client) => client.db('j').collection('c').insertOne({ _id: 1 } as never));
    const journal = (await readdir(dbPath)).filter((n) => n.startsWith('journal-')).at(-1)!;
    // A whole-length record with a wrong checksum: garbage that happens to look framed.
    const payload = Buffer.from([0x0c, 0, 0, 0, 0x10, 0x61, 0, 1, 0, 0, 0, 0]);
    const header = Buffer.alloc(8);
    header.writeUInt32LE(payload.length, 0);
    header.writeUInt32LE(0xdeadbeef, 4);
    await appendFile(join(dbPath, journal), Buffer.concat([header, payload]));
    const docs = await withServer(dbPath, (client) => client.db('j').collection('c').find().toArray());
    expect(docs).toEqual([{ _id: 1 }]);
  });
});
