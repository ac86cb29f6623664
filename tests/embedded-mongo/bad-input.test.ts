// Raw-socket abuse of the wire protocol: a bad client may lose its own connection, never the server.
import { connect as connectTcp, type Socket } from 'node:net';
import { randomBytes } from 'node:crypto';
import { deserialize, serialize, type Document } from 'bson';
import { MongoClient } from 'mongodb';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startEmbeddedMongo, type EmbeddedMongo } from '../../embedded-mongo/src/index.ts';

const OP_REPLY = 1;
const OP_QUERY = 2004;
const OP_COMPRESSED = 2012;
const OP_MSG = 2013;
const MORE_TO_COME = 1 << 1;
const PROMPTLY_MS = 5_000;
const DB = 'bad_input';

let server: EmbeddedMongo;
/** A well-behaved client whose pooled connection must survive every bad neighbour. */
let watcher: MongoClient;
let watcherConnectionsClosed = 0;
const openSockets: Socket[] = [];

beforeAll(async () => {
  server = await startEmbeddedMongo({ port: 0 });
  watcher = new MongoClient(server.uri, { maxPoolSize: 1, retryReads: false, retryWrites: false });
  watcher.on('connectionClosed', () => (watcherConnectionsClosed += 1));
  await watcher.connect();
  await watcher.db(DB).collection('health').insertOne({ _id: 'canary' as never, alive: true });
  await watcher
    .db(DB)
    .collection('bulk')
    .insertMany(Array.from({ length: 500 }, (_, i) => ({ i, filler: 'x'.repeat(1_000) })));
});

afterEach(async () => {
  for (const socket of openSockets.splice(0)) socket.destroy();
  await expectServerStillServes();
});

afterAll(async () => {
  await watcher?.close();
  await server?.stop();
});

async function expectServerStillServes(): Promise<void> {
  expect(await watcher.db('admin').command({ ping: 1 })).toMatchObject({ ok: 1 });
  expect(await watcher.db(DB).collection('health').findOne({})).toEqual({ _id: 'canary', alive: true });
  expect(watcherConnectionsClosed, 'the well-behaved client lost a connection').toBe(0);

  const fresh = new MongoClient(server.uri, { serverSelectionTimeoutMS: 5_000 });
  try {
    await fresh.connect();
    expect(await fresh.db('admin').command({ ping: 1 })).toMatchObject({ ok: 1 });
    expect(await fresh.db(DB).collection('health').countDocuments({ alive: true })).toBe(1);
  } finally {
    await fresh.close();
  }
}

// ---------------------------------------------------------------------------------------------
// Message building

let nextRequestId = 1_000;

function header(length: number, requestId: number, responseTo: number, opCode: number): Buffer {
  const out = Buffer.alloc(16);
  out.writeInt32LE(length, 0);
  out.writeInt32LE(requestId, 4);
  out.writeInt32LE(responseTo, 8);
  out.writeInt32LE(opCode, 12);
  return out;
}

/** An OP_MSG with one body section (raw BSON bytes) and optional document-sequence sections. */
function opMsg(body: Buffer, options: { requestId?: number; flags?: number; sequences?: Array<[string, Buffer[]]> } = {}) {
  const requestId = options.requestId ?? nextRequestId++;
  const flags = Buffer.alloc(4);
  flags.writeUInt32LE(options.flags ?? 0, 0);
  const sections: Buffer[] = [Buffer.from([0]), body];
  for (const [identifier, docs] of options.sequences ?? []) {
    const name = Buffer.from(`${identifier}\0`, 'utf8');
    const size = Buffer.alloc(4);
    size.writeInt32LE(4 + name.length + docs.reduce((n, d) => n + d.length, 0), 0);
    sections.push(Buffer.from([1]), size, name, ...docs);
  }
  const payload = Buffer.concat([flags, ...sections]);
  return { requestId, bytes: Buffer.concat([header(16 + payload.length, requestId, 0, OP_MSG), payload]) };
}

function command(doc: Document, requestId?: number) {
  return opMsg(Buffer.from(serialize(doc)), { requestId });
}

