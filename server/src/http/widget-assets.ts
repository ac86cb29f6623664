// The web widget as built by `npm run build` (widget/dist): the loader host pages include
// (/widget/sdk.js), the chat app their iframe shows (/widget/app/, framed only by the inbox's
// allowed domains) and a demo host page (/widget/demo). Files are gzipped once and kept in memory.
import { extname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Router, type Response } from 'express';
import { Inbox } from '../db/models/inbox.ts';
import type { Services } from '../services.ts';
import { builtFiles, CONTENT_TYPES, HASHED_CACHE, sendBuiltFile } from './built-files.ts';

/** Where `npm run build` writes the widget. */
export const WIDGET_DIST = fileURLToPath(new URL('../../../widget/dist/', import.meta.url));

// The loader's URL never changes, so caches keep it briefly (the app's assets carry a content hash).
const LOADER_CACHE = 'public, max-age=300';

/** Host names as `settings.allowedDomains` holds them ("example.com", "*.example.com"). */
const DOMAIN = /^(\*\.)?[a-z0-9-]+(\.[a-z0-9-]+)*$/i;

export function createWidgetRouter(services: Services, dist = WIDGET_DIST): Router {
  const router = Router();
  const load = builtFiles(dist);

  const notBuilt = (response: Response): void => {
    response.status(404).json({ error: { code: 'widget/not_built', message: 'The widget is not built: run npm run build' } });
  };

  router.get('/widget/sdk.js', async (request, response) => {
    const file = await load('sdk.js');
    if (!file) return notBuilt(response);
    // Host pages on any origin include it, whatever their cross-origin policies say.
    response.setHeader('Cross-Origin-Resource-Policy', 'cross-origin');
    sendBuiltFile(request, response, file, CONTENT_TYPES['.js']!, LOADER_CACHE);
  });

  router.get(['/widget/app', '/widget/app/', '/widget/app/index.html'], async (request, response) => {
    if (request.path === '/widget/app') return response.redirect(301, `/widget/app/${request.url.slice('/widget/app'.length)}`);
    const websiteToken = request.query.website_token;
    const inbox = typeof websiteToken === 'string' && websiteToken.length <= 100
      ? await Inbox.findOne({ websiteToken, channelType: 'web_widget' }, { settings: 1 }).lean()
      : null;
    if (!inbox) return response.status(404).json({ error: { code: 'inbox/not_found', message: 'No widget for this website token' } });
    const file = await load('app/index.html');
    if (!file) return notBuilt(response);
    response.setHeader('Content-Security-Policy', appPolicy(inbox.settings?.allowedDomains ?? []));
    response.setHeader('Referrer-Policy', 'no-referrer');
    sendBuiltFile(request, response, file, CONTENT_TYPES['.html']!, 'no-cache');
  });

  router.get('/widget/app/assets/:file', async (request, response) => {
    const name = String(request.params.file);
    const type = CONTENT_TYPES[extname(name)];
    const file = type && /^[\w.-]+$/.test(name) ? await load(`app/assets/${name}`) : undefined;
    if (!file || !type) return response.status(404).json({ error: { code: 'http/not_found', message: 'Not found' } });
    sendBuiltFile(request, response, file, type, HASHED_CACHE);
  });

  router.get('/widget/demo', async (request, response) => {
    const token = request.query.website_token;
    const inbox = typeof token === 'string'
      ? await Inbox.findOne({ websiteToken: token, channelType: 'web_widget' }, { name: 1, websiteToken: 1 }).lean()
      : await Inbox.findOne({ channelType: 'web_widget' }, { name: 1, websiteToken: 1 }).sort({ _id: 1 }).lean();
    if (!inbox?.websiteToken) return response.status(404).json({ error: { code: 'inbox/not_found', message: 'No web widget inbox to show' } });
    response.setHeader('Content-Type', CONTENT_TYPES['.html']!);
    response.setHeader('Cache-Control', 'no-cache');
    response.setHeader(
      'Content-Security-Policy',
      "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; connect-src 'self'; frame-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'",
    );
    response.end(demoPage(inbox.name, inbox.websiteToken, services.config.publicUrl));
  });

  return router;
}

/**
 * The app page's policy: its own scripts, styles and API only, and framed only where the inbox
 * allows (any site when it names no domains).
 */
export function appPolicy(allowedDomains: readonly string[]): string {
  const ancestors = allowedDomains.length === 0
    ? ['*']
    : allowedDomains
        .filter((domain) => DOMAIN.test(domain))
        .flatMap((domain) => {
          const hosts = domain.startsWith('*.') ? [domain, domain.slice(2)] : [domain];
          return hosts.flatMap((host) => [`http://${host}:*`, `https://${host}:*`]);
        });
  return [
    "default-src 'none'",
    "script-src 'self'",
    "style-src 'self'",
    // Attachments are fetched with the visitor's token and shown from blob: URLs.
    "img-src 'self' data: blob:",
    "connect-src 'self'",
    "base-uri 'none'",
    "form-action 'none'",
    `frame-ancestors ${ancestors.length > 0 ? ancestors.join(' ') : "'none'"}`,
  ].join('; ');
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (character) => `&#${character.charCodeAt(0)};`);
}

function demoPage(inboxName: string, websiteToken: string, publicUrl: string | undefined): string {
  const base = publicUrl ?? '';
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Charla widget demo — ${escapeHtml(inboxName)}</title>
<style>body{font:16px/1.5 system-ui,sans-serif;max-width:40rem;margin:3rem auto;padding:0 1rem;color:#1f2937}code,pre{background:#f3f4f6;border-radius:6px}pre{padding:1rem;overflow:auto}</style>
</head>
<body>
<h1>Charla widget demo</h1>
<p>This page stands in for a website of the inbox <strong>${escapeHtml(inboxName)}</strong>. Open the chat with the button in the corner.</p>
<p>To put the widget on your own site, paste this before <code>&lt;/body&gt;</code>:</p>
<pre>&lt;script src="${escapeHtml(base)}/widget/sdk.js" data-website-token="${escapeHtml(websiteToken)}" defer&gt;&lt;/script&gt;</pre>
<script src="/widget/sdk.js" data-website-token="${escapeHtml(websiteToken)}" defer></script>
</body>
</html>
`;
}
