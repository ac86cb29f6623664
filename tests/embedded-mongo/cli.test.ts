// The embedded-mongo command line: mongod-compatible flags, ready line, signals and errors.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, connect as connectTcp, type AddressInfo } from 'node:net';
import { networkInterfaces, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { MongoClient } from 'mongodb';
import { afterEach, describe, expect, it } from 'vitest';

const binPath = fileURLToPath(new URL('../../embedded-mongo/bin/embedded-mongo.js', import.meta.url));
const READY_TIMEOUT_MS = 20_000;

interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

interface ReadyLine {
  t: { $date: string };
  s: string;
  c: string;
  id: number;
  ctx: string;
  msg: string;
  attr: { port: number; ssl: string };
}

/** A spawned CLI process with its output collected and its exit awaitable. */
class CliProcess {
  readonly child: ChildProcess;
  readonly exited: Promise<Exit>;
  stdout = '';
  stderr = '';
  exit: Exit | undefined;

  constructor(args: string[]) {
    this.child = spawn(process.execPath, [binPath, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    this.child.stdout!.setEncoding('utf8').on('data', (chunk: string) => (this.stdout += chunk));
    this.child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (this.stderr += chunk));
    this.exited = new Promise((resolve) => {
      this.child.once('exit', (code, signal) => {
        this.exit = { code, signal };
        resolve(this.exit);
      });
    });
  }

  get output(): string {
    return `${this.stdout}\n${this.stderr}`;
  }

  readyLine(): ReadyLine | undefined {
    for (const line of this.stdout.split('\n')) {
      if (!line.trimStart().startsWith('{')) continue;
      try {
        const parsed = JSON.parse(line) as Partial<ReadyLine>;
        if (parsed.id === 23016) return parsed as ReadyLine;
      } catch {
        // not a JSON log line
      }
    }
    return undefined;
  }

  /** Resolves with the ready line, or rejects if the process exits first or the deadline passes. */
  async ready(timeoutMs = READY_TIMEOUT_MS): Promise<ReadyLine> {
    const outcome = await this.readyOrExit(timeoutMs);
    if ('exit' in outcome) {
      throw new Error(`embedded-mongo exited (${JSON.stringify(outcome.exit)}) before it was ready:\n${this.output}`);
    }
    return outcome.ready;
  }

  readyOrExit(timeoutMs = READY_TIMEOUT_MS): Promise<{ ready: ReadyLine } | { exit: Exit }> {
    return new Promise((resolve, reject) => {
      const check = () => {
        const line = this.readyLine();
        if (line) {
          finish();
          resolve({ ready: line });
        }
      };
      const onExit = (exit: Exit) => {
        finish();
        const line = this.readyLine();
        resolve(line ? { ready: line } : { exit });
      };
      const timer = setTimeout(() => {
        finish();
        reject(new Error(`no ready line within ${timeoutMs} ms:\n${this.output}`));
      }, timeoutMs);
      const finish = () => {
        clearTimeout(timer);
        this.child.stdout!.off('data', check);
      };
      this.child.stdout!.on('data', check);
      void this.exited.then(onExit);
      check();
    });
  }

  /** Resolves with the first stdout line matching `pattern` (already printed or yet to come). */
  lineMatching(pattern: RegExp, timeoutMs = READY_TIMEOUT_MS): Promise<string> {
    return new Promise((resolve, reject) => {
      const check = () => {
        const line = this.stdout.split('\n').find((l) => pattern.test(l));
        if (line === undefined) return;
        finish();
        resolve(line);
      };
      const timer = setTimeout(() => {
        finish();
        reject(new Error(`no line matching ${pattern} within ${timeoutMs} ms:\n${this.output}`));
      }, timeoutMs);
      const finish = () => {
        clearTimeout(timer);
        this.child.stdout!.off('data', check);
      };
      this.child.stdout!.on('data', check);
      check();
    });
  }

  async exitWithin(timeoutMs: number): Promise<Exit> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`process still running after ${timeoutMs} ms:\n${this.output}`)), timeoutMs);
    });
    try {
      return await Promise.race([this.exited, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }
}

const processes: CliProcess[] = [];
const tempDirs: string[] = [];

function startCli(args: string[]): CliProcess {
  const cli = new CliProcess(args);
  processes.push(cli);
  return cli;
}

async function tempDbPath(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'embedded-mongo-cli-'));
  tempDirs.push(dir);
  return dir;
}

