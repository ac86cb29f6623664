// Idle-connection capacity: how much server memory each open widget connection costs. One Charla
// process (and its embedded-mongo process) holds N widget sockets opened by separate client
// processes, each a real widget session with a `widgetEvents` subscription; the server's resident
// memory is read from /proc before and after, and an agent's reply must still reach a sample of
// the visitors.
import { fork, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startCharlaProcess, startMongoProcess, type CharlaProcess } from '../support/processes.ts';
import { connectInspector, inspectorUrlOf, mebibytes, residentBytes, type Inspector } from './process-memory.ts';
import type { BenchOptions, BenchRow, BenchSection } from './report.ts';
import type { ClientCommand, ClientReport } from './widget-clients.ts';
import { postGraphQL as graphql } from '../support/graphql-http.ts';

const CLIENT_SCRIPT = fileURLToPath(new URL('./widget-clients.ts', import.meta.url));
const SOCKETS_PER_CLIENT_PROCESS = 2_500;
const SETTLE_MS = 5_000;
const PROBED_VISITORS = 20;
const TARGET_BYTES_AT_10K = 1.5 * 2 ** 30;

interface Step {
  sockets: number;
  openMs: number;
  failed: number;
  rssSettledMiB: number;
  rssAfterGcMiB: number;
  heapUsedMiB: number;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

class ClientProcess {
  readonly child: ChildProcess;
  private readonly waiting = new Map<string, (report: ClientReport) => void>();
  readonly received: Array<Extract<ClientReport, { type: 'received' }>> = [];
  failure: string | undefined;

