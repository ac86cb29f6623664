// Vitest global setup: builds the agent console (agent-ui/dist) when it is missing or older than
// its sources, like widget-build.ts does for the widget. Test runs may overlap in one checkout,
// so one build runs at a time (a lock directory), and a page a running test already loaded keeps
// finding its files: the build goes to a fresh folder whose assets are added to dist/ before its
// index.html replaces the old one.
import { spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, readdirSync, renameSync, rmSync, statSync, writeFileSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const AGENT_UI = fileURLToPath(new URL('../../agent-ui/', import.meta.url));
const DIST = join(AGENT_UI, 'dist');
const LOCK = join(AGENT_UI, '.build-lock');
const INPUTS = ['src', 'vite.config.ts', 'package.json'];

function newestMtime(path: string): number {
  const info = statSync(path);
  if (!info.isDirectory()) return info.mtimeMs;
  return Math.max(info.mtimeMs, ...readdirSync(path).map((name) => newestMtime(join(path, name))));
}

export function agentUiIsStale(): boolean {
  let built: number;
  try {
    built = statSync(join(DIST, 'index.html')).mtimeMs;
  } catch {
    return true;
  }
  return built < Math.max(...INPUTS.map((input) => newestMtime(join(AGENT_UI, input))));
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Takes the lock, waiting while another live process holds it. */
function lock(): void {
  const deadline = Date.now() + 180_000;
  for (;;) {
    try {
      mkdirSync(LOCK);
      writeFileSync(join(LOCK, 'pid'), String(process.pid));
      return;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    let holder = NaN;
    try {
      holder = Number(readFileSync(join(LOCK, 'pid'), 'utf8'));
    } catch {
      // Just created, pid not written yet.
    }
    if (Number.isFinite(holder) && !alive(holder)) rmSync(LOCK, { recursive: true, force: true });
    if (Date.now() > deadline) throw new Error('timed out waiting for another build of the agent console');
    spawnSync('sleep', ['0.2']);
  }
}

export default function setup(): void {
  if (!agentUiIsStale()) return;
  lock();
  try {
    // Another run may have built it while this one waited.
    if (!agentUiIsStale()) return;
    const fresh = join(AGENT_UI, `.dist-${process.pid}`);
    const result = spawnSync('npm', ['run', 'build', '--workspace', 'agent-ui', '--', '--outDir', fresh, '--emptyOutDir'], {
      cwd: join(AGENT_UI, '..'),
      stdio: 'inherit',
      // Vitest sets NODE_ENV=test, which would make Vite build Vue's development code.
      env: { ...process.env, NODE_ENV: 'production' },
    });
    if (result.status !== 0) {
      rmSync(fresh, { recursive: true, force: true });
      throw new Error(`building the agent console failed (exit ${result.status})`);
    }
    mkdirSync(join(DIST, 'assets'), { recursive: true });
    cpSync(join(fresh, 'assets'), join(DIST, 'assets'), { recursive: true });
    renameSync(join(fresh, 'index.html'), join(DIST, 'index.html'));
    rmSync(fresh, { recursive: true, force: true });
  } finally {
    rmSync(LOCK, { recursive: true, force: true });
  }
}
