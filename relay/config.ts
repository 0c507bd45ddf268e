// Relay configuration: defaults < environment variables < command-line flags.
import { resolve } from 'node:path';

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
  /** Circuit relay v2 limits. */
  maxReservations: number;
}

export const DEFAULTS: RelayConfig = {
  host: '127.0.0.1',
  port: 8080,
  relayPort: 9090,
  dataDir: '.tabula-relay',
  staticDir: 'build',
  maxReservations: 128
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
  '--max-reservations': 'maxReservations'
};

const ENV: Record<string, keyof RelayConfig> = {
  HOST: 'host',
  PORT: 'port',
  RELAY_PORT: 'relayPort',
  TABULA_DATA_DIR: 'dataDir',
  TABULA_STATIC_DIR: 'staticDir',
  TABULA_MAX_RESERVATIONS: 'maxReservations'
};

const NUMERIC = new Set<keyof RelayConfig>(['port', 'relayPort', 'maxReservations']);

function assign(cfg: RelayConfig, key: keyof RelayConfig, raw: string, from: string): void {
  if (NUMERIC.has(key)) {
    const n = Number(raw);
    const max = key === 'maxReservations' ? 1_000_000 : 65_535;
    if (!Number.isInteger(n) || n < 0 || n > max) {
      throw new ConfigError(`${from}: expected an integer 0..${max}, got "${raw}"`);
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
  --max-reservations N  circuit relay reservations (TABULA_MAX_RESERVATIONS, default 128)`;

export function parseConfig(argv: string[], env: Record<string, string | undefined>): RelayConfig {
  const cfg: RelayConfig = { ...DEFAULTS };
  for (const [name, key] of Object.entries(ENV)) {
    const v = env[name];
    if (v !== undefined) assign(cfg, key, v, name);
  }
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const eq = arg.indexOf('=');
    const flag = eq > 0 ? arg.slice(0, eq) : arg;
    const key = FLAGS[flag];
    if (key === undefined) throw new ConfigError(`unknown option ${arg}\n${USAGE}`);
    const value = eq > 0 ? arg.slice(eq + 1) : argv[++i];
    if (value === undefined) throw new ConfigError(`${flag} needs a value`);
    assign(cfg, key, value, flag);
  }
  cfg.dataDir = resolve(cfg.dataDir);
  cfg.staticDir = resolve(cfg.staticDir);
  return cfg;
}
