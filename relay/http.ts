// The relay's HTTP face: the built app (single-page fallback), /healthz, /metrics, /api/relays
// and /api/network.
// Every response carries the security headers; the server has timeouts and a connection cap.
import { createServer, type Server, type ServerResponse } from 'node:http';
import type { RelayMetrics } from './metrics.js';
import type { NetworkReport } from './telemetry.js';
import { HTTP_LIMITS } from './limits.js';
import { setSecurityHeaders } from './security-headers.js';
import type { StaticSite } from './static.js';

/** What the HTTP endpoints read from the running relay. */
export interface RelayView {
  /** Multiaddrs browsers should dial (with /p2p/<relay id>). */
  relayAddrs(): string[];
  peerId(): string;
  metrics: RelayMetrics;
  /** Nodes seen through verified telemetry beacons. */
  network(): NetworkReport;
  /** Healthy means the libp2p node is started and listening. */
  healthy(): boolean;
  /** The archive replica's status (relay --archive); absent otherwise (then /api/archive is 404). */
  archive?: () => unknown;
  /** The other relays of the mesh (`--peer`), shown by /healthz. */
  mesh?(): Array<{ id: string; connected: boolean; failures: number }>;
  /** The network's signed genesis document (JSON text), served at /api/genesis. */
  genesis?(): string;
}

export interface HttpOptions {
  /** Open connections; more are refused (closed at once). */
  maxConnections: number;
}

/** `{ mesh }` when the relay has mesh peers, else nothing (a lone relay's /healthz is unchanged). */
function meshField(view: RelayView): { mesh?: ReturnType<NonNullable<RelayView['mesh']>> } {
  const mesh = view.mesh?.() ?? [];
  return mesh.length > 0 ? { mesh } : {};
}

function reply(res: ServerResponse, status: number, body: string, type: string): void {
  res.writeHead(status, {
    'content-type': type,
    'cache-control': 'no-store',
    'content-length': Buffer.byteLength(body)
  });
  res.end(body);
}

function json(res: ServerResponse, status: number, value: unknown): void {
  reply(res, status, JSON.stringify(value), 'application/json');
}

/** Node's HTTP server with the limits of HTTP_LIMITS and `options`. */
function limitedServer(options: HttpOptions, handler: Parameters<typeof createServer>[1]): Server {
  const server = createServer(
    {
      headersTimeout: HTTP_LIMITS.headersTimeoutMs,
      requestTimeout: HTTP_LIMITS.requestTimeoutMs,
      keepAliveTimeout: HTTP_LIMITS.keepAliveTimeoutMs,
      maxHeaderSize: HTTP_LIMITS.maxHeaderBytes
    },
    handler
  );
  server.maxConnections = options.maxConnections;
  server.maxRequestsPerSocket = HTTP_LIMITS.maxRequestsPerSocket;
  return server;
}

export function createHttpServer(view: RelayView, site: StaticSite, options: HttpOptions): Server {
  return limitedServer(options, (req, res) => {
    setSecurityHeaders(res, site.defaultCsp);
    const path = new URL(req.url ?? '/', 'http://relay').pathname;
    if (req.method !== 'GET' && req.method !== 'HEAD') return reply(res, 405, 'method not allowed\n', 'text/plain');
    switch (path) {
      case '/healthz':
        return view.healthy()
          ? json(res, 200, { status: 'ok', peerId: view.peerId(), ...meshField(view) })
          : json(res, 503, { status: 'starting' });
      case '/api/relays':
        return json(res, 200, { relays: view.relayAddrs() });
      case '/api/genesis':
        return view.genesis
          ? reply(res, 200, view.genesis(), 'application/json')
          : json(res, 404, { error: 'no genesis' });
      case '/api/network':
        return json(res, 200, view.network());
      case '/api/archive':
        return view.archive ? json(res, 200, view.archive()) : json(res, 404, { error: 'not an archive relay' });
      case '/metrics':
        return void view.metrics.render().then(
          (text) => reply(res, 200, text, view.metrics.contentType),
          () => reply(res, 500, 'error\n', 'text/plain')
        );
      default:
        if (path.startsWith('/api/')) return json(res, 404, { error: 'unknown endpoint' });
        site.serve(req, res).then(
          (served) => {
            if (!served) reply(res, 404, 'not found\n', 'text/plain');
          },
          (err: unknown) => {
            if (res.headersSent) res.destroy();
            else if ((err as Error).name === 'BadPathError') reply(res, 400, 'bad path\n', 'text/plain');
            else reply(res, 500, 'error\n', 'text/plain');
          }
        );
    }
  });
}