function opQuery(fullCollectionName: string, query: Document, requestId = nextRequestId++) {
  const payload = Buffer.concat([
    Buffer.alloc(4), // flags
    Buffer.from(`${fullCollectionName}\0`, 'utf8'),
    Buffer.from([0, 0, 0, 0]), // numberToSkip
    Buffer.from([0xff, 0xff, 0xff, 0xff]), // numberToReturn = -1
    Buffer.from(serialize(query)),
  ]);
  return { requestId, bytes: Buffer.concat([header(16 + payload.length, requestId, 0, OP_QUERY), payload]) };
}

/** BSON for {a: {a: {… {} …}}} nested `depth` levels, written iteratively (no recursion). */
function nestedDocument(depth: number): Buffer {
  const out = Buffer.alloc(5 + 8 * depth);
  for (let level = depth, offset = 0; level >= 0; level -= 1, offset += 7) {
    const length = 5 + 8 * level;
    out.writeInt32LE(length, offset);
    out[offset + length - 1] = 0;
    if (level > 0) {
      out[offset + 4] = 0x03; // embedded document
      out[offset + 5] = 0x61; // "a"
      out[offset + 6] = 0x00;
    }
  }
  return out;
}

/** Concatenates BSON elements (type byte + cstring name + value bytes) into one document. */
function bsonDocument(elements: Array<[type: number, name: string, value: Buffer]>): Buffer {
  const parts = elements.map(([type, name, value]) => Buffer.concat([Buffer.from([type]), Buffer.from(`${name}\0`), value]));
  const body = Buffer.concat(parts);
  const length = Buffer.alloc(4);
  length.writeInt32LE(4 + body.length + 1, 0);
  return Buffer.concat([length, body, Buffer.from([0])]);
}

function bsonString(value: string): Buffer {
  const bytes = Buffer.from(`${value}\0`, 'utf8');
  const length = Buffer.alloc(4);
  length.writeInt32LE(bytes.length, 0);
  return Buffer.concat([length, bytes]);
}

function int32(value: number): Buffer {
  const out = Buffer.alloc(4);
  out.writeInt32LE(value, 0);
  return out;
}

// ---------------------------------------------------------------------------------------------
// Raw connection

interface Frame {
  length: number;
  requestId: number;
  responseTo: number;
  opCode: number;
  bytes: Buffer;
}

type Outcome = { kind: 'closed' } | { kind: 'frame'; frame: Frame };

class RawConnection {
  private buffered = Buffer.alloc(0);
  private readonly frames: Frame[] = [];
  private waiter: (() => void) | undefined;
  closed = false;

  private constructor(readonly socket: Socket) {
    socket.on('data', (chunk: Buffer) => {
      this.buffered = Buffer.concat([this.buffered, chunk]);
      while (this.buffered.length >= 4) {
        const length = this.buffered.readInt32LE(0);
        if (length < 16 || this.buffered.length < length) break;
        const bytes = this.buffered.subarray(0, length);
        this.buffered = this.buffered.subarray(length);
        this.frames.push({
          length,
          requestId: bytes.readInt32LE(4),
          responseTo: bytes.readInt32LE(8),
          opCode: bytes.readInt32LE(12),
          bytes,
        });
      }
      this.waiter?.();
    });
    socket.on('error', () => {
      // ECONNRESET and friends: the server dropping us is an accepted outcome here.
    });
    socket.on('close', () => {
      this.closed = true;
      this.waiter?.();
    });
  }

  static open(port: number): Promise<RawConnection> {
    return new Promise((resolve, reject) => {
      const socket = connectTcp({ host: '127.0.0.1', port });
      openSockets.push(socket);
      socket.once('connect', () => resolve(new RawConnection(socket)));
      socket.once('error', reject);
    });
  }

  write(bytes: Buffer): Promise<void> {
    return new Promise((resolve) => {
      if (this.socket.destroyed) return resolve();
      this.socket.write(bytes, () => resolve());
    });
  }

