// Relay configuration: defaults < environment variables < command-line flags.
import { resolve } from 'node:path';
import { multiaddr } from '@multiformats/multiaddr';
import { ABUSE_LIMITS, CONNECTION_LIMITS, GOSSIP_LIMITS, HTTP_LIMITS, RELAY_LIMITS } from './limits.js';
import { ARCHIVE_CHECKPOINT_SECONDS } from './archive/constants.js';

export interface RelayConfig {
  /** Interface every listener binds to. */
  host: string;
  /** HTTP port (app, /healthz, /metrics, /api/*). 0 picks a free port. */
  port: number;
  /** libp2p WebSockets port. 0 picks a free port. */
  relayPort: number;
  /** Where the relay keeps its key (and, later, archive data). */
  dataDir: string;
  /** The built app to serve; missing means the API only. */
  staticDir: string;
  /** Circuit relay v2 reservations held at once (freed when their peer disconnects). */
  maxReservations: number;
  /** Reservations held at once by peers connected from one IP address. */
  maxReservationsPerIp: number;
  /** Open libp2p connections before pruning. */
  maxConnections: number;
  /** Open libp2p connections from one IP address. */
  maxConnectionsPerIp: number;
  /** Largest gossipsub RPC frame accepted, bytes. */
  gossipMaxFrameBytes: number;
  /** New gossip messages per second accepted from one peer. */
  gossipRate: number;
  /** Open HTTP connections. */
  httpMaxConnections: number;
  /** Also run a full replica with persistent storage in dataDir (relay/archive/). */
  archive: boolean;
  /** Other relays this one keeps a connection to and shares gossip with (multiaddrs with /p2p/<id>). */
  peers: string[];
  /** Other relays' public WebSocket multiaddrs (with /p2p/<id>), listed at /api/relays. */
  relays: string[];
  /** This relay's public multiaddrs (e.g. behind a TLS proxy), announced instead of the listen address. */
  announce: string[];
  /** Refusal points from which an IP is abusive and all its peers are graylisted and refused (relay/ip-abuse.ts); 0 = off. */
  ipAbuseThreshold: number;
  /** An archive holding the operator key signs a checkpoint of its state this often, seconds; 0 = on demand only. */
  checkpointSeconds: number;
}

export const DEFAULTS: RelayConfig = {
  host: '127.0.0.1',
  port: 8080,
  relayPort: 9090,
  dataDir: '.tabula-relay',
  staticDir: 'build',
  maxReservations: RELAY_LIMITS.maxReservations,
  maxReservationsPerIp: RELAY_LIMITS.maxReservationsPerIp,
  maxConnections: CONNECTION_LIMITS.maxConnections,
  maxConnectionsPerIp: CONNECTION_LIMITS.maxConnectionsPerIp,
  gossipMaxFrameBytes: GOSSIP_LIMITS.maxFrameBytes,
  gossipRate: GOSSIP_LIMITS.messagesPerSecond,
  httpMaxConnections: HTTP_LIMITS.maxConnections,
  archive: false,
  peers: [],
  relays: [],
  announce: [],
  ipAbuseThreshold: ABUSE_LIMITS.threshold,
  checkpointSeconds: ARCHIVE_CHECKPOINT_SECONDS
};

export class ConfigError extends Error {
  override name = 'ConfigError';
}

const FLAGS: Record<string, keyof RelayConfig> = {
  '--host': 'host',
  '--port': 'port',
  '--relay-port': 'relayPort',
  '--data-dir': 'dataDir',
  '--static-dir': 'staticDir',
  '--max-reservations': 'maxReservations',
  '--max-reservations-per-ip': 'maxReservationsPerIp',
  '--max-connections': 'maxConnections',
  '--max-connections-per-ip': 'maxConnectionsPerIp',
  '--gossip-max-frame-bytes': 'gossipMaxFrameBytes',
  '--gossip-rate': 'gossipRate',
  '--http-max-connections': 'httpMaxConnections',
  '--peer': 'peers',
  '--relays': 'relays',
  '--announce': 'announce',
  '--ip-abuse-threshold': 'ipAbuseThreshold',
  '--checkpoint-seconds': 'checkpointSeconds'
};

