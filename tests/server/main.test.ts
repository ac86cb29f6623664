// `npm start` as a user runs it: a child process with the embedded database under DATA_DIR.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';

const repositoryRoot = fileURLToPath(new URL('../../', import.meta.url));

interface RunningServer {
  url: string;
  child: ChildProcess;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

const children: ChildProcess[] = [];
const temporaryDirectories: string[] = [];

afterEach(async () => {
  for (const child of children.splice(0)) {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  }
  for (const directory of temporaryDirectories.splice(0)) await rm(directory, { recursive: true, force: true });
});

/** Spawns the server the way `npm start` does and resolves once it logs that it is ready. */
async function startServer(dataDir: string): Promise<RunningServer> {
  // NODE_ENV as a shell has it, not vitest's 'test' (some libraries change their signal handling under test).
  const env: NodeJS.ProcessEnv = { ...process.env, NODE_ENV: 'development', PORT: '0', HOST: '127.0.0.1', DATA_DIR: dataDir, LOG_LEVEL: 'info' };
  delete env.MONGODB_URI;
  const child = spawn(process.execPath, ['--import', 'tsx', 'server/src/main.ts'], {
    cwd: repositoryRoot,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once('exit', (code, signal) => resolve({ code, signal }));
  });

  const output: string[] = [];
  child.stderr!.on('data', (chunk: Buffer) => output.push(chunk.toString()));
  const url = await new Promise<string>((resolve, reject) => {
    createInterface({ input: child.stdout! }).on('line', (line) => {
      output.push(line);
      const entry = parseLogLine(line);
      if (typeof entry?.url === 'string' && /ready/.test(String(entry.msg))) resolve(entry.url);
    });
    void exited.then(({ code, signal }) => {
      reject(new Error(`server exited (${code ?? signal}) before it was ready:\n${output.join('\n')}`));
    });
  });
  return { url, child, exited };
}

function parseLogLine(line: string): Record<string, unknown> | undefined {
  try {
    return JSON.parse(line) as Record<string, unknown>;
  } catch {
    return undefined;
  }
}

async function queryHealth(url: string): Promise<{ status: string; database: string; starts: number | null }> {
  const response = await fetch(`${url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ query: '{ health { status database starts } }' }),
  });
  const body = (await response.json()) as { data: { health: { status: string; database: string; starts: number | null } } };
  return body.data.health;
}

describe('npm start', () => {
  it('serves on the embedded database, keeps its data in DATA_DIR across restarts and exits 0 on a signal', async () => {
    const dataDir = await mkdtemp(path.join(tmpdir(), 'charla-data-'));
    temporaryDirectories.push(dataDir);

    const first = await startServer(dataDir);
    const healthz = await fetch(`${first.url}/healthz`);
    expect(healthz.status).toBe(200);
    expect(await healthz.json()).toMatchObject({ status: 'ok', database: 'up', starts: 1 });
    expect(await queryHealth(first.url)).toEqual({ status: 'ok', database: 'up', starts: 1 });

    first.child.kill('SIGTERM');
    expect(await first.exited).toEqual({ code: 0, signal: null });
    expect(await readdir(dataDir)).not.toHaveLength(0);

    const second = await startServer(dataDir);
    expect(await queryHealth(second.url)).toEqual({ status: 'ok', database: 'up', starts: 2 });

    second.child.kill('SIGINT');
    expect(await second.exited).toEqual({ code: 0, signal: null });
  }, 60_000);
});
