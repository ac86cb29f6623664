// Durability of embedded-mongo's on-disk journal: clean restarts, SIGKILL mid-write, and a torn tail.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes, randomInt } from 'node:crypto';
import { appendFile, mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Binary, Decimal128, Double, Int32, Long, MongoClient, MongoServerError, ObjectId, type Db, type Document } from 'mongodb';
import { deserialize } from 'bson';
import { afterEach, describe, expect, it } from 'vitest';
import { startEmbeddedMongo, type EmbeddedMongo } from '../../embedded-mongo/src/index.ts';

const binPath = fileURLToPath(new URL('../../embedded-mongo/bin/embedded-mongo.js', import.meta.url));

const tempDirs: string[] = [];
const servers: EmbeddedMongo[] = [];
const clients: MongoClient[] = [];
const children: ChildProcess[] = [];

async function tempDbPath(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'embedded-mongo-durability-'));
  tempDirs.push(dir);
  return dir;
}

afterEach(async () => {
  for (const client of clients.splice(0)) await client.close(true);
  for (const server of servers.splice(0)) await server.stop();
  for (const child of children.splice(0)) {
    if (child.exitCode === null && child.signalCode === null) {
      killGroup(child, 'SIGKILL');
      await new Promise((resolve) => child.once('exit', resolve));
    }
  }
  for (const dir of tempDirs.splice(0)) await rm(dir, { recursive: true, force: true });
});

async function openServer(dbPath: string, compactBytes?: number): Promise<{ server: EmbeddedMongo; client: MongoClient }> {
  const server = await startEmbeddedMongo(compactBytes === undefined ? { dbPath } : { dbPath, compactBytes });
  servers.push(server);
  const client = await MongoClient.connect(server.uri);
  clients.push(client);
  return { server, client };
}

async function closeServer(opened: { server: EmbeddedMongo; client: MongoClient }): Promise<void> {
  clients.splice(clients.indexOf(opened.client), 1);
  await opened.client.close();
  servers.splice(servers.indexOf(opened.server), 1);
  await opened.server.stop();
}

/** Documents with any kind of _id (the driver's default typing insists on ObjectId). */
interface AnyDoc extends Document {
  _id?: ObjectId | string | number;
}

function coll(db: Db, name: string) {
  return db.collection<AnyDoc>(name);
}

const contactId = new ObjectId();
const createdAt = new Date('2024-03-01T10:20:30.456Z');
const bigLong = Long.fromString('9007199254740993'); // 2^53 + 1: not representable as a JS number

function sampleContacts(): Document[] {
  return [
    {
      _id: contactId,
      email: 'ada@example.test',
      createdAt,
      externalId: bigLong,
      smallLong: Long.fromNumber(42),
      visits: new Int32(7),
      score: new Double(3),
      balance: Decimal128.fromString('1234.5678'),
      avatar: new Binary(Buffer.from([0, 1, 2, 250, 255])),
      tags: ['vip', 'es'],
      history: [
        [1, 2, [3, 4]],
        [{ at: createdAt, what: 'signup' }],
      ],
      address: { city: 'Sevilla', geo: { lat: 37.38, lng: -5.98 }, lines: ['Calle 1', null] },
      deletedAt: null,
    },
    { _id: 'string-id', email: 'grace@example.test', createdAt: new Date(0) },
    { _id: 12345, email: 'linus@example.test' },
  ];
}