  /** The next reply frame, or the server closing the connection — whichever comes first. */
  next(timeoutMs = PROMPTLY_MS): Promise<Outcome> {
    return new Promise((resolve, reject) => {
      const settle = () => {
        const frame = this.frames.shift();
        if (frame) return done({ kind: 'frame', frame });
        if (this.closed) return done({ kind: 'closed' });
      };
      const timer = setTimeout(() => {
        this.waiter = undefined;
        reject(new Error(`server neither replied nor closed the connection within ${timeoutMs} ms`));
      }, timeoutMs);
      const done = (outcome: Outcome) => {
        clearTimeout(timer);
        this.waiter = undefined;
        resolve(outcome);
      };
      this.waiter = settle;
      settle();
    });
  }

  async reply(timeoutMs = PROMPTLY_MS): Promise<Frame> {
    const outcome = await this.next(timeoutMs);
    if (outcome.kind === 'closed') throw new Error('server closed the connection instead of replying');
    return outcome.frame;
  }

  /** Resolves when the server closes the connection; fails if it stays open past the deadline. */
  async closedByServer(timeoutMs = PROMPTLY_MS): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const outcome = await this.next(Math.max(1, deadline - Date.now()));
      if (outcome.kind === 'closed') return;
    }
  }
}

function opMsgBody(frame: Frame): { flags: number; body: Document } {
  expect(frame.opCode).toBe(OP_MSG);
  expect(frame.bytes[20]).toBe(0); // section kind 0
  return { flags: frame.bytes.readUInt32LE(16), body: deserialize(frame.bytes.subarray(21)) };
}

/** Accepted answers to a malformed or hostile request: an error reply or a closed connection. */
async function expectErrorReplyOrClose(connection: RawConnection): Promise<void> {
  const outcome = await connection.next();
  if (outcome.kind === 'closed') return;
  const { body } = opMsgBody(outcome.frame);
  expect(body.ok).toBe(0);
  expect(typeof body.errmsg).toBe('string');
}

// ---------------------------------------------------------------------------------------------

describe('well-formed messages over a raw socket', () => {
  it('answers a hand-built OP_MSG ping with an OP_MSG whose responseTo is the request id', async () => {
    const connection = await RawConnection.open(server.port);
    const ping = command({ ping: 1, $db: 'admin' }, 424_242);

    await connection.write(ping.bytes);
    const reply = await connection.reply();

    expect(reply.opCode).toBe(OP_MSG);
    expect(reply.responseTo).toBe(424_242);
    expect(reply.length).toBe(reply.bytes.length);
    const { flags, body } = opMsgBody(reply);
    expect(flags & MORE_TO_COME).toBe(0);
    expect(body.ok).toBe(1);
  });

  it('answers OP_QUERY isMaster on admin.$cmd with an OP_REPLY handshake document', async () => {
    const connection = await RawConnection.open(server.port);
    const query = opQuery('admin.$cmd', { isMaster: 1, client: { driver: { name: 'raw', version: '0' } } }, 77);

    await connection.write(query.bytes);
    const reply = await connection.reply();

    expect(reply.opCode).toBe(OP_REPLY);
    expect(reply.responseTo).toBe(77);
    expect(reply.bytes.readBigInt64LE(20)).toBe(0n); // cursorID
    expect(reply.bytes.readInt32LE(32)).toBe(1); // numberReturned
    const document = deserialize(reply.bytes.subarray(36));
    expect(document).toMatchObject({ ok: 1, ismaster: true, maxBsonObjectSize: 16_777_216, maxMessageSizeBytes: 48_000_000 });
    expect(document.maxWireVersion).toBeGreaterThanOrEqual(9);
    expect(document.localTime).toBeInstanceOf(Date);
  });

  it('answers two pipelined commands in one write with two replies in order', async () => {
    const connection = await RawConnection.open(server.port);
    const first = command({ ping: 1, $db: 'admin' });
    const second = command({ count: 'health', $db: DB });

    await connection.write(Buffer.concat([first.bytes, second.bytes]));
    const replyA = await connection.reply();
    const replyB = await connection.reply();

    expect([replyA.responseTo, replyB.responseTo]).toEqual([first.requestId, second.requestId]);
    expect(opMsgBody(replyB).body).toMatchObject({ ok: 1, n: 1 });
  });

  it('reassembles a command that arrives one byte per write', async () => {
    const connection = await RawConnection.open(server.port);
    const ping = command({ ping: 1, $db: 'admin' });

    for (const byte of ping.bytes) await connection.write(Buffer.from([byte]));
    const reply = await connection.reply();

    expect(reply.responseTo).toBe(ping.requestId);
    expect(opMsgBody(reply).body.ok).toBe(1);
  });

  it('sends no reply to an OP_MSG flagged moreToCome and answers the next message', async () => {
    const connection = await RawConnection.open(server.port);
    const silent = opMsg(Buffer.from(serialize({ insert: 'fire_and_forget', documents: [{ x: 1 }], $db: DB })), {
      flags: MORE_TO_COME,
    });
    const ping = command({ ping: 1, $db: 'admin' });

    await connection.write(silent.bytes);
    await connection.write(ping.bytes);
    const reply = await connection.reply();

    expect(reply.responseTo).toBe(ping.requestId);
    expect(await watcher.db(DB).collection('fire_and_forget').countDocuments({ x: 1 })).toBe(1);
  });
});

