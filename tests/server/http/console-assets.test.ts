// How the server hands out the agent console: index.html for /app and every history-mode route
// under it (the links in notification e-mails), under a strict CSP; hashed assets cached for good.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestCharla, stopAllTestCharlas, type TestCharla } from '../../support/charla.ts';

let charla: TestCharla;

beforeAll(async () => {
  charla = await startTestCharla();
});

afterAll(stopAllTestCharlas);

describe('serving the agent console', () => {
  it('opens the console from the site root', async () => {
    const response = await fetch(`${charla.url}/`, { redirect: 'manual' });
    expect(response.status).toBe(302);
    expect(response.headers.get('location')).toBe('/app/');
  });

  it('answers /app and deep links with index.html under a policy that allows only its own scripts and API', async () => {
    for (const path of ['/app', '/app/', '/app/login', '/app/conversations/12']) {
      const response = await fetch(`${charla.url}${path}`);
      expect(response.status, path).toBe(200);
      expect(response.headers.get('content-type')).toBe('text/html; charset=utf-8');
      expect(response.headers.get('cache-control')).toBe('no-cache');
      const policy = response.headers.get('content-security-policy') ?? '';
      expect(policy).toContain("script-src 'self'");
      expect(policy).toContain("connect-src 'self'");
      expect(policy).toContain("frame-ancestors 'none'");
      expect(policy).not.toContain('unsafe');
      const html = await response.text();
      expect(html).toMatch(/<script type="module" crossorigin src="\/app\/assets\/index-[\w-]+\.js"><\/script>/);
    }
  });

  it('serves the hashed assets index.html names, gzipped and cached for good', async () => {
    const html = await (await fetch(`${charla.url}/app/`)).text();
    const script = /src="(\/app\/assets\/[^"]+\.js)"/.exec(html)![1]!;
    const response = await fetch(`${charla.url}${script}`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    expect(response.headers.get('content-encoding')).toBe('gzip');
    expect(response.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
  });

  it('refuses asset names that try to leave the assets folder', async () => {
    for (const path of ['/app/assets/..%2F..%2Fpackage.json', '/app/assets/missing.js', '/app/assets/index.html']) {
      const response = await fetch(`${charla.url}${path}`);
      expect(response.status, path).toBe(404);
    }
  });
});