const ENV: Record<string, keyof RelayConfig> = {
  HOST: 'host',
  PORT: 'port',
  RELAY_PORT: 'relayPort',
  TABULA_DATA_DIR: 'dataDir',
  TABULA_STATIC_DIR: 'staticDir',
  TABULA_MAX_RESERVATIONS: 'maxReservations',
  TABULA_MAX_RESERVATIONS_PER_IP: 'maxReservationsPerIp',
  TABULA_MAX_CONNECTIONS: 'maxConnections',
  TABULA_MAX_CONNECTIONS_PER_IP: 'maxConnectionsPerIp',
  TABULA_GOSSIP_MAX_FRAME_BYTES: 'gossipMaxFrameBytes',
  TABULA_GOSSIP_RATE: 'gossipRate',
  TABULA_HTTP_MAX_CONNECTIONS: 'httpMaxConnections',
  TABULA_PEERS: 'peers',
  TABULA_RELAYS: 'relays',
  TABULA_ANNOUNCE: 'announce',
  TABULA_IP_ABUSE_THRESHOLD: 'ipAbuseThreshold',
  TABULA_CHECKPOINT_SECONDS: 'checkpointSeconds'
};

type ListKey = 'peers' | 'relays' | 'announce';

/** Multiaddr lists: a flag may repeat and take comma-separated values; flags replace the variable. */
const LISTS = new Set<keyof RelayConfig>(['peers', 'relays', 'announce']);

/** Lists whose multiaddrs must name a peer (/p2p/<id>). */
const NEEDS_PEER_ID = new Set<keyof RelayConfig>(['peers', 'relays']);

function parseAddrList(key: ListKey, raw: string, from: string): string[] {
  const out: string[] = [];
  for (const part of raw.split(',')) {
    const text = part.trim();
    if (text === '') continue;
    let ma;
    try {
      ma = multiaddr(text);
    } catch {
      throw new ConfigError(`${from}: not a multiaddr: "${text}"`);
    }
    if (NEEDS_PEER_ID.has(key) && !ma.getComponents().some((c) => c.name === 'p2p')) {
      throw new ConfigError(`${from}: "${text}" needs /p2p/<peer id>`);
    }
    out.push(ma.toString());
  }
  return out;
}

/** Inclusive bounds of the numeric settings. */
const RANGES: Partial<Record<keyof RelayConfig, [number, number]>> = {
  port: [0, 65_535],
  relayPort: [0, 65_535],
  maxReservations: [0, 1_000_000],
  maxReservationsPerIp: [1, 1_000_000],
  maxConnections: [1, 1_000_000],
  maxConnectionsPerIp: [1, 1_000_000],
  // Below one entry plus its envelope nothing could be published; above 4 MiB is libp2p's own cap.
  gossipMaxFrameBytes: [80 * 1024, 4 * 1024 * 1024],
  gossipRate: [1, 1_000_000],
  httpMaxConnections: [1, 1_000_000],
  ipAbuseThreshold: [0, 1_000_000],
  checkpointSeconds: [0, 86_400]
};

function assign(cfg: RelayConfig, key: keyof RelayConfig, raw: string, from: string): void {
  if (LISTS.has(key)) {
    const k = key as ListKey;
    cfg[k] = [...cfg[k], ...parseAddrList(k, raw, from)];
    return;
  }
  const range = RANGES[key];
  if (range !== undefined) {
    const n = raw.trim() === '' ? NaN : Number(raw);
    const [min, max] = range;
    if (!Number.isInteger(n) || n < min || n > max) {
      throw new ConfigError(`${from}: expected an integer ${min}..${max}, got "${raw}"`);
    }
    (cfg[key] as number) = n;
  } else {
    if (raw === '') throw new ConfigError(`${from}: empty value`);
    (cfg[key] as string) = raw;
  }
}

