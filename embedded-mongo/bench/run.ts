// embedded-mongo benchmark: journaled insert throughput, point reads, and how lookup latency
// grows with collection size with and without an index. The server runs as its own process
// (the CLI), the load comes from the official driver in this one.
//   npm run bench              full run (up to 1M documents)
//   npm run bench -- --quick   smaller sizes, well under a minute
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir, totalmem } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createInterface } from 'node:readline';
import { MongoClient, type Collection, type Document } from 'mongodb';

const here = dirname(fileURLToPath(import.meta.url));
const quick = process.argv.includes('--quick');

interface Row {
  measure: string;
  value: number;
  unit: string;
}
const rows: Row[] = [];
function record(measure: string, value: number, unit: string): void {
  rows.push({ measure, value: Math.round(value * 100) / 100, unit });
  process.stderr.write(`${measure}: ${rows[rows.length - 1]!.value} ${unit}\n`);
}

async function startServer(dbPath?: string): Promise<{ child: ChildProcess; uri: string }> {
  const args = ['--port', '0', ...(dbPath ? ['--dbpath', dbPath] : [])];
  const child = spawn(process.execPath, [join(here, '..', 'bin', 'embedded-mongo.js'), ...args], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const lines = createInterface({ input: child.stdout! });
  for await (const line of lines) {
    if (!line.includes('Waiting for connections')) continue;
    const port = (JSON.parse(line) as { attr: { port: number } }).attr.port;
    return { child, uri: `mongodb://127.0.0.1:${port}` };
  }
  throw new Error('embedded-mongo exited before it was ready');
}

async function stopServer(child: ChildProcess): Promise<void> {
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  await exited;
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

async function timed(fn: () => Promise<unknown>): Promise<number> {
  const start = process.hrtime.bigint();
  await fn();
  return Number(process.hrtime.bigint() - start) / 1e6;
}

async function parallel(workers: number, total: number, op: (i: number) => Promise<unknown>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: workers }, async () => {
      while (next < total) await op(next++);
    }),
  );
}

const doc = (i: number): Document => ({ k: i, u: i, name: `contact ${i}`, email: `user${i}@example.test`, tags: ['a', 'b'], at: new Date() });

async function writes(uri: string): Promise<void> {
  const client = await MongoClient.connect(uri, { maxPoolSize: 64 });
  const c = client.db('bench').collection('writes');
  await c.createIndex({ k: 1 });
  const single = quick ? 500 : 2000;
  let ms = await timed(async () => {
    for (let i = 0; i < single; i++) await c.insertOne(doc(i));
  });
  record('insertOne, one client, journaled (each waits for its fsync)', (single / ms) * 1000, 'inserts/s');
  const concurrent = quick ? 5000 : 20000;
  ms = await timed(() => parallel(64, concurrent, (i) => c.insertOne(doc(single + i))));
  record('insertOne, 64 concurrent clients, journaled (group commit)', (concurrent / ms) * 1000, 'inserts/s');
  const batches = quick ? 20 : 100;
  ms = await timed(async () => {
    for (let b = 0; b < batches; b++) await c.insertMany(Array.from({ length: 1000 }, (_, i) => doc(1e6 + b * 1000 + i)));
  });
  record('insertMany of 1,000, journaled', ((batches * 1000) / ms) * 1000, 'docs/s');
  await client.close();
}

async function fill(c: Collection, from: number, to: number): Promise<void> {
  for (let start = from; start < to; start += 10_000) {
    const end = Math.min(to, start + 10_000);
    await c.insertMany(Array.from({ length: end - start }, (_, i) => doc(start + i)), { ordered: false });
  }
}

async function lookupLatency(c: Collection, field: 'k' | 'u', size: number, samples: number): Promise<{ p50: number; p99: number }> {
  const times: number[] = [];
  for (let s = 0; s < samples; s++) {
    const value = Math.floor(Math.random() * size);
    times.push(await timed(() => c.findOne({ [field]: value })));
  }
  times.sort((a, b) => a - b);
  return { p50: percentile(times, 50), p99: percentile(times, 99) };
}

async function reads(uri: string): Promise<void> {
  const client = await MongoClient.connect(uri, { maxPoolSize: 64 });
  const c = client.db('bench').collection('reads');
  await c.createIndex({ k: 1 });
  const sizes = quick ? [20_000, 200_000] : [20_000, 200_000, 1_000_000];
  let filled = 0;
  for (const size of sizes) {
    await fill(c, filled, size);
    filled = size;
    const indexed = await lookupLatency(c, 'k', size, 500);
    const scanned = await lookupLatency(c, 'u', size, size >= 1_000_000 ? 5 : 20);
    record(`findOne by indexed field, ${size.toLocaleString('en')} docs, p50`, indexed.p50, 'ms');
    record(`findOne by indexed field, ${size.toLocaleString('en')} docs, p99`, indexed.p99, 'ms');
    record(`findOne by unindexed field (collection scan), ${size.toLocaleString('en')} docs, p50`, scanned.p50, 'ms');
    const status = await client.db('admin').command({ serverStatus: 1 });
    record(`server resident memory, ${size.toLocaleString('en')} docs (2 indexes)`, status.mem.resident, 'MiB');
    if (size === sizes[sizes.length - 1]) {
      const n = quick ? 5000 : 20000;
      const ids = await c.find({}, { projection: { _id: 1 } }).limit(n).toArray();
      let ms = await timed(() => parallel(16, n, (i) => c.findOne({ _id: ids[i % ids.length]!._id })));
      record(`findOne by _id, 16 concurrent clients, ${size.toLocaleString('en')} docs`, (n / ms) * 1000, 'finds/s');
      ms = await timed(() => parallel(16, n, () => c.findOne({ k: Math.floor(Math.random() * size) })));
      record(`findOne by indexed field, 16 concurrent clients, ${size.toLocaleString('en')} docs`, (n / ms) * 1000, 'finds/s');
    }
  }
  await client.close();
}

const dbPath = mkdtempSync(join(tmpdir(), 'embedded-mongo-bench-'));
try {
  const journaled = await startServer(dbPath);
  await writes(journaled.uri);
  await stopServer(journaled.child);
  // Lookup scaling is about reads: an in-memory server keeps the fill phase short.
  const memory = await startServer();
  await reads(memory.uri);
  await stopServer(memory.child);
} finally {
  rmSync(dbPath, { recursive: true, force: true });
}

const machine = `${cpus().length} × ${cpus()[0]?.model.trim() ?? 'cpu'}, ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}`;
const table = ['| measure | value | unit |', '|---|---:|---|', ...rows.map((r) => `| ${r.measure} | ${r.value.toLocaleString('en')} | ${r.unit} |`)].join('\n');
const resultsDir = join(here, 'results');
mkdirSync(resultsDir, { recursive: true });
const file = join(resultsDir, `${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
writeFileSync(file, JSON.stringify({ date: new Date().toISOString(), quick, machine, rows }, null, 2));
process.stdout.write(`\nembedded-mongo benchmark${quick ? ' (quick)' : ''} — ${machine}\n\n${table}\n\nSaved ${file}\n`);