describe('restart with the same dbPath', () => {
  it('restores collections, byte-identical documents and indexes', async () => {
    const dbPath = await tempDbPath();
    const first = await openServer(dbPath);
    const db = first.client.db('crm');
    await coll(db, 'contacts').insertMany(sampleContacts());
    await coll(db, 'contacts').createIndex({ email: 1 }, { unique: true, name: 'email_unique' });
    await coll(db, 'contacts').createIndex({ 'address.city': 1, createdAt: -1 });
    await db.createCollection('emptyButExisting');
    await coll(db, 'notes').insertOne({ _id: new ObjectId(), body: 'hello' });
    await coll(db, 'notes').createIndex({ createdAt: 1 }, { expireAfterSeconds: 3600, name: 'notes_ttl' });
    await coll(db, 'notes').createIndex({ phone: 1 }, { unique: true, sparse: true, name: 'phone_sparse' });
    await coll(first.client.db('other'), 'things').insertOne({ _id: 1, where: 'other db' });
    const before = await rawDocumentsById(db, 'contacts');
    await closeServer(first);

    const second = await openServer(dbPath);
    const restored = second.client.db('crm');

    const collections = (await restored.listCollections({}, { nameOnly: true }).toArray()).map((c) => c.name).sort();
    expect(collections).toEqual(['contacts', 'emptyButExisting', 'notes']);
    expect(before.size).toBe(3);
    expect(await rawDocumentsById(restored, 'contacts')).toEqual(before);

    const ada = await coll(restored, 'contacts').findOne({ _id: contactId });
    expect(ada?._id).toBeInstanceOf(ObjectId);
    expect(ada?.createdAt).toEqual(createdAt);
    expect(ada?.history).toEqual([[1, 2, [3, 4]], [{ at: createdAt, what: 'signup' }]]);
    expect(ada?.address).toEqual({ city: 'Sevilla', geo: { lat: 37.38, lng: -5.98 }, lines: ['Calle 1', null] });
    expect(ada?.externalId).toBeInstanceOf(Long);
    expect(String(ada?.externalId)).toBe('9007199254740993');
    expect(await coll(restored, 'contacts').findOne({ externalId: bigLong }, { projection: { email: 1 } })).toEqual({
      _id: contactId,
      email: 'ada@example.test',
    });
    expect((await coll(restored, 'contacts').findOne({ _id: 'string-id' }))?.email).toBe('grace@example.test');
    expect((await coll(restored, 'contacts').findOne({ _id: 12345 }))?.email).toBe('linus@example.test');

    const indexes = await coll(restored, 'contacts').listIndexes().toArray();
    const summary = indexes.map((i) => ({ name: i.name, key: i.key, unique: i.unique ?? false }));
    expect(summary).toEqual(
      expect.arrayContaining([
        { name: '_id_', key: { _id: 1 }, unique: false },
        { name: 'email_unique', key: { email: 1 }, unique: true },
        { name: 'address.city_1_createdAt_-1', key: { 'address.city': 1, createdAt: -1 }, unique: false },
      ]),
    );
    expect(indexes).toHaveLength(3);
    expect(await coll(second.client.db('other'), 'things').findOne({ _id: 1 })).toEqual({ _id: 1, where: 'other db' });

    const noteIndexes = await coll(restored, 'notes').listIndexes().toArray();
    expect(noteIndexes.find((i) => i.name === 'notes_ttl')).toMatchObject({ key: { createdAt: 1 }, expireAfterSeconds: 3600 });
    expect(noteIndexes.find((i) => i.name === 'phone_sparse')).toMatchObject({ key: { phone: 1 }, unique: true, sparse: true });
    // Sparse still applies: documents without a phone do not collide, equal phones do.
    await coll(restored, 'notes').insertMany([{ body: 'no phone 1' }, { body: 'no phone 2' }, { phone: '+34 600' }]);
    const duplicatePhone = await coll(restored, 'notes').insertOne({ phone: '+34 600' }).then(
      () => undefined,
      (err: unknown) => err as { code?: number },
    );
    expect(duplicatePhone?.code).toBe(11000);
  });

  // Documented limit (README, embedded-mongo Limits): numbers are held as JavaScript numbers, so an
  // integral double or a small int64 reads back as int32. Values must survive exactly; int64
  // beyond 2^53, Decimal128 and Binary must keep their BSON type.
  it('keeps int64 beyond 2^53, decimal128 and binary as those BSON types and every number by value across a restart', async () => {
    const dbPath = await tempDbPath();
    const first = await openServer(dbPath);
    await coll(first.client.db('crm'), 'contacts').insertMany(sampleContacts());
    const typesBefore = await numericTypes(first.client.db('crm'));
    await closeServer(first);
    const second = await openServer(dbPath);
    const typesAfter = await numericTypes(second.client.db('crm'));

    const expected = {
      externalId: 'Long:9007199254740993',
      smallLong: 'Int32:42',
      visits: 'Int32:7',
      score: 'Int32:3',
      balance: 'Decimal128:1234.5678',
      avatar: 'Binary:000102faff',
    };
    expect(typesBefore, 'as stored, before any restart').toEqual(expected);
    expect(typesAfter, 'after the restart').toEqual(expected);
  });

  it('keeps enforcing a unique index after restart', async () => {
    const dbPath = await tempDbPath();
    const first = await openServer(dbPath);
    await coll(first.client.db('crm'), 'users').createIndex({ email: 1 }, { unique: true });
    await coll(first.client.db('crm'), 'users').insertOne({ email: 'taken@example.test' });
    await closeServer(first);

    const second = await openServer(dbPath);
    const users = coll(second.client.db('crm'), 'users');
    const error = await users.insertOne({ email: 'taken@example.test' }).then(
      () => undefined,
      (err: unknown) => err,
    );

    expect(error).toBeInstanceOf(MongoServerError);
    expect((error as MongoServerError).code).toBe(11000);
    expect(await users.countDocuments({ email: 'taken@example.test' })).toBe(1);
    await users.insertOne({ email: 'free@example.test' });
    expect(await users.countDocuments()).toBe(2);
  });

  it('replays updates, deletes, drops and index drops rather than only inserts', async () => {
    const dbPath = await tempDbPath();
    const first = await openServer(dbPath);
    const db = first.client.db('crm');
    await coll(db, 'tickets').insertMany([
      { _id: 1, status: 'open', n: 1 },
      { _id: 2, status: 'open', n: 2 },
      { _id: 3, status: 'open', n: 3 },
    ]);
    await coll(db, 'tickets').updateOne({ _id: 1 }, { $set: { status: 'resolved' }, $inc: { n: 10 } });
    await coll(db, 'tickets').replaceOne({ _id: 2 }, { status: 'replaced' });
    await coll(db, 'tickets').deleteOne({ _id: 3 });
    await coll(db, 'tickets').findOneAndUpdate({ _id: 4 }, { $set: { status: 'upserted' } }, { upsert: true });
    await coll(db, 'tickets').createIndex({ status: 1 }, { name: 'status_1' });
    await coll(db, 'tickets').createIndex({ n: 1 }, { name: 'n_1' });
    await coll(db, 'tickets').dropIndex('n_1');
    await coll(db, 'scratch').insertOne({ temporary: true });
    await coll(db, 'scratch').drop();
    await coll(first.client.db('gone'), 'x').insertOne({ a: 1 });
    await first.client.db('gone').dropDatabase();
    await closeServer(first);

    const second = await openServer(dbPath);
    const restored = second.client.db('crm');
    expect(await coll(restored, 'tickets').find().sort({ _id: 1 }).toArray()).toEqual([
      { _id: 1, status: 'resolved', n: 11 },
      { _id: 2, status: 'replaced' },
      { _id: 4, status: 'upserted' },
    ]);
    const indexNames = (await coll(restored, 'tickets').listIndexes().toArray()).map((i) => i.name).sort();
    expect(indexNames).toEqual(['_id_', 'status_1']);
    expect((await restored.listCollections({}, { nameOnly: true }).toArray()).map((c) => c.name)).toEqual(['tickets']);
    expect(await coll(second.client.db('gone'), 'x').countDocuments()).toBe(0);
  });

  it('keeps data written across several restarts', async () => {
    const dbPath = await tempDbPath();
    for (let generation = 0; generation < 4; generation += 1) {
      const opened = await openServer(dbPath);
      const events = coll(opened.client.db('app'), 'events');
      expect(await events.countDocuments()).toBe(generation * 50);
      await events.insertMany(Array.from({ length: 50 }, (_, i) => ({ generation, i })));
      await events.updateMany({ generation }, { $set: { seen: true } });
      await closeServer(opened);
    }

    const last = await openServer(dbPath);
    const events = coll(last.client.db('app'), 'events');
    expect(await events.countDocuments({ seen: true })).toBe(200);
    expect(await events.distinct('generation')).toEqual([0, 1, 2, 3]);
  });
});

