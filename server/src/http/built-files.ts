// Files `npm run build` wrote (the widget, the agent console), served from memory: read once,
// gzipped once, read again when the file on disk changes. Only paths inside the build folder.
import { readFile, stat } from 'node:fs/promises';
import { join, normalize, sep } from 'node:path';
import { promisify } from 'node:util';
import { gzip } from 'node:zlib';
import type { Request, Response } from 'express';

const gzipAsync = promisify(gzip);

export const CONTENT_TYPES: Record<string, string> = {
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.html': 'text/html; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.woff2': 'font/woff2',
};

/** For files whose names carry a content hash: they never change under the same name. */
export const HASHED_CACHE = 'public, max-age=31536000, immutable';

export interface BuiltFile {
  mtimeMs: number;
  body: Buffer;
  gzipped: Buffer;
}

/** A reader of one build folder's files; undefined for what is not a file inside it. */
export function builtFiles(dist: string): (relativePath: string) => Promise<BuiltFile | undefined> {
  const root = normalize(dist).endsWith(sep) ? normalize(dist) : normalize(dist) + sep;
  const cache = new Map<string, BuiltFile>();
  return async (relativePath) => {
    const path = normalize(join(root, relativePath));
    if (!path.startsWith(root)) return undefined;
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
  };
}

/** Sends a built file, gzipped when the client takes it, never sniffed as another type. */
export function sendBuiltFile(request: Request, response: Response, file: BuiltFile, type: string, cacheControl: string): void {
  response.setHeader('Content-Type', type);
  response.setHeader('Cache-Control', cacheControl);
  response.setHeader('X-Content-Type-Options', 'nosniff');
  response.setHeader('Vary', 'Accept-Encoding');
  const gzipped = /\bgzip\b/.test(String(request.headers['accept-encoding'] ?? ''));
  if (gzipped) response.setHeader('Content-Encoding', 'gzip');
  response.end(gzipped ? file.gzipped : file.body);
}
