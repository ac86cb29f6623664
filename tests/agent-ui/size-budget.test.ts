// The console's weight as an agent's browser first downloads it (gzipped as the server sends it).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';

const DIST = fileURLToPath(new URL('../../agent-ui/dist/', import.meta.url));
const gzippedSize = (path: string): number => gzipSync(readFileSync(path), { level: 9 }).length;

describe('the agent console size budget', () => {
  it('keeps the first-load JavaScript (entry and preloads) within 90 KB gzipped', () => {
    const html = readFileSync(join(DIST, 'index.html'), 'utf8');
    const scripts = [...html.matchAll(/<script[^>]+src="\/app\/([^"]+\.js)"/g), ...html.matchAll(/<link[^>]+rel="modulepreload"[^>]+href="\/app\/([^"]+\.js)"/g)];
    expect(scripts.length).toBeGreaterThan(0);
    const total = scripts.reduce((sum, match) => sum + gzippedSize(join(DIST, match[1]!)), 0);
    expect(total).toBeLessThanOrEqual(90 * 1024);
  });
});