export const USAGE = `Usage: tsx relay/main.ts [options]
  --host H              bind address (HOST, default 127.0.0.1)
  --port N              HTTP port (PORT, default 8080)
  --relay-port N        libp2p WebSockets port (RELAY_PORT, default 9090)
  --data-dir D          key and data directory (TABULA_DATA_DIR, default .tabula-relay)
  --static-dir D        built app to serve (TABULA_STATIC_DIR, default build)
  --max-reservations N  circuit relay reservations (TABULA_MAX_RESERVATIONS, default ${DEFAULTS.maxReservations})
  --max-reservations-per-ip N
                        reservations from one IP (TABULA_MAX_RESERVATIONS_PER_IP, default ${DEFAULTS.maxReservationsPerIp})
  --max-connections N   libp2p connections (TABULA_MAX_CONNECTIONS, default ${DEFAULTS.maxConnections})
  --max-connections-per-ip N
                        libp2p connections from one IP (TABULA_MAX_CONNECTIONS_PER_IP, default ${DEFAULTS.maxConnectionsPerIp})
  --gossip-max-frame-bytes N
                        largest gossipsub frame (TABULA_GOSSIP_MAX_FRAME_BYTES, default ${DEFAULTS.gossipMaxFrameBytes})
  --gossip-rate N       new gossip messages/s per peer (an entries batch counts its entries) (TABULA_GOSSIP_RATE, default ${DEFAULTS.gossipRate})
  --http-max-connections N
                        HTTP connections (TABULA_HTTP_MAX_CONNECTIONS, default ${DEFAULTS.httpMaxConnections})
  --peer MA             another relay to mesh with (repeatable or comma-separated; TABULA_PEERS)
  --relays MA           another relay's public WebSocket multiaddr for /api/relays (repeatable; TABULA_RELAYS)
  --announce MA         this relay's public multiaddr, e.g. behind a TLS proxy (repeatable; TABULA_ANNOUNCE)
  --ip-abuse-threshold N
                        refusal points that make an IP abusive, its peers graylisted and refused; 0 = off,
                        e.g. behind a proxy (TABULA_IP_ABUSE_THRESHOLD, default ${DEFAULTS.ipAbuseThreshold})
  --archive             keep a full replica in the data dir (TABULA_ARCHIVE=1)
  --checkpoint-seconds N
                        an archive holding the operator key (operator.key in the data dir) signs a
                        checkpoint of its state every N s; 0 = only with join answers
                        (TABULA_CHECKPOINT_SECONDS, default ${DEFAULTS.checkpointSeconds})
Create a network (signed genesis in the data dir; see genesis --help):
  tsx relay/main.ts genesis --name NAME [--data-dir D] [--max-entry-bytes N] [--operator HEX]...
Archive backups (the relay may be running for export, not for import):
  tsx relay/main.ts export --data-dir D --out FILE
  tsx relay/main.ts import --data-dir D --in FILE`;

/**
 * Every reserved peer holds a connection: unless set explicitly, the connection cap grows with
 * the reservation cap (twice as many, so visitors without a reservation still fit). An explicit
 * cap below the reservation cap is refused.
 */
function fitConnectionsToReservations(cfg: RelayConfig, explicit: Set<keyof RelayConfig>): void {
  if (!explicit.has('maxConnections')) {
    cfg.maxConnections = Math.max(cfg.maxConnections, cfg.maxReservations * 2);
  } else if (cfg.maxConnections < cfg.maxReservations) {
    throw new ConfigError(
      `max connections (${cfg.maxConnections}) must be at least max reservations (${cfg.maxReservations})`
    );
  }
}

/** An on/off environment variable: 1/true/yes or 0/false/no. */
function parseSwitch(raw: string, from: string): boolean {
  const v = raw.trim().toLowerCase();
  if (['1', 'true', 'yes'].includes(v)) return true;
  if (['0', 'false', 'no', ''].includes(v)) return false;
  throw new ConfigError(`${from}: expected 1 or 0, got "${raw}"`);
}

export function parseConfig(argv: string[], env: Record<string, string | undefined>): RelayConfig {
  const cfg: RelayConfig = { ...DEFAULTS };
  const explicit = new Set<keyof RelayConfig>();
  const flaggedLists = new Set<keyof RelayConfig>();
  for (const [name, key] of Object.entries(ENV)) {
    const v = env[name];
    if (v === undefined) continue;
    assign(cfg, key, v, name);
    explicit.add(key);
  }
  if (env.TABULA_ARCHIVE !== undefined) cfg.archive = parseSwitch(env.TABULA_ARCHIVE, 'TABULA_ARCHIVE');
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--archive') {
      cfg.archive = true;
      continue;
    }
    const eq = arg.indexOf('=');
    const flag = eq > 0 ? arg.slice(0, eq) : arg;
    const key = FLAGS[flag];
    if (key === undefined) throw new ConfigError(`unknown option ${arg}\n${USAGE}`);
    const value = eq > 0 ? arg.slice(eq + 1) : argv[++i];
    if (value === undefined) throw new ConfigError(`${flag} needs a value`);
    // A list flag replaces the variable's list, then accumulates over its repetitions.
    if (LISTS.has(key) && !flaggedLists.has(key)) {
      (cfg[key] as string[]) = [];
      flaggedLists.add(key);
    }
    assign(cfg, key, value, flag);
    explicit.add(key);
  }
  fitConnectionsToReservations(cfg, explicit);
  cfg.dataDir = resolve(cfg.dataDir);
  cfg.staticDir = resolve(cfg.staticDir);
  return cfg;
}