describe('exclusive use of a dbPath', () => {
  it('refuses to start a second server on a dbPath a running server uses', async () => {
    const dbPath = await tempDbPath();
    const first = await openServer(dbPath);
    await coll(first.client.db('app'), 'items').insertOne({ _id: 1, owner: 'first' });

    const second = await startEmbeddedMongo({ dbPath }).then(
      (server) => {
        servers.push(server);
        return server;
      },
      (error: unknown) => error,
    );

    expect(second instanceof Error ? 'refused' : 'a second server started on the same dbPath').toBe('refused');
    await coll(first.client.db('app'), 'items').insertOne({ _id: 2, owner: 'first' });
    await closeServer(first);
    const reopened = await openServer(dbPath);
    expect(await coll(reopened.client.db('app'), 'items').countDocuments()).toBe(2);
  });

  it('opens a dbPath again once the server using it has stopped', async () => {
    const dbPath = await tempDbPath();
    const first = await openServer(dbPath);
    await closeServer(first);

    const second = await openServer(dbPath);

    expect(await second.client.db('admin').command({ ping: 1 })).toMatchObject({ ok: 1 });
  });
});

describe('compaction', () => {
  it('restores the same data when it spans a snapshot and later journal records', async () => {
    const dbPath = await tempDbPath();
    const compactBytes = 16 * 1024;
    const first = await openServer(dbPath, compactBytes);
    const db = first.client.db('compact');
    await coll(db, 'messages').createIndex({ seq: 1 }, { unique: true });
    for (let batch = 0; batch < 20; batch += 1) {
      await coll(db, 'messages').insertMany(
        Array.from({ length: 20 }, (_, i) => ({ seq: batch * 20 + i, body: randomBytes(60).toString('hex') })),
      );
      await coll(db, 'messages').updateMany({ seq: { $lt: batch * 20 } }, { $inc: { edits: 1 } });
      await coll(db, 'messages').deleteMany({ seq: batch * 20 + 7 });
    }
    const before = await rawDocumentsById(db, 'messages');
    await closeServer(first);
    const files = (await listFiles(dbPath)).map((f) => relative(dbPath, f));
    expect(files.some((f) => /snapshot/i.test(f)), `no snapshot among ${files.join(', ')}`).toBe(true);

    const second = await openServer(dbPath, compactBytes);
    const restored = second.client.db('compact');
    expect(before.size).toBe(380);
    expect(await rawDocumentsById(restored, 'messages')).toEqual(before);
    const duplicate = await coll(restored, 'messages').insertOne({ seq: 0 }).then(
      () => undefined,
      (err: unknown) => err as { code?: number },
    );
    expect(duplicate?.code).toBe(11000);
    await coll(restored, 'messages').insertOne({ seq: 10_000 });
    await closeServer(second);

    const third = await openServer(dbPath, compactBytes);
    expect(await coll(third.client.db('compact'), 'messages').countDocuments()).toBe(381);
  });
});

