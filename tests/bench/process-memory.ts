// Memory and CPU time of another process, as the operating system and V8 see them: resident set
// size and CPU seconds from /proc, and — for a Node process started with `--inspect` — a full
// garbage collection and the heap figures through the inspector protocol, so a figure is not just
// garbage not yet collected. CPU time spent per request is what a busy shared machine distorts
// least: wall-clock latency includes the time other processes hold the cores.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import WebSocket from 'ws';

const CLOCK_TICKS_PER_SECOND = (() => {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  } catch {
    return 100;
  }
})();

// Synchronous: a read of /proc is a few microseconds, and samplers call these from timers.

/** VmRSS of a process, in bytes (Linux). */
export function residentBytes(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const match = /^VmRSS:\s+(\d+)\s+kB/m.exec(status);
  if (!match) throw new Error(`no VmRSS in /proc/${pid}/status`);
  return Number(match[1]) * 1024;
}

/** User + system CPU time a process has used so far, in milliseconds (Linux). */
export function cpuMilliseconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // Fields after the command name (which may hold spaces) start at its closing parenthesis.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLOCK_TICKS_PER_SECOND;
}

/** The `ws://…` address a process started with `--inspect=127.0.0.1:0` printed. */
export function inspectorUrlOf(lines: readonly string[]): string | undefined {
  for (const line of lines) {
    const match = /Debugger listening on (ws:\/\/\S+)/.exec(line);
    if (match) return match[1];
  }
  return undefined;
}

export interface Inspector {
  /** Runs a full, blocking garbage collection in the inspected process. */
  collectGarbage(): Promise<void>;
  /** V8 heap in use and reserved, in bytes. */
  heapUsage(): Promise<{ usedSize: number; totalSize: number }>;
  close(): void;
}

export async function connectInspector(url: string): Promise<Inspector> {
  const socket = new WebSocket(url, { perMessageDeflate: false });
  await new Promise<void>((resolve, reject) => {
    socket.once('open', () => resolve());
    socket.once('error', reject);
  });
  let nextId = 1;
  const pending = new Map<number, { resolve(value: unknown): void; reject(error: Error): void }>();
  socket.on('message', (data) => {
    const message = JSON.parse(String(data)) as { id?: number; result?: unknown; error?: { message: string } };
    const waiting = message.id === undefined ? undefined : pending.get(message.id);
    if (!waiting) return;
    pending.delete(message.id!);
    if (message.error) waiting.reject(new Error(message.error.message));
    else waiting.resolve(message.result);
  });
  const call = <T>(method: string): Promise<T> =>
    new Promise((resolve, reject) => {
      const id = nextId++;
      pending.set(id, { resolve: resolve as (value: unknown) => void, reject });
      socket.send(JSON.stringify({ id, method }));
    });
  return {
    async collectGarbage() {
      await call('HeapProfiler.collectGarbage');
    },
    heapUsage: () => call<{ usedSize: number; totalSize: number }>('Runtime.getHeapUsage'),
    close: () => socket.close(),
  };
}

export const mebibytes = (bytes: number): number => bytes / 2 ** 20;
