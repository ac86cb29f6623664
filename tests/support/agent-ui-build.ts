// Vitest global setup: builds the agent console (agent-ui/dist) when it is missing or older than
// its sources, like widget-build.ts does for the widget.
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const AGENT_UI = fileURLToPath(new URL('../../agent-ui/', import.meta.url));
const INPUTS = ['src', 'vite.config.ts', 'package.json'];

function newestMtime(path: string): number {
  const info = statSync(path);
  if (!info.isDirectory()) return info.mtimeMs;
  return Math.max(info.mtimeMs, ...readdirSync(path).map((name) => newestMtime(join(path, name))));
}

export function agentUiIsStale(): boolean {
  let built: number;
  try {
    built = statSync(join(AGENT_UI, 'dist/index.html')).mtimeMs;
  } catch {
    return true;
  }
  return built < Math.max(...INPUTS.map((input) => newestMtime(join(AGENT_UI, input))));
}

export default function setup(): void {
  if (!agentUiIsStale()) return;
  const result = spawnSync('npm', ['run', 'build', '--workspace', 'agent-ui'], {
    cwd: join(AGENT_UI, '..'),
    stdio: 'inherit',
    // Vitest sets NODE_ENV=test, which would make Vite build Vue's development code.
    env: { ...process.env, NODE_ENV: 'production' },
  });
  if (result.status !== 0) throw new Error(`building the agent console failed (exit ${result.status})`);
}
