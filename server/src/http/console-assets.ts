// The agent console as built by `npm run build` (agent-ui/dist), served under /app/. Every other
// /app/… path answers with index.html so history-mode routes (/app/conversations/12, the links in
// notification e-mails) work on a reload. Files are gzipped once and kept in memory.
import { extname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Router } from 'express';
import { builtFiles, CONTENT_TYPES, HASHED_CACHE, sendBuiltFile } from './built-files.ts';

/** Where `npm run build` writes the console. */
export const CONSOLE_DIST = fileURLToPath(new URL('../../../agent-ui/dist/', import.meta.url));

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

export function createConsoleRouter(dist = CONSOLE_DIST): Router {
  const router = Router();
  const load = builtFiles(dist);

  // The console is the default page.
  router.get('/', (_request, response) => response.redirect(302, '/app/'));

  router.get('/app/assets/:file', async (request, response) => {
    const name = String(request.params.file);
    const type = CONTENT_TYPES[extname(name)];
    // Names as Vite writes them (no separators, no "..").
    const file = type && /^[\w-]+(\.[\w-]+)+$/.test(name) ? await load(`assets/${name}`) : undefined;
    if (!file || !type) return response.status(404).json({ error: { code: 'http/not_found', message: 'Not found' } });
    sendBuiltFile(request, response, file, type, HASHED_CACHE);
  });

  router.get(['/app', /^\/app\/.*/], async (request, response) => {
    const file = await load('index.html');
    if (!file) {
      return response.status(404).json({ error: { code: 'console/not_built', message: 'The agent console is not built: run npm run build' } });
    }
    response.setHeader('Content-Security-Policy', CONSOLE_POLICY);
    response.setHeader('Referrer-Policy', 'same-origin');
    response.setHeader('X-Frame-Options', 'DENY');
    sendBuiltFile(request, response, file, CONTENT_TYPES['.html']!, 'no-cache');
  });

  return router;
}