describe('framing abuse closes only the offending connection', () => {
  it('closes a connection that sends an HTTP request', async () => {
    const connection = await RawConnection.open(server.port);

    await connection.write(Buffer.from('GET / HTTP/1.1\r\nHost: localhost\r\n\r\n'));

    await connection.closedByServer();
  });

  it('survives random garbage followed by end of stream', async () => {
    const connection = await RawConnection.open(server.port);

    await connection.write(randomBytes(4_096));
    connection.socket.end();

    await connection.closedByServer();
  });

  it('survives a truncated frame followed by the client closing', async () => {
    const connection = await RawConnection.open(server.port);
    const ping = command({ ping: 1, $db: 'admin' });

    await connection.write(ping.bytes.subarray(0, ping.bytes.length - 7));
    connection.socket.end();

    await connection.closedByServer();
  });

  it('survives a truncated frame followed by a connection reset', async () => {
    const connection = await RawConnection.open(server.port);
    const ping = command({ ping: 1, $db: 'admin' });

    await connection.write(ping.bytes.subarray(0, 20));
    connection.socket.resetAndDestroy();

    await expectServerStillServes();
  });

  it.each([
    ['2^31-1', 0x7fffffff],
    ['48,000,001', 48_000_001],
    ['-1', -1],
  ])('promptly closes a connection announcing a %s byte message', async (_label, length) => {
    const connection = await RawConnection.open(server.port);

    await connection.write(header(length, 1, 0, OP_MSG));

    await connection.closedByServer();
  });

  it.each([0, 5, 15])('closes a connection announcing a %i byte message (below the 16-byte header)', async (length) => {
    const connection = await RawConnection.open(server.port);

    await connection.write(Buffer.concat([int32(length), randomBytes(28)]));

    await connection.closedByServer();
  });

  it.each([
    ['OP_MSG', OP_MSG],
    ['OP_QUERY', OP_QUERY],
    ['OP_COMPRESSED', OP_COMPRESSED],
  ])('answers a bare 16-byte %s header with an error or by closing', async (_label, opCode) => {
    const connection = await RawConnection.open(server.port);

    await connection.write(header(16, 5, 0, opCode));

    await expectErrorReplyOrClose(connection);
  });

  it.each([
    ['OP_COMPRESSED with garbage', OP_COMPRESSED],
    ['an unknown opCode', 2_099],
    ['the removed OP_INSERT', 2_002],
  ])('answers %s with an error or by closing', async (_label, opCode) => {
    const connection = await RawConnection.open(server.port);
    const payload = randomBytes(48);

    await connection.write(Buffer.concat([header(16 + payload.length, 9, 0, opCode), payload]));

    await expectErrorReplyOrClose(connection);
  });

  it('does not crash when the client resets while a large reply is being written', async () => {
    const connection = await RawConnection.open(server.port);
    const find = command({ find: 'bulk', filter: {}, batchSize: 500, $db: DB });

    await connection.write(find.bytes);
    connection.socket.resetAndDestroy();

    // The server notices only when it writes; a fresh command round trip proves it got past that.
    const again = await RawConnection.open(server.port);
    await again.write(find.bytes);
    const reply = await again.reply();
    expect(opMsgBody(reply).body.cursor.firstBatch).toHaveLength(500);
  });
});

