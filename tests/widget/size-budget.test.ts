// The widget's weight as a visitor's browser downloads it: the loader and the app's first load,
// gzipped the way the server sends them.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';

const DIST = fileURLToPath(new URL('../../widget/dist/', import.meta.url));
const gzippedSize = (path: string): number => gzipSync(readFileSync(path), { level: 9 }).length;

/** The JavaScript the app page loads before anything else: its module script and preloads. */
export function appFirstLoadScripts(): string[] {
  const html = readFileSync(join(DIST, 'app/index.html'), 'utf8');
  const scripts = [...html.matchAll(/<script[^>]+src="([^"]+\.js)"/g), ...html.matchAll(/<link[^>]+rel="modulepreload"[^>]+href="([^"]+\.js)"/g)];
  return scripts.map((match) => join(DIST, 'app', match[1]!));
}

describe('the widget size budget', () => {
  it('keeps the loader within 4 KB gzipped', () => {
    expect(gzippedSize(join(DIST, 'sdk.js'))).toBeLessThanOrEqual(4 * 1024);
  });

  it('keeps the app’s first-load JavaScript within 60 KB gzipped', () => {
    const scripts = appFirstLoadScripts();
    expect(scripts.length).toBeGreaterThan(0);
    const total = scripts.reduce((sum, script) => sum + gzippedSize(script), 0);
    expect(total).toBeLessThanOrEqual(60 * 1024);
  });
});
