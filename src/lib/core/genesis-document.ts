// Signed genesis: the genesis encoding plus its operators' Ed25519 signatures, and the JSON
// document a relay serves at /api/genesis (PROTOCOL.md §2.4). The network id stays SHA-256 of
// the genesis encoding alone (§2.2): signatures prove who founded the network, they do not name it.
import type { Genesis } from './types.js';
import { GenesisMismatchError, GenesisSignatureError, InvalidGenesisError, InvalidNetworkIdError } from './errors.js';
import { bytesEqual, concatBytes, fromHex, toHex } from './bytes.js';
import { sha256 } from './hash.js';
import { publicKeyFromSeed, sign, verify } from './ed25519.js';
import { decodeGenesis, defaultGenesis, encodeGenesis } from './genesis.js';
import { fromBase64, toBase64 } from './snapshot/base64.js';
import {
  GENESIS_DOCUMENT_FORMAT,
  GENESIS_SIGNING_TAG,
  MAX_GENESIS_BYTES,
  MAX_GENESIS_DOCUMENT_BYTES,
  MAX_GENESIS_OPERATORS
} from './constants.js';

const utf8 = new TextEncoder();
const HEX64 = /^[0-9a-f]{64}$/;
const HEX128 = /^[0-9a-f]{128}$/;

/** One operator's signature: `key` (32-byte public key) and `sig` (64 bytes), lowercase hex. */
export interface GenesisSignature {
  key: string;
  sig: string;
}

/** A verified genesis with its canonical bytes, network id (hex) and signatures (sorted by key). */
export interface SignedGenesis {
  genesis: Genesis;
  bytes: Uint8Array;
  networkId: string;
  signatures: GenesisSignature[];
}

/** The JSON served at /api/genesis and kept in a relay's data directory as genesis.json. */
export interface GenesisDocument {
  format: typeof GENESIS_DOCUMENT_FORMAT;
  v: 1;
  /** Hex SHA-256 of the genesis encoding. */
  networkId: string;
  /** For people; `genesisBytes` is authoritative and must say the same. */
  genesis: Genesis;
  /** Base64 of the canonical genesis encoding (§2.1). */
  genesisBytes: string;
  signatures: GenesisSignature[];
}

/** What an operator signs: the domain tag, then the genesis encoding. */
export function genesisSigningBytes(genesisBytes: Uint8Array): Uint8Array {
  return concatBytes(utf8.encode(GENESIS_SIGNING_TAG), genesisBytes);
}

/**
 * Builds the genesis and signs it with each 32-byte seed. Throws InvalidGenesisError for a bad
 * genesis, GenesisSignatureError when a seed's public key is not among `g.operators` or when
 * operators are listed but no seed is given.
 */
export async function createSignedGenesis(g: Genesis, seeds: Uint8Array[]): Promise<SignedGenesis> {
  const bytes = encodeGenesis(g);
  const msg = genesisSigningBytes(bytes);
  const signatures: GenesisSignature[] = [];
  for (const seed of seeds) {
    const key = toHex(await publicKeyFromSeed(seed));
    if (!g.operators.includes(key)) throw new GenesisSignatureError(`signing key ${key} is not a genesis operator`);
    signatures.push({ key, sig: toHex(await sign(seed, msg)) });
  }
  return verifySignedGenesis(bytes, signatures);
}

function checkSignatureShape(s: GenesisSignature, operators: Set<string>, seen: Set<string>): void {
  if (s === null || typeof s !== 'object' || typeof s.key !== 'string' || typeof s.sig !== 'string')
    throw new GenesisSignatureError('signature must be { key, sig }');
  if (!HEX64.test(s.key) || !HEX128.test(s.sig))
    throw new GenesisSignatureError('signature key/sig must be 64/128 lowercase hex characters');
  if (!operators.has(s.key)) throw new GenesisSignatureError(`signer ${s.key} is not a genesis operator`);
  if (seen.has(s.key)) throw new GenesisSignatureError(`two signatures by ${s.key}`);
  seen.add(s.key);
}

/**
 * Decodes `bytes` (canonical, ≤ MAX_GENESIS_BYTES) and checks the signatures: a genesis with
 * operators needs at least one, each by a distinct listed operator and valid; a genesis without
 * operators (the bundled network) carries none. Throws InvalidGenesisError or GenesisSignatureError.
 */
export async function verifySignedGenesis(bytes: Uint8Array, signatures: GenesisSignature[]): Promise<SignedGenesis> {
  const genesis = decodeGenesis(bytes);
  if (!Array.isArray(signatures)) throw new GenesisSignatureError('signatures must be an array');
  if (signatures.length > MAX_GENESIS_OPERATORS) throw new GenesisSignatureError('too many signatures');
  const operators = new Set(genesis.operators);
  if (operators.size === 0 && signatures.length > 0)
    throw new GenesisSignatureError('a genesis without operators carries no signatures');
  if (operators.size > 0 && signatures.length === 0)
    throw new GenesisSignatureError('a genesis with operators must be signed by one of them');
  const seen = new Set<string>();
  for (const s of signatures) checkSignatureShape(s, operators, seen);
  const msg = genesisSigningBytes(bytes);
  for (const s of signatures) {
    if (!(await verify(fromHex(s.key), msg, fromHex(s.sig))))
      throw new GenesisSignatureError(`signature by ${s.key} does not verify`);
  }
  const sorted = [...signatures].map((s) => ({ key: s.key, sig: s.sig })).sort((a, b) => (a.key < b.key ? -1 : 1));
  return { genesis, bytes, networkId: toHex(sha256(bytes)), signatures: sorted };
}

