// Vitest global setup: builds the web widget (widget/dist) when it is missing or older than its
// sources, so tests never depend on a build being committed or remembered.
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const WIDGET = fileURLToPath(new URL('../../widget/', import.meta.url));
const OUTPUTS = ['dist/sdk.js', 'dist/app/index.html'];
const INPUTS = ['src', 'vite.sdk.config.ts', 'vite.app.config.ts', 'package.json'];

function newestMtime(path: string): number {
  const info = statSync(path);
  if (!info.isDirectory()) return info.mtimeMs;
  return Math.max(info.mtimeMs, ...readdirSync(path).map((name) => newestMtime(join(path, name))));
}

function oldestOutput(): number {
  try {
    return Math.min(...OUTPUTS.map((output) => statSync(join(WIDGET, output)).mtimeMs));
  } catch {
    return -Infinity; // not built
  }
}

export function widgetIsStale(): boolean {
  return oldestOutput() < Math.max(...INPUTS.map((input) => newestMtime(join(WIDGET, input))));
}

export default function setup(): void {
  if (!widgetIsStale()) return;
  const result = spawnSync('npm', ['run', 'build', '--workspace', 'widget'], {
    cwd: join(WIDGET, '..'),
    stdio: 'inherit',
    // Vitest sets NODE_ENV=test, which would make Vite build Vue's development code.
    env: { ...process.env, NODE_ENV: 'production' },
  });
  if (result.status !== 0) throw new Error(`building the widget failed (exit ${result.status})`);
}
