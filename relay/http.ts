// The relay's HTTP face: the built app (single-page fallback), /healthz, /metrics and /api/*.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createReadStream } from 'node:fs';
import { pipeline } from 'node:stream/promises';
import { stat } from 'node:fs/promises';
import { extname, join, normalize, sep } from 'node:path';
import { renderMetrics, type Metric } from './metrics.js';

/** What the HTTP endpoints read from the running relay. */
export interface RelayView {
  /** Multiaddrs browsers should dial (with /p2p/<relay id>). */
  relayAddrs(): string[];
  peerId(): string;
  metrics(): Metric[];
  /** Healthy means the libp2p node is started and listening. */
  healthy(): boolean;
}

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.wasm': 'application/wasm',
  '.txt': 'text/plain; charset=utf-8',
  '.webmanifest': 'application/manifest+json'
};

function send(res: ServerResponse, status: number, body: string, type: string): void {
  res.writeHead(status, {
    'content-type': type,
    'cache-control': 'no-store',
    'content-length': Buffer.byteLength(body)
  });
  res.end(body);
}

function json(res: ServerResponse, status: number, value: unknown): void {
  send(res, status, JSON.stringify(value), 'application/json');
}

async function serveFile(res: ServerResponse, path: string, head: boolean): Promise<boolean> {
  const info = await stat(path).catch(() => undefined);
  if (info === undefined || !info.isFile()) return false;
  const immutable = path.includes(`${sep}_app${sep}immutable${sep}`);
  res.writeHead(200, {
    'content-type': TYPES[extname(path)] ?? 'application/octet-stream',
    'content-length': info.size,
    'cache-control': immutable ? 'public, max-age=31536000, immutable' : 'no-cache'
  });
  if (head) {
    res.end();
    return true;
  }
  // pipeline closes the file when the client goes away mid-download (pipe() would leak the fd).
  await pipeline(createReadStream(path), res).catch(() => res.destroy());
  return true;
}

async function serveStatic(staticDir: string, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const url = new URL(req.url ?? '/', 'http://relay');
  let rel: string;
  try {
    rel = normalize(decodeURIComponent(url.pathname));
  } catch {
    return send(res, 400, 'bad path\n', 'text/plain');
  }
  // normalize() resolves '..'; anything still escaping the root is refused.
  const path = join(staticDir, rel);
  if (path !== staticDir && !path.startsWith(staticDir + sep)) return send(res, 403, 'forbidden\n', 'text/plain');
  const head = req.method === 'HEAD';
  if (await serveFile(res, path, head)) return;
  if (await serveFile(res, join(path, 'index.html'), head)) return;
  // SPA fallback for client-side routes; real missing assets stay 404.
  if (extname(rel) === '' && (await serveFile(res, join(staticDir, 'index.html'), head))) return;
  send(res, 404, 'not found\n', 'text/plain');
}

export function createHttpServer(view: RelayView, staticDir: string): Server {
  return createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://relay').pathname;
    if (req.method !== 'GET' && req.method !== 'HEAD') return send(res, 405, 'method not allowed\n', 'text/plain');
    switch (path) {
      case '/healthz':
        return view.healthy()
          ? json(res, 200, { status: 'ok', peerId: view.peerId() })
          : json(res, 503, { status: 'starting' });
      case '/api/relays':
        return json(res, 200, { relays: view.relayAddrs() });
      case '/metrics':
        return send(res, 200, renderMetrics(view.metrics()), 'text/plain; version=0.0.4; charset=utf-8');
      default:
        if (path.startsWith('/api/')) return json(res, 404, { error: 'unknown endpoint' });
        serveStatic(staticDir, req, res).catch(() => {
          if (!res.headersSent) send(res, 500, 'error\n', 'text/plain');
          else res.destroy();
        });
    }
  });
}
