// The agent console as built by `npm run build` (agent-ui/dist), served under /app/. Every other
// /app/… path answers with index.html so history-mode routes (/app/conversations/12, the links in
// notification e-mails) work on a reload. Files are gzipped once and kept in memory.
import { readFile, stat } from 'node:fs/promises';
import { extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzip } from 'node:zlib';
import { promisify } from 'node:util';
import { Router, type Request, type Response } from 'express';

const gzipAsync = promisify(gzip);

/** Where `npm run build` writes the console. */
export const CONSOLE_DIST = fileURLToPath(new URL('../../../agent-ui/dist/', import.meta.url));

const CONTENT_TYPES: Record<string, string> = {
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.woff2': 'font/woff2',
};

/**
 * Only the console's own scripts, styles and API (HTTP and WebSocket); never framed. Message
 * content is rendered as escaped text, and this stops anything that slipped through from running.
 */
export const CONSOLE_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data: blob:",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

interface CachedFile {
  mtimeMs: number;
  body: Buffer;
  gzipped: Buffer;
}

export function createConsoleRouter(dist = CONSOLE_DIST): Router {
  const router = Router();
  const cache = new Map<string, CachedFile>();

  async function load(relativePath: string): Promise<CachedFile | undefined> {
    const path = join(dist, relativePath);
    let mtimeMs: number;
    try {
      const info = await stat(path);
      if (!info.isFile()) return undefined;
      mtimeMs = info.mtimeMs;
    } catch {
      return undefined;
    }
    const cached = cache.get(path);
    if (cached && cached.mtimeMs === mtimeMs) return cached;
    const body = await readFile(path);
    const file = { mtimeMs, body, gzipped: await gzipAsync(body, { level: 9 }) };
    cache.set(path, file);
    return file;
  }

  function send(request: Request, response: Response, file: CachedFile, type: string, cacheControl: string): void {
    response.setHeader('Content-Type', type);
    response.setHeader('Cache-Control', cacheControl);
    response.setHeader('X-Content-Type-Options', 'nosniff');
    response.setHeader('Vary', 'Accept-Encoding');
    const gzipped = /\bgzip\b/.test(String(request.headers['accept-encoding'] ?? ''));
    if (gzipped) response.setHeader('Content-Encoding', 'gzip');
    response.end(gzipped ? file.gzipped : file.body);
  }

  // The console is the default page.
  router.get('/', (_request, response) => response.redirect(302, '/app/'));

  router.get('/app/assets/:file', async (request, response) => {
    const name = String(request.params.file);
    const type = CONTENT_TYPES[extname(name)];
    // Names as Vite writes them (no separators, no "..").
    const file = type && /^[\w-]+(\.[\w-]+)+$/.test(name) ? await load(`assets/${name}`) : undefined;
    if (!file || !type) return response.status(404).json({ error: { code: 'http/not_found', message: 'Not found' } });
    send(request, response, file, type, 'public, max-age=31536000, immutable');
  });

  router.get(['/app', /^\/app\/.*/], async (request, response) => {
    const file = await load('index.html');
    if (!file) {
      return response.status(404).json({ error: { code: 'console/not_built', message: 'The agent console is not built: run npm run build' } });
    }
    response.setHeader('Content-Security-Policy', CONSOLE_POLICY);
    response.setHeader('Referrer-Policy', 'same-origin');
    response.setHeader('X-Frame-Options', 'DENY');
    send(request, response, file, 'text/html; charset=utf-8', 'no-cache');
  });

  return router;
}