describe('a client that does not read its replies', () => {
  it('is not served faster than it reads: the server stops reading its requests instead of buffering replies', async () => {
    const connection = await RawConnection.open(server.port);
    connection.socket.pause();
    // 200 requests of ~200 KB, each asking for a ~500 KB reply: 100 MB of replies nobody reads.
    const find = command({ find: 'bulk', filter: {}, batchSize: 500, comment: 'p'.repeat(200_000), $db: DB });

    for (let i = 0; i < 200; i += 1) connection.socket.write(find.bytes);
    // mongod answers one request at a time and blocks on a full socket, so most of these 40 MB
    // stay unsent on our side for as long as we do not read.
    const swallowedEverything = await becomesTrueWithin(() => connection.socket.writableLength === 0, 5_000);

    expect(swallowedEverything, 'the server read every request and queued 100 MB of replies in memory').toBe(false);
  });
});

/** Polls `condition` until it holds (true) or the time is up (false). */
async function becomesTrueWithin(condition: () => boolean, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (condition()) return true;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return condition();
}

describe('malformed BSON closes the connection or gets an error reply', () => {
  const valid = Buffer.from(serialize({ ping: 1, $db: 'admin' }));

  function withLength(doc: Buffer, length: number): Buffer {
    const copy = Buffer.from(doc);
    copy.writeInt32LE(length, 0);
    return copy;
  }

  it.each([
    ['an internal length larger than the message', withLength(valid, valid.length + 200)],
    ['an internal length smaller than the document', withLength(valid, valid.length - 6)],
    ['an internal length of 4', withLength(valid, 4)],
    ['a negative internal length', withLength(valid, -20)],
    ['no terminating zero byte', Buffer.concat([int32(valid.length), valid.subarray(4, valid.length - 1), Buffer.from([7])])],
    ['an unknown element type', bsonDocument([[0x10, 'ping', int32(1)], [0x55, 'weird', int32(1)], [0x02, '$db', bsonString('admin')]])],
    ['a string with a negative length', bsonDocument([[0x10, 'ping', int32(1)], [0x02, '$db', Buffer.concat([int32(-6), Buffer.from('admin\0')])]])],
    ['a string longer than the document', bsonDocument([[0x10, 'ping', int32(1)], [0x02, '$db', Buffer.concat([int32(5_000), Buffer.from('admin\0')])]])],
    ['an embedded document overrunning its parent', bsonDocument([[0x10, 'ping', int32(1)], [0x03, 'x', Buffer.concat([int32(300), Buffer.from([0])])], [0x02, '$db', bsonString('admin')]])],
  ])('an OP_MSG body with %s', async (_label, body) => {
    const connection = await RawConnection.open(server.port);

    await connection.write(opMsg(body).bytes);

    await expectErrorReplyOrClose(connection);
  });

  it('a document sequence section whose size overruns the message', async () => {
    const connection = await RawConnection.open(server.port);
    const message = opMsg(Buffer.from(serialize({ insert: 'seq', $db: DB })), {
      sequences: [['documents', [Buffer.from(serialize({ a: 1 }))]]],
    }).bytes;
    // Section layout after the body: kind byte, int32 size, "documents\0", document.
    const sizeOffset = message.length - (4 + 'documents\0'.length + serialize({ a: 1 }).length);
    message.writeInt32LE(10_000, sizeOffset);

    await connection.write(message);

    await expectErrorReplyOrClose(connection);
    expect(await watcher.db(DB).collection('seq').countDocuments()).toBe(0);
  });
});

