// The built app, served with `send` (ETag, Last-Modified, conditional GET, Range): only regular
// files inside the static root. Dotfiles, directories, and symbolic links that lead out of the
// root are never served; unknown extension-less paths fall back to index.html (client routes).
import type { IncomingMessage, ServerResponse } from 'node:http';
import { readFile, realpath, stat } from 'node:fs/promises';
import { extname, join, normalize, relative, sep } from 'node:path';
import send from 'send';
import { contentSecurityPolicy, inlineScriptHashes, MAX_HASHED_HTML_BYTES } from './security-headers.js';

export class BadPathError extends Error {
  override name = 'BadPathError';
}

/** Cache lifetime of content-hashed assets (/_app/immutable/*), seconds. */
const IMMUTABLE_MAX_AGE_S = 365 * 24 * 3600;

/** A file the root may serve: its path relative to the real root, and its size and mtime. */
interface Resolved {
  rel: string;
  real: string;
  mtimeMs: number;
  size: number;
}

function isHidden(rel: string): boolean {
  return rel.split(sep).some((seg) => seg.startsWith('.'));
}

/**
 * Resolves `rel` (already normalised, no leading separator) inside `realRoot`: undefined unless
 * it is a regular file, no path segment (before or after following links) is a dotfile, and its
 * real path stays inside the root.
 */
async function resolveFile(realRoot: string, rel: string): Promise<Resolved | undefined> {
  if (isHidden(rel)) return undefined;
  const real = await realpath(join(realRoot, rel)).catch(() => undefined);
  if (real === undefined || !real.startsWith(realRoot + sep)) return undefined;
  const inside = relative(realRoot, real);
  if (isHidden(inside)) return undefined;
  const info = await stat(real).catch(() => undefined);
  if (info === undefined || !info.isFile()) return undefined;
  return { rel: inside, real, mtimeMs: info.mtimeMs, size: info.size };
}

/** Decodes and normalises a request path; BadPathError if it cannot be decoded. */
export function requestPath(url: string | undefined): string {
  const pathname = new URL(url ?? '/', 'http://relay').pathname;
  let decoded: string;
  try {
    decoded = decodeURIComponent(pathname);
  } catch {
    throw new BadPathError('bad path');
  }
  if (decoded.includes('\0')) throw new BadPathError('bad path');
  // normalize() resolves '..' against '/', so nothing above the root survives.
  return normalize(`/${decoded}`).replace(/^[/\\]+/, '');
}

export interface StaticSite {
  /** Serves the request; false if nothing in the root answers it (the caller sends 404). */
  serve(req: IncomingMessage, res: ServerResponse): Promise<boolean>;
  /** The CSP for a response that is not one of the root's HTML pages. */
  readonly defaultCsp: string;
}

/** The policy for an HTML page: its own inline scripts' hashes, cached by path, size and mtime. */
function htmlPolicies(): (file: Resolved) => Promise<string> {
  const cache = new Map<string, { key: string; csp: string }>();
  return async (file) => {
    const key = `${file.size}:${file.mtimeMs}`;
    const hit = cache.get(file.real);
    if (hit?.key === key) return hit.csp;
    const html = file.size <= MAX_HASHED_HTML_BYTES ? await readFile(file.real, 'utf8') : '';
    const csp = contentSecurityPolicy(inlineScriptHashes(html));
    cache.set(file.real, { key, csp });
    return csp;
  };
}

function streamFile(
  req: IncomingMessage,
  res: ServerResponse,
  realRoot: string,
  file: Resolved,
  csp: string
): Promise<void> {
  const immutable = file.rel.startsWith(join('_app', 'immutable') + sep);
  const urlPath = '/' + file.rel.split(sep).map(encodeURIComponent).join('/');
  return new Promise((resolve) => {
    const stream = send(req, urlPath, {
      root: realRoot,
      dotfiles: 'deny',
      index: false,
      etag: true,
      lastModified: true,
      cacheControl: immutable,
      immutable,
      maxAge: immutable ? IMMUTABLE_MAX_AGE_S * 1000 : 0
    });
    stream.on('headers', (r: ServerResponse) => {
      r.setHeader('content-security-policy', csp);
      if (!immutable) r.setHeader('cache-control', 'no-cache');
    });
    stream.on('error', (err: { status?: number }) => {
      if (!res.headersSent) {
        const status = err.status ?? 500;
        res.writeHead(status, { 'content-type': 'text/plain', 'cache-control': 'no-store' });
        res.end(status === 404 ? 'not found\n' : 'error\n');
      } else res.destroy();
      resolve();
    });
    res.once('close', () => resolve());
    stream.pipe(res);
  });
}

/** The static site rooted at `staticDir` (which may be missing: then nothing is served). */
export async function createStaticSite(staticDir: string): Promise<StaticSite> {
  const realRoot = await realpath(staticDir).catch(() => undefined);
  const policyOf = htmlPolicies();
  const defaultCsp = contentSecurityPolicy();
  return {
    defaultCsp,
    async serve(req, res) {
      if (realRoot === undefined) return false;
      const rel = requestPath(req.url);
      if (isHidden(rel)) return false;
      const file =
        (rel === '' ? undefined : await resolveFile(realRoot, rel)) ??
        (await resolveFile(realRoot, join(rel, 'index.html'))) ??
        // SPA fallback for client-side routes; real missing assets stay 404.
        (extname(rel) === '' ? await resolveFile(realRoot, 'index.html') : undefined);
      if (file === undefined) return false;
      const csp = extname(file.rel) === '.html' ? await policyOf(file) : defaultCsp;
      await streamFile(req, res, realRoot, file, csp);
      return true;
    }
  };
}