afterEach(async () => {
  for (const cli of processes.splice(0)) {
    if (cli.exit === undefined) {
      cli.child.kill('SIGKILL');
      await cli.exited;
    }
  }
  for (const dir of tempDirs.splice(0)) await rm(dir, { recursive: true, force: true });
});

function run(file: string, args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(file, args, { timeout: 20_000 }, (error, stdout, stderr) => {
      const code = error ? (typeof error.code === 'number' ? error.code : null) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

function tcpConnect(host: string, port: number): Promise<'connected' | string> {
  return new Promise((resolve) => {
    const socket = connectTcp({ host, port, timeout: 3_000 });
    socket.once('connect', () => {
      socket.destroy();
      resolve('connected');
    });
    socket.once('timeout', () => {
      socket.destroy();
      resolve('ETIMEDOUT');
    });
    socket.once('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? error.message));
  });
}

function nonLoopbackIPv4(): string | undefined {
  for (const addresses of Object.values(networkInterfaces())) {
    for (const address of addresses ?? []) {
      if (address.family === 'IPv4' && !address.internal) return address.address;
    }
  }
  return undefined;
}

async function withClient<T>(port: number, use: (client: MongoClient) => Promise<T>): Promise<T> {
  const client = await MongoClient.connect(`mongodb://127.0.0.1:${port}`, { serverSelectionTimeoutMS: 5_000 });
  try {
    return await use(client);
  } finally {
    await client.close();
  }
}

describe('embedded-mongo --version', () => {
  it('prints a mongod-style "db version v7.0.x" line and exits 0', async () => {
    const result = await run(process.execPath, [binPath, '--version']);

    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^db version v7\.0\.\d+\s*$/m);
  });

  it('runs directly as an executable, as mongodb-memory-server spawns it', async () => {
    const result = await run(binPath, ['--version']);

    expect(result.code).toBe(0);
    expect(result.stdout.split('\n')[0]).toMatch(/^db version v7\.0\.\d+$/);
  });
});

describe('embedded-mongo start-up', () => {
  it('with --port 0 --dbpath prints the mongod JSON ready line with the real port and accepts a driver', async () => {
    const dbPath = await tempDbPath();
    const cli = startCli(['--port', '0', '--dbpath', dbPath]);

    const line = await cli.ready();

    expect(line).toMatchObject({
      s: 'I',
      c: 'NETWORK',
      id: 23016,
      ctx: 'listener',
      msg: 'Waiting for connections',
      attr: { ssl: 'off' },
    });
    expect(Number.isNaN(Date.parse(line.t.$date))).toBe(false);
    expect(Number.isInteger(line.attr.port)).toBe(true);
    expect(line.attr.port).toBeGreaterThan(0);
    const stored = await withClient(line.attr.port, async (client) => {
      await client.db('cli').collection('notes').insertOne({ text: 'hello' });
      return client.db('cli').collection('notes').findOne({}, { projection: { _id: 0 } });
    });
    expect(stored).toEqual({ text: 'hello' });
  });

  it('listens on the exact port given with --port', async () => {
    const probe = createServer();
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
    const port = (probe.address() as AddressInfo).port;
    await new Promise<void>((resolve) => probe.close(() => resolve()));

    const cli = startCli(['--port', String(port), '--dbpath', await tempDbPath()]);
    const line = await cli.ready();

    expect(line.attr.port).toBe(port);
    expect(await withClient(port, (client) => client.db('admin').command({ ping: 1 }))).toMatchObject({ ok: 1 });
  });

  it('accepts the flags mongodb-memory-server passes (--storageEngine, --bind_ip 127.0.0.1, --noauth)', async () => {
    const cli = startCli([
      '--port', '0', '--dbpath', await tempDbPath(), '--storageEngine', 'wiredTiger', '--bind_ip', '127.0.0.1', '--noauth',
    ]);

    const line = await cli.ready();

    expect(await withClient(line.attr.port, (client) => client.db('admin').command({ ping: 1 }))).toMatchObject({ ok: 1 });
  });

  it('accepts --replSet and still becomes ready', async () => {
    const cli = startCli(['--port', '0', '--dbpath', await tempDbPath(), '--replSet', 'rs0']);

    const line = await cli.ready();

    expect(line.attr.port).toBeGreaterThan(0);
  });

  it('runs in memory without --dbpath', async () => {
    const cli = startCli(['--port', '0']);
    const line = await cli.ready();

    const count = await withClient(line.attr.port, async (client) => {
      await client.db('mem').collection('c').insertMany([{ a: 1 }, { a: 2 }]);
      return client.db('mem').collection('c').countDocuments();
    });
    expect(count).toBe(2);
  });

  it('exits non-zero and says so when the port is already in use', async () => {
    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const port = (blocker.address() as AddressInfo).port;
    try {
      const cli = startCli(['--port', String(port), '--dbpath', await tempDbPath()]);

      const exit = await cli.exitWithin(15_000);

      expect(exit.code).not.toBe(0);
      expect(cli.output).toMatch(/address already in use/i);
      expect(cli.readyLine()).toBeUndefined();
    } finally {
      await new Promise<void>((resolve) => blocker.close(() => resolve()));
    }
  });
});

/** What mongodb-memory-server waits for on stdout before it uses a replica-set member. */
const PRIMARY_LINE = /transition to primary complete; database writes are now permitted/i;

describe('embedded-mongo --replSet', () => {
  it('prints the primary line once replSetInitiate made it primary, and takes writes from then on', async () => {
    const cli = startCli(['--port', '0', '--dbpath', await tempDbPath(), '--replSet', 'rs0']);
    const { attr } = await cli.ready();
    const host = `127.0.0.1:${attr.port}`;

    const client = await MongoClient.connect(`mongodb://${host}/?directConnection=true`, { serverSelectionTimeoutMS: 5_000 });
    try {
      expect((await client.db('admin').command({ hello: 1 })).isWritablePrimary).toBe(false);
      expect(PRIMARY_LINE.test(cli.stdout)).toBe(false);

      await client.db('admin').command({ replSetInitiate: { _id: 'rs0', members: [{ _id: 0, host }] } });
      const line = JSON.parse(await cli.lineMatching(PRIMARY_LINE));

      expect(line).toMatchObject({ s: 'I', c: 'REPL', msg: expect.stringMatching(PRIMARY_LINE) });
      expect((await client.db('admin').command({ hello: 1 })).isWritablePrimary).toBe(true);
      await client.db('app').collection('c').insertOne({ a: 1 });
    } finally {
      await client.close();
    }
  });

  it('restarted on the same --dbpath is primary at once, prints the line again and keeps its data', async () => {
    const dbPath = await tempDbPath();
    const first = startCli(['--port', '0', '--dbpath', dbPath, '--replSet', 'rs0']);
    const { attr } = await first.ready();
    const client = await MongoClient.connect(`mongodb://127.0.0.1:${attr.port}/?directConnection=true`, { serverSelectionTimeoutMS: 5_000 });
    try {
      await client.db('admin').command({ replSetInitiate: {} });
      await first.lineMatching(PRIMARY_LINE);
      await client.db('app').collection('kept').insertOne({ survived: true });
    } finally {
      await client.close();
    }
    first.child.kill('SIGTERM');
    expect(await first.exitWithin(15_000)).toEqual({ code: 0, signal: null });

    const second = startCli(['--port', '0', '--dbpath', dbPath, '--replSet', 'rs0']);
    const ready = await second.ready();
    await second.lineMatching(PRIMARY_LINE);

    const doc = await withClient(ready.attr.port, async (again) => {
      expect((await again.db('admin').command({ hello: 1 })).setName).toBe('rs0');
      return again.db('app').collection('kept').findOne({}, { projection: { _id: 0 } });
    });
    expect(doc).toEqual({ survived: true });
  });
});

describe('embedded-mongo dbpath ownership', () => {
  it('exits non-zero when another running instance already uses the --dbpath', async () => {
    const dbPath = await tempDbPath();
    const first = startCli(['--port', '0', '--dbpath', dbPath]);
    await first.ready();

    const second = startCli(['--port', '0', '--dbpath', dbPath]);
    const outcome = await second.readyOrExit();

    expect('exit' in outcome ? 'exited' : `a second instance is serving the same dbpath on port ${outcome.ready.attr.port}`).toBe(
      'exited',
    );
    expect(second.exit?.code).not.toBe(0);
    expect(second.exit?.code).not.toBeNull();
    expect(first.exit).toBeUndefined();
  });

  it('lets exactly one of three instances started at the same moment on one --dbpath serve it', async () => {
    const dbPath = await tempDbPath();
    const instances = [0, 1, 2].map(() => startCli(['--port', '0', '--dbpath', dbPath]));

    const outcomes = await Promise.all(instances.map((cli) => cli.readyOrExit()));

    expect(outcomes.map((o) => ('ready' in o ? 'ready' : 'exited')).sort()).toEqual(['exited', 'exited', 'ready']);
    for (const outcome of outcomes) {
      if ('exit' in outcome) expect(outcome.exit.code).not.toBe(0);
    }
  });

  it('starts on a --dbpath left behind by an instance that was SIGKILLed', async () => {
    const dbPath = await tempDbPath();
    const first = startCli(['--port', '0', '--dbpath', dbPath]);
    const { attr } = await first.ready();
    await withClient(attr.port, (client) => client.db('app').collection('kept').insertOne({ survived: true }));
    first.child.kill('SIGKILL');
    await first.exited;

    const second = startCli(['--port', '0', '--dbpath', dbPath]);
    const ready = await second.ready();

    const doc = await withClient(ready.attr.port, (client) =>
      client.db('app').collection('kept').findOne({}, { projection: { _id: 0 } }),
    );
    expect(doc).toEqual({ survived: true });
  });
});

describe('embedded-mongo shutdown', () => {
  it.each(['SIGTERM', 'SIGINT'] as const)('on %s flushes, exits 0 and keeps the data for the next start', async (signal) => {
    const dbPath = await tempDbPath();
    const first = startCli(['--port', '0', '--dbpath', dbPath]);
    const { attr } = await first.ready();
    await withClient(attr.port, async (client) => {
      await client.db('app').collection('orders').insertMany([{ n: 1 }, { n: 2 }, { n: 3 }]);
      await client.db('app').collection('orders').updateOne({ n: 2 }, { $set: { shipped: true } });
    });

    first.child.kill(signal);
    const exit = await first.exitWithin(15_000);

    expect(exit).toEqual({ code: 0, signal: null });
    const second = startCli(['--port', '0', '--dbpath', dbPath]);
    const ready = await second.ready();
    const orders = await withClient(ready.attr.port, (client) =>
      client.db('app').collection('orders').find({}, { projection: { _id: 0 } }).sort({ n: 1 }).toArray(),
    );
    expect(orders).toEqual([{ n: 1 }, { n: 2, shipped: true }, { n: 3 }]);
  });

  it('exits 0 on SIGTERM while a client is still connected', async () => {
    const cli = startCli(['--port', '0', '--dbpath', await tempDbPath()]);
    const { attr } = await cli.ready();
    const client = await MongoClient.connect(`mongodb://127.0.0.1:${attr.port}`);
    try {
      await client.db('app').collection('x').insertOne({ open: true });

      cli.child.kill('SIGTERM');

      expect(await cli.exitWithin(15_000)).toEqual({ code: 0, signal: null });
    } finally {
      await client.close(true);
    }
  });
});

describe('embedded-mongo network binding', () => {
  it('with --bind_ip 0.0.0.0 but no --bind_ip_all does not listen on a non-loopback address', async () => {
    const cli = startCli(['--port', '0', '--dbpath', await tempDbPath(), '--bind_ip', '0.0.0.0']);

    const outcome = await cli.readyOrExit();

    if ('exit' in outcome) {
      // Refusing to start is acceptable; it must say why and not claim success.
      expect(outcome.exit.code).not.toBe(0);
      expect(cli.output).toMatch(/bind_ip/i);
      return;
    }
    const port = outcome.ready.attr.port;
    expect(await tcpConnect('127.0.0.1', port)).toBe('connected');
    const external = nonLoopbackIPv4();
    if (external !== undefined) {
      expect(await tcpConnect(external, port)).toBe('ECONNREFUSED');
    }
  });

  it('with --bind_ip_all is reachable on loopback and on the machine address', async () => {
    const cli = startCli(['--port', '0', '--dbpath', await tempDbPath(), '--bind_ip_all']);

    const { attr } = await cli.ready();

    expect(await tcpConnect('127.0.0.1', attr.port)).toBe('connected');
    const external = nonLoopbackIPv4();
    if (external !== undefined) {
      expect(await tcpConnect(external, attr.port)).toBe('connected');
    }
  });
});

describe('embedded-mongo --setParameter', () => {
  it('ttlMonitorSleepSecs=1 makes expired documents disappear within seconds', async () => {
    const cli = startCli(['--port', '0', '--setParameter', 'ttlMonitorSleepSecs=1']);
    const { attr } = await cli.ready();

    await withClient(attr.port, async (client) => {
      const sessions = client.db('app').collection('sessions');
      await sessions.createIndex({ expiresAt: 1 }, { expireAfterSeconds: 0 });
      await sessions.insertMany([
        { name: 'expired', expiresAt: new Date(Date.now() - 60_000) },
        { name: 'alive', expiresAt: new Date(Date.now() + 3_600_000) },
        { name: 'no date', expiresAt: 'not a date' },
      ]);

      const deadline = Date.now() + 15_000;
      while ((await sessions.countDocuments({ name: 'expired' })) > 0) {
        if (Date.now() > deadline) throw new Error('the expired document was not removed within 15 s');
        await new Promise((resolve) => setTimeout(resolve, 200));
      }

      const left = await sessions.find({}, { projection: { _id: 0, name: 1 } }).sort({ name: 1 }).toArray();
      expect(left).toEqual([{ name: 'alive' }, { name: 'no date' }]);
    });
  });
});

describe('embedded-mongo --setParameter cursorTimeoutMillis', () => {
  it('sets how long a cursor may stay idle', async () => {
    const cli = startCli(['--port', '0', '--setParameter', 'cursorTimeoutMillis=1234']);
    const { attr } = await cli.ready();
    await withClient(attr.port, async (client) => {
      const reply = await client.db('admin').command({ getParameter: 1, cursorTimeoutMillis: 1 });
      expect(Number(reply.cursorTimeoutMillis)).toBe(1234);
    });
  });
});

describe('embedded-mongo bad arguments', () => {
  it('rejects an unknown flag with a message naming it and a non-zero exit', async () => {
    const cli = startCli(['--port', '0', '--frobnicate']);

    const exit = await cli.exitWithin(15_000);

    expect(exit.code).not.toBe(0);
    expect(exit.code).not.toBeNull();
    expect(cli.stderr).toMatch(/frobnicate/);
    expect(cli.readyLine()).toBeUndefined();
  });

  it('rejects a --port that is not a number with a non-zero exit', async () => {
    const cli = startCli(['--port', 'twenty-seven']);

    const exit = await cli.exitWithin(15_000);

    expect(exit.code).not.toBe(0);
    expect(cli.output).toMatch(/port/i);
    expect(cli.readyLine()).toBeUndefined();
  });
});
