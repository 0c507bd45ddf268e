// `tsx relay/main.ts genesis --name N [--data-dir D] [--max-entry-bytes B] [--operator HEX]...`:
// creates a network (relay/network-genesis.ts). Flags are read with node:util parseArgs.
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { DEFAULT_MAX_ENTRY_BYTES, MAX_MAX_ENTRY_BYTES, MIN_MAX_ENTRY_BYTES } from '../src/lib/core/constants.js';
import { DEFAULTS } from './config.js';
import { createNetwork, type CreatedNetwork } from './network-genesis.js';

export const GENESIS_COMMAND = 'genesis';

export const GENESIS_USAGE = `Usage: tsx relay/main.ts genesis --name NAME [options]
Creates a network: <data-dir>/genesis.json (served at /api/genesis), signed by the operator key
<data-dir>/operator.key (created, mode 0600; never served). Refuses a data dir that has a network.
  --name NAME             network name, 1..64 UTF-8 bytes (required)
  --data-dir D            the relay's data directory (TABULA_DATA_DIR, default ${DEFAULTS.dataDir})
  --max-entry-bytes N     largest entry, ${MIN_MAX_ENTRY_BYTES}..${MAX_MAX_ENTRY_BYTES} (default ${DEFAULT_MAX_ENTRY_BYTES})
  --operator HEX          another operator's Ed25519 public key, 64 hex digits (repeatable)
  --created-at T          creation time, ms since the epoch or ISO 8601 (default now)`;

export class GenesisUsageError extends Error {
  override name = 'GenesisUsageError';
}

const HEX64 = /^[0-9a-fA-F]{64}$/;

function integer(raw: string | undefined, flag: string, fallback: number): number {
  if (raw === undefined) return fallback;
  const n = raw.trim() === '' ? NaN : Number(raw);
  if (!Number.isSafeInteger(n) || n < 0) throw new GenesisUsageError(`${flag}: expected an integer, got "${raw}"`);
  return n;
}

function time(raw: string | undefined, now: number): number {
  if (raw === undefined) return now;
  if (/^\d+$/.test(raw)) return integer(raw, '--created-at', now);
  const t = Date.parse(raw);
  if (Number.isNaN(t) || t < 0) throw new GenesisUsageError(`--created-at: not a time: "${raw}"`);
  return t;
}

function parse(argv: string[]) {
  try {
    return parseArgs({
      args: argv,
      strict: true,
      allowPositionals: false,
      options: {
        name: { type: 'string' },
        'data-dir': { type: 'string' },
        'max-entry-bytes': { type: 'string' },
        operator: { type: 'string', multiple: true },
        'created-at': { type: 'string' }
      }
    }).values;
  } catch (err) {
    throw new GenesisUsageError((err as Error).message);
  }
}

/**
 * Runs `genesis` with the flags after the command word. Throws GenesisUsageError on bad flags,
 * NetworkExistsError when the data directory has a network, InvalidGenesisError for parameters
 * the core refuses (name length, entry size range).
 */
export async function runGenesisCommand(
  argv: string[],
  env: Record<string, string | undefined>,
  now = Date.now()
): Promise<CreatedNetwork> {
  const v = parse(argv);
  if (v.name === undefined) throw new GenesisUsageError('--name is required');
  const operators = v.operator ?? [];
  for (const op of operators)
    if (!HEX64.test(op)) throw new GenesisUsageError(`--operator: expected 64 hex digits, got "${op}"`);
  return createNetwork({
    dataDir: resolve(v['data-dir'] ?? env.TABULA_DATA_DIR ?? DEFAULTS.dataDir),
    name: v.name,
    maxEntryBytes: integer(v['max-entry-bytes'], '--max-entry-bytes', DEFAULT_MAX_ENTRY_BYTES),
    operators,
    createdAt: time(v['created-at'], now)
  });
}

/** What the command prints: the network id, the files, and how to open the app on it. */
export function describeCreated(c: CreatedNetwork): string {
  const g = c.signed.genesis;
  return [
    `Created network "${g.name}"`,
    `  network id       ${c.signed.networkId}`,
    `  max entry bytes  ${g.maxEntryBytes}`,
    `  operators        ${g.operators.join('\n                   ')}`,
    `  genesis          ${c.genesisFile} (served at /api/genesis; copy it to every relay of the network)`,
    `  operator key     ${c.operatorKeyFile} (private, mode 0600: back it up, never copy it to a server that does not need it)`,
    `Start the relay with the same --data-dir, and open the app at http://<relay>/?network=${c.signed.networkId}`,
    `(or build the app with VITE_TABULA_NETWORK=${c.signed.networkId}).`
  ].join('\n');
}
