// The network a relay serves: `<data-dir>/genesis.json` (a signed genesis document, created by
// `relay genesis`), or the bundled network when there is none. The operator's private key is
// `<data-dir>/operator.key` (32-byte Ed25519 seed, mode 0600); it is never served.
import { chmod, mkdir, readFile, rename, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { toHex } from '../src/lib/core/bytes.js';
import { generateKeys, publicKeyFromSeed } from '../src/lib/core/ed25519.js';
import {
  createSignedGenesis,
  decodeGenesisDocument,
  defaultSignedGenesis,
  genesisDocument,
  type SignedGenesis
} from '../src/lib/core/genesis-document.js';
import { GENESIS_FORMAT_V1, MAX_GENESIS_DOCUMENT_BYTES } from '../src/lib/core/constants.js';
import { ARCHIVE_DB_FILE } from './archive/constants.js';

export const GENESIS_FILE = 'genesis.json';
export const OPERATOR_KEY_FILE = 'operator.key';
const SEED_BYTES = 32;

/** The data directory's genesis.json is unreadable, too large or fails verification. */
export class NetworkGenesisError extends Error {
  override name = 'NetworkGenesisError';
}

/** `relay genesis` would overwrite a network (or orphan an archive of another one). */
export class NetworkExistsError extends Error {
  override name = 'NetworkExistsError';
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw err;
  }
}

/** Write then rename: a crash never leaves a truncated file behind. */
async function writeAtomic(path: string, data: string | Uint8Array, mode: number): Promise<void> {
  const tmp = `${path}.tmp-${process.pid}`;
  await writeFile(tmp, data, { mode });
  await chmod(tmp, mode);
  await rename(tmp, path);
}

/**
 * The network of `dataDir`: its verified genesis.json, else the bundled network. Throws
 * NetworkGenesisError (with the path) for a file that is too large or does not verify.
 */
export async function loadNetworkGenesis(dataDir: string): Promise<SignedGenesis> {
  const path = join(dataDir, GENESIS_FILE);
  let bytes: Buffer;
  try {
    bytes = await readFile(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return defaultSignedGenesis();
    throw err;
  }
  try {
    return await decodeGenesisDocument(new Uint8Array(bytes), MAX_GENESIS_DOCUMENT_BYTES);
  } catch (err) {
    throw new NetworkGenesisError(`${path}: ${(err as Error).name}: ${(err as Error).message}`);
  }
}

/** The operator seed of `dataDir`, created (mode 0600) on first use. */
async function loadOrCreateOperatorSeed(dataDir: string): Promise<Uint8Array> {
  const path = join(dataDir, OPERATOR_KEY_FILE);
  if (await exists(path)) {
    const seed = new Uint8Array(await readFile(path));
    if (seed.length !== SEED_BYTES) throw new NetworkGenesisError(`${path}: expected a ${SEED_BYTES}-byte key`);
    return seed;
  }
  const { seed } = await generateKeys();
  await writeAtomic(path, seed, 0o600);
  return seed;
}

export interface CreateNetworkOptions {
  dataDir: string;
  /** 1..64 UTF-8 bytes. */
  name: string;
  /** Largest accepted encoded entry, bytes. */
  maxEntryBytes: number;
  /** Other operators' Ed25519 public keys (64 hex); the data directory's own key is always one. */
  operators: string[];
  /** ms since the epoch. */
  createdAt: number;
}

export interface CreatedNetwork {
  signed: SignedGenesis;
  /** This data directory's operator public key (hex), the genesis signer. */
  operator: string;
  genesisFile: string;
  operatorKeyFile: string;
}

/**
 * Creates the network of `dataDir`: reuses or creates operator.key, builds the genesis (the own
 * key plus `operators`), signs it and writes genesis.json. Throws NetworkExistsError when the
 * directory already has a genesis.json or an archive (of the bundled network), and the core's
 * InvalidGenesisError for bad parameters.
 */
export async function createNetwork(opts: CreateNetworkOptions): Promise<CreatedNetwork> {
  const genesisFile = join(opts.dataDir, GENESIS_FILE);
  if (await exists(genesisFile))
    throw new NetworkExistsError(`${genesisFile} exists: this data directory already has a network`);
  if (await exists(join(opts.dataDir, ARCHIVE_DB_FILE)))
    throw new NetworkExistsError(`${opts.dataDir} holds an archive of another network; use a new data directory`);
  await mkdir(opts.dataDir, { recursive: true });
  const seed = await loadOrCreateOperatorSeed(opts.dataDir);
  const operator = toHex(await publicKeyFromSeed(seed));
  const operators = [...new Set([operator, ...opts.operators.map((k) => k.toLowerCase())])];
  const signed = await createSignedGenesis(
    { v: GENESIS_FORMAT_V1, name: opts.name, createdAt: opts.createdAt, maxEntryBytes: opts.maxEntryBytes, operators },
    [seed]
  );
  await writeAtomic(genesisFile, `${JSON.stringify(genesisDocument(signed), null, 2)}\n`, 0o644);
  return { signed, operator, genesisFile, operatorKeyFile: join(opts.dataDir, OPERATOR_KEY_FILE) };
}