describe('hostile documents', () => {
  async function insertOutcome(connection: RawConnection, message: Buffer): Promise<Document | 'closed'> {
    await connection.write(message);
    const outcome = await connection.next(15_000);
    if (outcome.kind === 'closed') return 'closed';
    return opMsgBody(outcome.frame).body;
  }

  /**
   * Whatever the server did with a hostile document, the collection must stay readable: a stored
   * document a driver cannot decode would break every query on it (MongoDB refuses documents
   * nested deeper than 100 levels for this reason).
   */
  async function expectCollectionReadable(name: string): Promise<void> {
    const reader = await MongoClient.connect(server.uri);
    try {
      const read = await reader
        .db(DB)
        .collection(name)
        .find({})
        .toArray()
        .then(
          (docs) => ({ docs: docs.length }),
          (error: unknown) => ({ error: error instanceof Error ? `${error.name}: ${error.message}` : String(error) }),
        );
      expect(read).toEqual({ docs: expect.any(Number) });
    } finally {
      await reader.close(true);
    }
  }

  it('survives a 200,000-level nested document in an insert document sequence', async () => {
    const connection = await RawConnection.open(server.port);
    const message = opMsg(Buffer.from(serialize({ insert: 'deep', $db: DB })), {
      sequences: [['documents', [nestedDocument(200_000)]]],
    }).bytes;

    const outcome = await insertOutcome(connection, message);

    if (outcome !== 'closed') expect([0, 1]).toContain(outcome.ok);
    await expectCollectionReadable('deep');
  });

  it('survives a 200,000-level nested document inside the command body', async () => {
    const connection = await RawConnection.open(server.port);
    const body = bsonDocument([
      [0x02, 'insert', bsonString('deep_body')],
      [0x04, 'documents', bsonDocument([[0x03, '0', nestedDocument(200_000)]])],
      [0x02, '$db', bsonString(DB)],
    ]);

    const outcome = await insertOutcome(connection, opMsg(body).bytes);

    if (outcome !== 'closed') expect([0, 1]).toContain(outcome.ok);
    await expectCollectionReadable('deep_body');
  });

  it('stores a 150-level nested document intact if it accepts it', async () => {
    const connection = await RawConnection.open(server.port);
    let deep: Document = { leaf: 'bottom' };
    for (let i = 0; i < 150; i += 1) deep = { a: deep };

    const outcome = await insertOutcome(connection, command({ insert: 'deep150', documents: [{ _id: 1, deep }], $db: DB }).bytes);

    if (outcome === 'closed') return;
    if (outcome.ok === 1 && outcome.n === 1) {
      const stored = await watcher.db(DB).collection('deep150').findOne({});
      let node = stored?.deep as Document | undefined;
      for (let i = 0; i < 150; i += 1) node = node?.a as Document | undefined;
      expect(node).toEqual({ leaf: 'bottom' });
    } else {
      expect(outcome.ok === 0 || (outcome.writeErrors as unknown[] | undefined)?.length === 1).toBe(true);
      expect(await watcher.db(DB).collection('deep150').countDocuments()).toBe(0);
    }
  });

  it('does not let a __proto__ key pollute Object.prototype', async () => {
    const connection = await RawConnection.open(server.port);
    const polluting = bsonDocument([
      [0x10, '_id', int32(1)],
      [0x03, '__proto__', bsonDocument([[0x08, 'polluted', Buffer.from([1])]])],
    ]);
    const message = opMsg(Buffer.from(serialize({ insert: 'proto', $db: DB })), {
      sequences: [['documents', [polluting]]],
    }).bytes;

    await insertOutcome(connection, message);
    const again = await RawConnection.open(server.port);
    await insertOutcome(
      again,
      command({ update: 'proto', updates: [{ q: { _id: 1 }, u: { $set: { '__proto__.polluted2': true } } }], $db: DB }).bytes,
    );
    await watcher.db(DB).collection('proto').find({}).toArray();

    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(({} as Record<string, unknown>).polluted2).toBeUndefined();
  });

  it('does not run JavaScript sent in $where or $function', async () => {
    const marker = `__embeddedMongoPwned${Date.now()}`;
    const probe = globalThis as Record<string, unknown>;
    // Refusing with an error is fine: an in-process server evaluating code from the wire would be
    // remote code execution inside the application.
    await watcher
      .db(DB)
      .collection('health')
      .find({ $where: `globalThis.${marker} = 1; return true` })
      .toArray()
      .catch(() => undefined);
    await watcher
      .db(DB)
      .collection('health')
      .aggregate([
        {
          $match: {
            $expr: { $function: { body: `function () { globalThis.${marker}_fn = 1; return true; }`, args: [], lang: 'js' } },
          },
        },
      ])
      .toArray()
      .catch(() => undefined);

    expect(probe[marker]).toBeUndefined();
    expect(probe[`${marker}_fn`]).toBeUndefined();
  });
});
