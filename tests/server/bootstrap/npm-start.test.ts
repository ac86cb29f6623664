// `npm start` on an empty data directory prints, once, how to sign in (the administrator's
// generated password and the demo agent) and the demo inbox's website token; a restart prints none.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';

const repositoryRoot = fileURLToPath(new URL('../../../', import.meta.url));
const children: ChildProcess[] = [];
const directories: string[] = [];

afterEach(async () => {
  for (const child of children.splice(0)) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  for (const directory of directories.splice(0)) await rm(directory, { recursive: true, force: true });
});

interface Started {
  url: string;
  /** Every log line so far (JSON-parsed); complete once `stopped` resolves. */
  lines: Array<Record<string, unknown>>;
  stop(): Promise<void>;
}

async function start(dataDir: string): Promise<Started> {
  const env: NodeJS.ProcessEnv = { ...process.env, PORT: '0', HOST: '127.0.0.1', DATA_DIR: dataDir, LOG_LEVEL: 'info', CHARLA_DEMO: '1' };
  delete env.MONGODB_URI;
  delete env.CHARLA_ADMIN_PASSWORD;
  delete env.CHARLA_ADMIN_EMAIL;
  const child = spawn(process.execPath, ['--import', 'tsx', 'server/src/main.ts'], { cwd: repositoryRoot, env, stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const lines: Array<Record<string, unknown>> = [];
  let announceReady!: (url: string) => void;
  const ready = new Promise<string>((resolve, reject) => {
    announceReady = resolve;
    void exited.then(() => reject(new Error(`server exited before it was ready: ${JSON.stringify(lines)}`)));
  });
  const closed = new Promise<void>((resolve) => {
    const reader = createInterface({ input: child.stdout! });
    reader.on('line', (text) => {
      let line: Record<string, unknown>;
      try {
        line = JSON.parse(text) as Record<string, unknown>;
      } catch {
        line = { msg: text };
      }
      lines.push(line);
      if (typeof line.url === 'string' && /ready/.test(String(line.msg))) announceReady(line.url);
    });
    reader.once('close', () => resolve());
  });
  const url = await ready;
  return {
    url,
    lines,
    async stop() {
      child.kill('SIGTERM');
      await Promise.all([exited, closed]);
    },
  };
}

const messages = (lines: Array<Record<string, unknown>>): string[] => lines.map((line) => String(line.msg));

describe('npm start on an empty data directory', () => {
  it('prints the administrator, the generated password, the demo agent and the website token once', async () => {
    const dataDir = await mkdtemp(path.join(tmpdir(), 'charla-first-start-'));
    directories.push(dataDir);

    const first = await start(dataDir);
    await first.stop();
    const admin = first.lines.find((line) => line.adminEmail === 'admin@charla.local');
    const demo = first.lines.find((line) => line.demoAgentEmail === 'ana@charla.local');
    const website = first.lines.find((line) => typeof line.websiteToken === 'string');
    expect(admin?.adminPassword).toMatch(/^[A-Za-z0-9_-]{20}$/);
    expect(String(admin?.msg)).toContain(String(admin?.adminPassword));
    expect(String(demo?.msg)).toContain(String(demo?.demoAgentPassword));
    expect(String(website?.msg)).toContain(String(website?.websiteToken));

    const second = await start(dataDir);
    const response = await fetch(`${second.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        query: `mutation($e: String!, $p: String!) { login(email: $e, password: $p) { agent { role } } }`,
        variables: { e: 'admin@charla.local', p: admin?.adminPassword },
      }),
    });
    expect(await response.json()).toEqual({ data: { login: { agent: { role: 'ADMINISTRATOR' } } } });
    await second.stop();
    expect(messages(second.lines).filter((message) => /password|website token/i.test(message))).toEqual([]);
  }, 90_000);
});