/** Every document of a collection as raw BSON (hex), keyed by its _id: a byte-exact fingerprint. */
async function rawDocumentsById(db: Db, name: string): Promise<Map<string, string>> {
  const raw = (await db.collection(name).find({}, { raw: true }).toArray()) as unknown as Buffer[];
  return new Map(raw.map((bytes) => [String(deserialize(bytes)._id), Buffer.from(bytes).toString('hex')]));
}

/** The BSON type and value of the numeric and binary fields of the sample contact. */
async function numericTypes(db: Db): Promise<Record<string, string>> {
  const doc = await coll(db, 'contacts').findOne(
    { _id: contactId },
    { promoteLongs: false, promoteValues: false, promoteBuffers: false },
  );
  const label = (value: unknown): string => {
    if (value instanceof Long) return `Long:${value.toString()}`;
    if (value instanceof Int32) return `Int32:${value.value}`;
    if (value instanceof Double) return `Double:${value.value}`;
    if (value instanceof Decimal128) return `Decimal128:${value.toString()}`;
    if (value instanceof Binary) return `Binary:${Buffer.from(value.buffer).toString('hex')}`;
    return `${typeof value}:${String(value)}`;
  };
  const fields = ['externalId', 'smallLong', 'visits', 'score', 'balance', 'avatar'] as const;
  return Object.fromEntries(fields.map((field) => [field, label(doc?.[field])]));
}