/** The bundled network as a SignedGenesis (no operators, no signatures). */
export function defaultSignedGenesis(): SignedGenesis {
  const genesis = defaultGenesis();
  const bytes = encodeGenesis(genesis);
  return { genesis, bytes, networkId: toHex(sha256(bytes)), signatures: [] };
}

/** The document (object) for `s`; JSON.stringify it to serve or store it. */
export function genesisDocument(s: SignedGenesis): GenesisDocument {
  return {
    format: GENESIS_DOCUMENT_FORMAT,
    v: 1,
    networkId: s.networkId,
    genesis: { ...s.genesis, operators: [...s.genesis.operators].sort() },
    genesisBytes: toBase64(s.bytes),
    signatures: s.signatures
  };
}

function field(o: Record<string, unknown>, name: string): unknown {
  if (!(name in o)) throw new InvalidGenesisError(`genesis document lacks "${name}"`);
  return o[name];
}

function parseJson(input: string | Uint8Array, maxBytes: number): Record<string, unknown> {
  const size = typeof input === 'string' ? utf8.encode(input).length : input.length;
  if (size > maxBytes) throw new InvalidGenesisError(`genesis document larger than ${maxBytes} bytes`);
  const text = typeof input === 'string' ? input : new TextDecoder('utf-8', { fatal: false }).decode(input);
  let o: unknown;
  try {
    o = JSON.parse(text);
  } catch {
    throw new InvalidGenesisError('genesis document is not JSON');
  }
  if (o === null || typeof o !== 'object' || Array.isArray(o))
    throw new InvalidGenesisError('genesis document must be a JSON object');
  return o as Record<string, unknown>;
}

/** Throws InvalidGenesisError unless the JSON `genesis` encodes to exactly `bytes`. */
function checkJsonMatchesBytes(json: unknown, bytes: Uint8Array): void {
  let same = false;
  try {
    same = bytesEqual(encodeGenesis(json as Genesis), bytes);
  } catch (e) {
    throw new InvalidGenesisError(`genesis JSON: ${(e as Error).message}`);
  }
  if (!same) throw new InvalidGenesisError('genesis JSON differs from genesisBytes');
}

/**
 * Parses and verifies a genesis document (text or UTF-8 bytes). Refuses more than `maxBytes`
 * before parsing; then checks format, version, canonical genesis bytes, that the JSON genesis
 * and `networkId` agree with them, and every signature. Throws InvalidGenesisError or
 * GenesisSignatureError.
 */
export async function decodeGenesisDocument(
  input: string | Uint8Array,
  maxBytes = MAX_GENESIS_DOCUMENT_BYTES
): Promise<SignedGenesis> {
  const o = parseJson(input, maxBytes);
  if (field(o, 'format') !== GENESIS_DOCUMENT_FORMAT) throw new InvalidGenesisError('not a tabula-genesis document');
  if (field(o, 'v') !== 1) throw new InvalidGenesisError(`unsupported genesis document version ${String(o.v)}`);
  const b64 = field(o, 'genesisBytes');
  if (typeof b64 !== 'string' || b64.length > Math.ceil(MAX_GENESIS_BYTES / 3) * 4)
    throw new InvalidGenesisError('genesisBytes must be base64 of at most 4096 bytes');
  let bytes: Uint8Array;
  try {
    bytes = fromBase64(b64, 'genesisBytes');
  } catch (e) {
    throw new InvalidGenesisError((e as Error).message);
  }
  const signed = await verifySignedGenesis(bytes, field(o, 'signatures') as GenesisSignature[]);
  checkJsonMatchesBytes(field(o, 'genesis'), bytes);
  if (field(o, 'networkId') !== signed.networkId)
    throw new InvalidGenesisError('networkId is not the SHA-256 of genesisBytes');
  return signed;
}

/** Lowercases and checks a network id given by a person or a build; throws InvalidNetworkIdError. */
export function parseNetworkId(raw: string): string {
  const id = typeof raw === 'string' ? raw.trim().toLowerCase() : '';
  if (!HEX64.test(id)) throw new InvalidNetworkIdError(`network id must be 64 hex digits, got "${String(raw)}"`);
  return id;
}

/** Throws GenesisMismatchError unless `s` is the network `expectedId` (hex); `source` says who served it. */
export function checkGenesisIs(s: SignedGenesis, expectedId: string, source = 'the site'): void {
  if (s.networkId === expectedId) return;
  throw new GenesisMismatchError(
    `${source} serves network "${s.genesis.name}" (${s.networkId}), ` +
      `but this node was opened for network ${expectedId}; refusing to join it`
  );
}
