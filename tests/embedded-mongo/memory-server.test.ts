// mongodb-memory-server driving the embedded-mongo CLI as its "system binary", as tools expecting mongod do.
import { connect as connectTcp } from 'node:net';
import { fileURLToPath } from 'node:url';
import { MongoMemoryReplSet, MongoMemoryServer } from 'mongodb-memory-server';
import mongoose, { Schema } from 'mongoose';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';

const binaryPath = fileURLToPath(new URL('../../embedded-mongo/bin/embedded-mongo.js', import.meta.url));

let previousSystemBinary: string | undefined;
const started: Array<MongoMemoryServer | MongoMemoryReplSet> = [];

beforeEach(() => {
  previousSystemBinary = process.env.MONGOMS_SYSTEM_BINARY;
  process.env.MONGOMS_SYSTEM_BINARY = binaryPath;
});

afterEach(async () => {
  for (const server of started.splice(0)) await server.stop();
  if (previousSystemBinary === undefined) delete process.env.MONGOMS_SYSTEM_BINARY;
  else process.env.MONGOMS_SYSTEM_BINARY = previousSystemBinary;
});

async function create(): Promise<MongoMemoryServer> {
  const server = await MongoMemoryServer.create();
  started.push(server);
  return server;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

function tcpConnects(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connectTcp({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

describe('mongodb-memory-server with MONGOMS_SYSTEM_BINARY pointing at embedded-mongo', () => {
  it('starts the binary and hands out a working URI for a mongoose round trip', async () => {
    const server = await create();

    const uri = server.getUri('memory_server_roundtrip');
    expect(uri).toMatch(/^mongodb:\/\/127\.0\.0\.1:\d+\/memory_server_roundtrip/);
    expect(server.instanceInfo?.instance.mongodProcess?.spawnfile).toBe(binaryPath);

    const connection = await mongoose.createConnection(uri).asPromise();
    try {
      const Ticket = connection.model(
        'Ticket',
        new Schema({ subject: { type: String, required: true }, priority: Number }, { timestamps: true }),
      );
      const saved = await Ticket.create({ subject: 'Printer on fire', priority: 1 });
      const found = await Ticket.findById(saved._id).lean().orFail();
      expect(found.subject).toBe('Printer on fire');
      expect(found.priority).toBe(1);
      expect(found.createdAt).toBeInstanceOf(Date);
      expect(await Ticket.countDocuments()).toBe(1);
    } finally {
      await connection.close();
    }
  });

  it('stop() resolves, the process exits with code 0 and the port is released', async () => {
    const server = await create();
    const instance = server.instanceInfo?.instance;
    const pid = instance?.mongodProcess?.pid;
    const port = server.instanceInfo?.port;
    expect(pid).toBeTypeOf('number');
    expect(port).toBeTypeOf('number');
    expect(await tcpConnects(port!)).toBe(true);
    const closed = new Promise<[number | null, NodeJS.Signals | null]>((resolve) =>
      instance!.mongodProcess!.once('exit', (code, signal) => resolve([code, signal])),
    );

    started.splice(started.indexOf(server), 1);
    const stoppedAt = Date.now();
    await server.stop();

    // mongodb-memory-server falls back to SIGKILL after 10 s; a clean SIGINT exit is far quicker.
    expect(Date.now() - stoppedAt).toBeLessThan(9_000);
    expect(await closed).toEqual([0, null]);
    expect(isAlive(pid!)).toBe(false);
    expect(await tcpConnects(port!)).toBe(false);
  });

  it('runs two servers side by side on different ports with separate data', async () => {
    const first = await create();
    const second = await create();
    expect(first.getUri()).not.toBe(second.getUri());

    const clientA = await mongoose.mongo.MongoClient.connect(first.getUri());
    const clientB = await mongoose.mongo.MongoClient.connect(second.getUri());
    try {
      await clientA.db('side').collection('items').insertOne({ owner: 'first' });
      expect(await clientB.db('side').collection('items').countDocuments()).toBe(0);
      expect(await clientA.db('side').collection('items').countDocuments()).toBe(1);
    } finally {
      await clientA.close();
      await clientB.close();
    }
  });
});

describe('MongoMemoryReplSet with MONGOMS_SYSTEM_BINARY pointing at embedded-mongo', () => {
  it('starts a one-member set whose URI mongoose connects to, with writes and a change stream, and stop() ends it', async () => {
    const replSet = await MongoMemoryReplSet.create({ replSet: { count: 1, name: 'rs0' } });
    started.push(replSet);
    const uri = replSet.getUri('memory_replset');
    expect(uri).toMatch(/^mongodb:\/\/127\.0\.0\.1:\d+\/memory_replset\?replicaSet=rs0$/);
    const member = replSet.servers[0]!.instanceInfo!.instance;
    expect(member.mongodProcess?.spawnfile).toBe(binaryPath);

    const connection = await mongoose.createConnection(uri).asPromise();
    try {
      const Note = connection.model('Note', new Schema({ text: { type: String, required: true } }));
      const stream = connection.db!.collection('notes').watch([{ $match: { operationType: 'insert' } }], { maxAwaitTimeMS: 100 });
      // The first (empty) getMore comes back once the server has opened the stream.
      expect(await stream.tryNext()).toBeNull();
      const change = stream.next();

      await Note.create({ text: 'Printer on fire' });

      expect(await change).toMatchObject({ operationType: 'insert', fullDocument: { text: 'Printer on fire' }, ns: { db: 'memory_replset', coll: 'notes' } });
      expect(await Note.countDocuments()).toBe(1);
      await stream.close();
    } finally {
      await connection.close();
    }

    const pid = member.mongodProcess!.pid!;
    const exited = new Promise<number | null>((resolve) => member.mongodProcess!.once('exit', (code) => resolve(code)));
    started.splice(started.indexOf(replSet), 1);
    await replSet.stop();

    expect(await exited).toBe(0);
    expect(isAlive(pid)).toBe(false);
  });
});