// ---------------------------------------------------------------------------------------------
// Crash test: the CLI as a child process, SIGKILLed while acknowledged writes are streaming.

interface Cli {
  child: ChildProcess;
  port: number;
  output: () => string;
}

function killGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  // The child leads its own process group, so a wrapper script and the real server die together.
  try {
    process.kill(-child.pid!, signal);
  } catch {
    child.kill(signal);
  }
}

const repoRoot = fileURLToPath(new URL('../../', import.meta.url));

/** The real CLI, as users run it. */
function startCli(dbPath: string): Promise<Cli> {
  return startServerProcess([binPath, '--port', '0', '--dbpath', dbPath]);
}

/**
 * The library in a child process with a tiny compaction threshold, so that snapshots are written
 * and old journal generations removed many times a second — and a SIGKILL lands in the middle.
 */
function startCompactingServer(dbPath: string): Promise<Cli> {
  const script = `
    import { startEmbeddedMongo } from ${JSON.stringify(join(repoRoot, 'embedded-mongo/src/index.ts'))};
    const server = await startEmbeddedMongo({ dbPath: process.argv[1], compactBytes: 16 * 1024 });
    const stop = async () => { await server.stop(); process.exit(0); };
    process.once('SIGTERM', stop);
    process.once('SIGINT', stop);
    console.log(JSON.stringify({ id: 23016, msg: 'Waiting for connections', attr: { port: server.port } }));
  `;
  return startServerProcess(['--import', 'tsx', '--input-type=module', '-e', script, dbPath]);
}