  constructor(url: string, websiteToken: string) {
    this.child = fork(CLIENT_SCRIPT, [JSON.stringify({ url, websiteToken })], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    this.child.on('message', (report: ClientReport) => {
      if (report.type === 'received') this.received.push(report);
      else if (report.type === 'failed') this.failure ??= report.error;
      const resolve = this.waiting.get(report.type);
      if (resolve) {
        this.waiting.delete(report.type);
        resolve(report);
      }
    });
  }

  ask<T extends ClientReport['type']>(command: ClientCommand, answer: T): Promise<Extract<ClientReport, { type: T }>> {
    return new Promise((resolve, reject) => {
      this.waiting.set(answer, resolve as (report: ClientReport) => void);
      this.child.once('exit', (code) => reject(new Error(`a client process exited (${code}): ${this.failure ?? ''}`)));
      this.child.send(command);
    });
  }

  close(): void {
    if (this.child.connected) this.child.send({ type: 'close' } satisfies ClientCommand);
  }
}

export async function run(options: BenchOptions, tuning: { sizes?: number[] } = {}): Promise<BenchSection> {
  const sizes = tuning.sizes ?? (options.quick ? [200] : [1_000, 5_000, 10_000]);
  const directory = await mkdtemp(join(tmpdir(), 'charla-bench-idle-'));
  const mongo = await startMongoProcess({ dbPath: join(directory, 'db') });
  const clients: ClientProcess[] = [];
  let inspector: Inspector | undefined;
  let charla: CharlaProcess | undefined;
  try {
    // --inspect only so the benchmark can ask for a full garbage collection before reading memory.
    const server = (charla = await startCharlaProcess({
      mongodbUri: `${mongo.uri}/charla`,
      dataDir: join(directory, 'data'),
      env: { CHARLA_DEMO: '1' },
      nodeArgs: ['--inspect=127.0.0.1:0'],
    }));
    const inspectorUrl = inspectorUrlOf(server.lines);
    if (!inspectorUrl) throw new Error('the server printed no inspector address');
    inspector = await connectInspector(inspectorUrl);
    if (!server.websiteToken) throw new Error('the server created no demo inbox');
    const { login } = await graphql<{ login: { token: string } }>(
      server.url,
      'mutation($e:String!,$p:String!){login(email:$e,password:$p){token}}',
      { e: 'admin@charla.local', p: 'admin-password' },
    );

    const measure = async (): Promise<{ settled: number; afterGc: number; heapUsed: number }> => {
      await sleep(SETTLE_MS);
      const settled = await residentBytes(server.pid);
      await inspector!.collectGarbage();
      await sleep(500);
      return { settled, afterGc: await residentBytes(server.pid), heapUsed: (await inspector!.heapUsage()).usedSize };
    };
    const baseline = await measure();
    options.log(`idle sockets: server RSS ${mebibytes(baseline.afterGc).toFixed(0)} MiB with no sockets`);

    const processCount = Math.ceil(sizes.at(-1)! / SOCKETS_PER_CLIENT_PROCESS);
    for (let i = 0; i < processCount; i++) clients.push(new ClientProcess(server.url, server.websiteToken));

    const steps: Step[] = [];
    let opened = 0;
    for (const size of sizes) {
      const more = size - opened;
      const shares = clients.map((_, i) => Math.floor(more / clients.length) + (i < more % clients.length ? 1 : 0));
      const started = performance.now();
      const answers = await Promise.all(clients.map((client, i) => client.ask({ type: 'open', count: shares[i]! }, 'opened')));
      const openMs = performance.now() - started;
      const failed = answers.reduce((sum, answer) => sum + answer.failed, 0);
      opened = answers.reduce((sum, answer) => sum + answer.open, 0);
      if (failed > 0) options.log(`idle sockets: ${failed} connections failed: ${answers.find((a) => a.firstError)?.firstError}`);
      const memory = await measure();
      steps.push({
        sockets: opened,
        openMs,
        failed,
        rssSettledMiB: mebibytes(memory.settled),
        rssAfterGcMiB: mebibytes(memory.afterGc),
        heapUsedMiB: mebibytes(memory.heapUsed),
      });
      options.log(`idle sockets: ${opened} open (+${more} in ${(openMs / 1000).toFixed(1)} s), RSS ${mebibytes(memory.afterGc).toFixed(0)} MiB after GC`);
    }

    // Does an event still reach idle visitors? A few of them write; an agent answers each.
    const perClient = Math.ceil(PROBED_VISITORS / clients.length);
    const probed = (await Promise.all(clients.map((client) => client.ask({ type: 'probe', count: perClient }, 'probed')))).flatMap((a) => a.conversationIds);
    const sentAt = new Map<string, number>();
    for (const conversationId of probed) {
      sentAt.set(conversationId, Date.now());
      await graphql(server.url, 'mutation($i:SendMessageInput!){sendMessage(input:$i){id}}', { i: { conversationId, content: `Hello from an agent (${conversationId})` } }, login.token);
    }
    const deadline = Date.now() + 10_000;
    const arrivals = (): Array<Extract<ClientReport, { type: 'received' }>> =>
      clients.flatMap((client) => client.received).filter((r) => r.content === `Hello from an agent (${r.conversationId})`);
    while (arrivals().length < probed.length && Date.now() < deadline) await sleep(50);
    const delays = arrivals().map((r) => r.at - sentAt.get(r.conversationId)!).sort((a, b) => a - b);

    const baseMiB = mebibytes(baseline.afterGc);
    const rows: BenchRow[] = [{ measure: 'server RSS with no sockets (after GC)', value: baseMiB, unit: 'MiB' }];
    for (const step of steps) {
      const n = step.sockets.toLocaleString('en-US');
      rows.push(
        { measure: `open ${n} sockets (sessions + connect + subscribe)`, value: step.openMs / 1000, unit: 's' },
        { measure: `server RSS, ${n} sockets (settled / after GC)`, value: `${step.rssSettledMiB.toFixed(0)} / ${step.rssAfterGcMiB.toFixed(0)}`, unit: 'MiB' },
        {
          measure: `RSS per socket, ${n} sockets (after GC)`,
          value: ((step.rssAfterGcMiB - baseMiB) * 1024) / step.sockets,
          unit: 'KiB',
          ...(step.sockets >= 10_000 && { target: `total < ${(TARGET_BYTES_AT_10K / 2 ** 30).toFixed(1)} GiB` }),
        },
        { measure: `V8 heap per socket, ${n} sockets`, value: ((step.heapUsedMiB - mebibytes(baseline.heapUsed)) * 1024) / step.sockets, unit: 'KiB' },
      );
    }
    const last = steps.at(-1)!;
    if (last.sockets >= 10_000) {
      rows.push({ measure: `server RSS at ${last.sockets.toLocaleString('en-US')} sockets`, value: last.rssAfterGcMiB / 1024, unit: 'GiB', target: '< 1.5' });
    }
    rows.push(
      { measure: `agent replies that reached idle visitors`, value: `${delays.length} / ${probed.length}`, unit: '' },
      { measure: 'reply delivery, median (agent mutation sent → visitor socket)', value: delays[Math.floor(delays.length / 2)] ?? NaN, unit: 'ms' },
    );
    return {
      name: 'idle-sockets',
      title: 'Idle widget sockets',
      rows,
      notes: [
        `${sizes.map((s) => s.toLocaleString('en-US')).join(' → ')} widget connections opened one step after the other by ${clients.length} client process(es), ${16 * clients.length} sessions at a time; each is a widgetSession (a new contact), graphql-transport-ws connection_init with the visitor token and a widgetEvents subscription, pinging every 10 s like the widget.`,
        `Server RSS (VmRSS) read ${SETTLE_MS / 1000} s after the last socket opened ("settled"), then again after a full garbage collection requested through the inspector (the server runs with --inspect for that only).`,
        'Client processes, the server and embedded-mongo share the machine; the database process is not counted in the server RSS.',
      ],
      details: { baseline: { rssSettledMiB: mebibytes(baseline.settled), rssAfterGcMiB: baseMiB, heapUsedMiB: mebibytes(baseline.heapUsed) }, steps, replyDelaysMs: delays },
    };
  } finally {
    inspector?.close();
    for (const client of clients) client.close();
    await Promise.all(clients.map((client) => new Promise((resolve) => (client.child.exitCode !== null ? resolve(null) : client.child.once('exit', resolve)))));
    await charla?.stop(30_000);
    await mongo.stop();
    await rm(directory, { recursive: true, force: true });
  }
}