async function startServerProcess(args: string[]): Promise<Cli> {
  const child = spawn(process.execPath, args, {
    cwd: repoRoot,
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  children.push(child);
  let stdout = '';
  let stderr = '';
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const output = () => `${stdout}\n${stderr}`;
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no ready line within 20 s:\n${output()}`)), 20_000);
    child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
      stdout += chunk;
      const match = /"id":23016,.*"attr":\{"port":(\d+)/.exec(stdout);
      if (match) {
        clearTimeout(timer);
        resolve(Number(match[1]));
      }
    });
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`embedded-mongo exited (${code ?? signal}) before ready:\n${output()}`));
    });
  });
  return { child, port, output };
}

function exitOf(child: ChildProcess): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  if (child.exitCode !== null || child.signalCode !== null) {
    return Promise.resolve({ code: child.exitCode, signal: child.signalCode });
  }
  return new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
}

/** Everything the driver acknowledged, across all rounds. */
interface Acknowledged {
  inserts: Set<string>;
  /** counter _id → highest value whose $set was acknowledged */
  counters: Map<string, number>;
  /** counter _id → acknowledged $inc total */
  increments: Map<string, number>;
}

const STREAMS = 4;

async function writeUntilKilled(port: number, round: number, acked: Acknowledged, killAfterMs: number, cli: Cli) {
  const client = new MongoClient(`mongodb://127.0.0.1:${port}`, {
    retryWrites: false,
    serverSelectionTimeoutMS: 2_000,
    maxPoolSize: STREAMS + 1,
  });
  await client.connect();
  const writes = coll(client.db('crash'), 'writes');
  const counters = coll(client.db('crash'), 'counters');
  let killed = false;
  let ackedBeforeKill = 0;
  const failures: unknown[] = [];

  const stream = async (s: number) => {
    for (let n = 0; !killed; n += 1) {
      const id = `r${round}-s${s}-${n}`;
      const counterId = `counter-${s}`;
      try {
        if (n % 3 === 2) {
          await writes.insertMany([
            { _id: `${id}-a`, key: `${id}-a`, round, s, n, payload: randomBytes(64).toString('hex') },
            { _id: `${id}-b`, key: `${id}-b`, round, s, n },
          ]);
          acked.inserts.add(`${id}-a`);
          acked.inserts.add(`${id}-b`);
        } else {
          await writes.insertOne({ _id: id, key: id, round, s, n, payload: randomBytes(64).toString('hex') });
          acked.inserts.add(id);
        }
        const value = round * 1_000_000 + n;
        await counters.updateOne({ _id: counterId }, { $max: { value }, $inc: { hits: 1 } }, { upsert: true });
        acked.counters.set(counterId, Math.max(acked.counters.get(counterId) ?? -1, value));
        acked.increments.set(counterId, (acked.increments.get(counterId) ?? 0) + 1);
        if (!killed) ackedBeforeKill += 1;
      } catch (error) {
        if (!killed) failures.push(error);
        return;
      }
    }
  };

  const streams = Array.from({ length: STREAMS }, (_, s) => stream(s));
  await new Promise((resolve) => setTimeout(resolve, killAfterMs));
  killed = true;
  killGroup(cli.child, 'SIGKILL');
  await Promise.all(streams);
  await exitOf(cli.child);
  await client.close(true);
  return { ackedBeforeKill, failures };
}

async function verify(port: number, acked: Acknowledged): Promise<void> {
  const client = await MongoClient.connect(`mongodb://127.0.0.1:${port}`);
  try {
    const present = new Set(
      (await coll(client.db('crash'), 'writes').find({}, { projection: { _id: 1 } }).toArray()).map((d) =>
        String(d._id),
      ),
    );
    const missing = [...acked.inserts].filter((id) => !present.has(id));
    expect(missing, `acknowledged inserts missing after restart`).toEqual([]);

    const counters = await coll(client.db('crash'), 'counters').find().toArray();
    const byId = new Map(counters.map((c) => [String(c._id), c]));
    for (const [id, value] of acked.counters) {
      expect(byId.get(id)?.value, `${id}.value`).toBeGreaterThanOrEqual(value);
      expect(byId.get(id)?.hits, `${id}.hits`).toBeGreaterThanOrEqual(acked.increments.get(id)!);
    }

    // The unique index created before the first crash still holds.
    const duplicate = await client
      .db('crash')
      .collection<Document>('writes')
      .insertOne({ _id: new ObjectId(), key: [...acked.inserts][0] })
      .then(
        () => undefined,
        (err: unknown) => err as { code?: number },
      );
    expect(duplicate?.code).toBe(11000);
  } finally {
    await client.close();
  }
}

/** Three rounds of: concurrent acknowledged writes, SIGKILL at a random moment, restart, verify. */
async function crashRounds(start: (dbPath: string) => Promise<Cli>): Promise<{ acked: Acknowledged; dbPath: string }> {
  const dbPath = await tempDbPath();
  const acked: Acknowledged = { inserts: new Set(), counters: new Map(), increments: new Map() };

  let server = await start(dbPath);
  const setup = await MongoClient.connect(`mongodb://127.0.0.1:${server.port}`);
  await coll(setup.db('crash'), 'writes').createIndex({ key: 1 }, { unique: true });
  await setup.close();

  for (let round = 0; round < 3; round += 1) {
    const { ackedBeforeKill, failures } = await writeUntilKilled(server.port, round, acked, randomInt(300, 901), server);
    // The kill must have hit a server that was busy writing, or the round proves nothing.
    expect(ackedBeforeKill, `round ${round}: acknowledged writes before the kill`).toBeGreaterThan(0);
    expect(failures, `round ${round}: writes failing before the kill`).toEqual([]);

    server = await start(dbPath);
    await verify(server.port, acked);
  }

  killGroup(server.child, 'SIGTERM');
  expect(await exitOf(server.child), 'clean stop after the crashes').toEqual({ code: 0, signal: null });
  server = await start(dbPath);
  await verify(server.port, acked);
  return { acked, dbPath };
}

describe('crash safety', () => {
  it('keeps every acknowledged write through three SIGKILLs of the CLI during concurrent writes', async () => {
    const { acked } = await crashRounds(startCli);

    expect(acked.inserts.size).toBeGreaterThan(0);
  }, 120_000);

  it('keeps every acknowledged write through SIGKILLs that land while the journal is being compacted', async () => {
    const { acked, dbPath } = await crashRounds(startCompactingServer);

    // Each acknowledged insert+update journals ~300 bytes against a 16 KiB threshold.
    expect(acked.inserts.size).toBeGreaterThan(200);
    const files = (await readdir(dbPath)).join(', ');
    expect(files, 'a snapshot proves compaction ran').toMatch(/snapshot/);
  }, 120_000);
});

// ---------------------------------------------------------------------------------------------
// Torn tail: a crash in the middle of writing a journal record leaves garbage after the last
// complete record. Only files that are recognisably the journal are touched.

const JOURNAL_NAME = /journal|wal|\.log$|oplog/i;

async function listFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true, recursive: true });
  return entries.filter((e) => e.isFile()).map((e) => join(e.parentPath, e.name));
}

describe('torn journal tail', () => {
  it('opens with all data when garbage follows the last complete journal record, and keeps later writes', async () => {
    const dbPath = await tempDbPath();
    const first = await openServer(dbPath);
    const items = coll(first.client.db('torn'), 'items');
    await items.createIndex({ sku: 1 }, { unique: true });
    await items.insertMany(Array.from({ length: 100 }, (_, i) => ({ _id: i, sku: `sku-${i}` })));
    await items.updateMany({ _id: { $lt: 10 } }, { $set: { featured: true } });
    await closeServer(first);

    const files = await listFiles(dbPath);
    const journals = files.filter((f) => JOURNAL_NAME.test(relative(dbPath, f)));
    expect(journals, `no journal-like file among: ${files.map((f) => relative(dbPath, f)).join(', ')}`).not.toEqual([]);
    for (const file of journals) {
      // A plausible record header promising more bytes than follow, then random bytes.
      const header = Buffer.alloc(8);
      header.writeUInt32LE(4096, 0);
      header.writeUInt32LE(0xdeadbeef, 4);
      await appendFile(file, Buffer.concat([header, randomBytes(37)]));
      expect((await stat(file)).size).toBeGreaterThan(45);
    }

    const second = await openServer(dbPath);
    const reopened = coll(second.client.db('torn'), 'items');
    expect(await reopened.countDocuments()).toBe(100);
    expect(await reopened.countDocuments({ featured: true })).toBe(10);
    const duplicate = await reopened.insertOne({ _id: 1000, sku: 'sku-5' }).then(
      () => undefined,
      (err: unknown) => err as { code?: number },
    );
    expect(duplicate?.code).toBe(11000);
    // Writes after recovery must land after the last good record, not after the garbage.
    await reopened.insertOne({ _id: 100, sku: 'sku-100' });
    await closeServer(second);

    const third = await openServer(dbPath);
    const final = coll(third.client.db('torn'), 'items');
    expect(await final.countDocuments()).toBe(101);
    expect(await final.findOne({ _id: 100 })).toEqual({ _id: 100, sku: 'sku-100' });
  });
});
