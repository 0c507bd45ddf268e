// Telemetry beacons: every node publishes a small signed summary of itself on the network's
// telemetry topic every few seconds, so dashboards (and the relay's /api/network) see the whole
// network, not only direct peers. Pure: no DOM, Dexie or libp2p.
//
// Wire format: UTF-8 JSON, exactly as encodeBeacon writes it (fixed key order, no spaces), at
// most MAX_BEACON_BYTES:
//   {"v":1,"network":<16 hex>,"author":<64 hex>,"role":"full"|"light","version":<string>,
//    "peers":<int>,"entries":<int>,"headsRoot":<64 hex>,"lagEntries":<int|null>,
//    "lagMs":<int|null>,"storageUsed":<int|null>,"storageQuota":<int|null>,"time":<ms>,
//    "sig":<128 hex>}
// The signature is Ed25519 by `author` over BEACON_SIGNING_TAG || network id (32 bytes) || the
// same JSON without the "sig" member. Any other spelling of the same values is rejected
// (MalformedBeaconError), so one beacon has exactly one encoding.
import { fromHex, concatBytes, toHex } from './bytes.js';
import { sign, verify } from './ed25519.js';
import { LedgerError } from './errors.js';
import { shortNetworkId } from './topics.js';

/** Largest accepted encoded beacon, bytes. A real beacon is 440–500 bytes. */
export const MAX_BEACON_BYTES = 1024;
/** Domain separation of beacon signatures from entry signatures. */
export const BEACON_SIGNING_TAG = 'tabula/beacon/v1\u0000';
/** Beacon format version. */
export const BEACON_FORMAT_V1 = 1;
/** How far a beacon's time may be ahead of the receiver's clock, ms. */
export const BEACON_MAX_FUTURE_MS = 60_000;
/** Longest accepted version string. */
export const MAX_BEACON_VERSION_CHARS = 32;

export type BeaconRole = 'full' | 'light';

/** What a node says about itself. Counts are integers; null means unknown or not measured yet. */
export interface BeaconBody {
  /** Author (Ed25519 public key) of the node, 64 lowercase hex; its PeerId derives from it. */
  author: string;
  role: BeaconRole;
  /** Software version (package.json), at most MAX_BEACON_VERSION_CHARS of [0-9A-Za-z.+-]. */
  version: string;
  /** Open connections to other nodes (relays excluded). */
  peers: number;
  /** Entries held (sum of feed head seqs). */
  entries: number;
  /** headsRoot() of the node's feed heads, 64 hex. */
  headsRoot: string;
  /** Entries behind the best heads the node knows of; null until replication reports it. */
  lagEntries: number | null;
  /** Milliseconds behind; null until replication reports it. */
  lagMs: number | null;
  /** navigator.storage.estimate() usage and quota, bytes; null where unknown. */
  storageUsed: number | null;
  storageQuota: number | null;
  /** Sender's wall clock when signed, ms since the Unix epoch. */
  time: number;
}

export interface Beacon extends BeaconBody {
  v: typeof BEACON_FORMAT_V1;
  /** First 8 bytes of the network id, 16 hex. */
  network: string;
  /** Ed25519 signature, 128 hex. */
  sig: string;
}

/** Base of the beacon errors; match by `name`. */
export class BeaconError extends LedgerError {}

/** The encoded beacon is larger than MAX_BEACON_BYTES. */
export class OversizedBeaconError extends BeaconError {
  constructor(size: number) {
    super('OversizedBeaconError', 'oversized-beacon', `beacon of ${size} bytes exceeds ${MAX_BEACON_BYTES}`);
  }
}

/** Not the canonical JSON of a beacon (syntax, field types, ranges, order, extra members). */
export class MalformedBeaconError extends BeaconError {
  constructor(message: string) {
    super('MalformedBeaconError', 'malformed-beacon', message);
  }
}

/** The beacon was made for another network. */
export class BeaconNetworkError extends BeaconError {
  constructor() {
    super('BeaconNetworkError', 'beacon-wrong-network', 'beacon belongs to another network');
  }
}

/** The signature does not verify for the beacon's author and our network. */
export class BeaconSignatureError extends BeaconError {
  constructor() {
    super('BeaconSignatureError', 'beacon-bad-signature', 'beacon signature does not verify');
  }
}

/** The beacon's time is too far ahead of our clock. */
export class FutureBeaconError extends BeaconError {
  constructor(aheadMs: number) {
    super('FutureBeaconError', 'beacon-from-future', `beacon is ${aheadMs} ms ahead of this clock`);
  }
}

const HEX64 = /^[0-9a-f]{64}$/;
const HEX128 = /^[0-9a-f]{128}$/;
const VERSION = /^[0-9A-Za-z.+-]{1,32}$/;
const encoder = new TextEncoder();

/** The JSON without "sig": the signed part, and the prefix of the wire encoding. */
function unsignedJson(network: string, b: BeaconBody): string {
  return JSON.stringify({
    v: BEACON_FORMAT_V1,
    network,
    author: b.author,
    role: b.role,
    version: b.version,
    peers: b.peers,
    entries: b.entries,
    headsRoot: b.headsRoot,
    lagEntries: b.lagEntries,
    lagMs: b.lagMs,
    storageUsed: b.storageUsed,
    storageQuota: b.storageQuota,
    time: b.time
  });
}

function signingBytes(networkIdHex: string, unsigned: string): Uint8Array {
  return concatBytes(encoder.encode(BEACON_SIGNING_TAG), fromHex(networkIdHex), encoder.encode(unsigned));
}

function wire(unsigned: string, sigHex: string): string {
  return `${unsigned.slice(0, -1)},"sig":"${sigHex}"}`;
}

const isCount = (v: unknown): v is number => Number.isSafeInteger(v) && (v as number) >= 0;
const isCountOrNull = (v: unknown): boolean => v === null || isCount(v);

/** Throws MalformedBeaconError unless every field of `b` is in range. */
export function checkBeaconBody(b: BeaconBody): void {
  const bad = (what: string): never => {
    throw new MalformedBeaconError(what);
  };
  if (typeof b.author !== 'string' || !HEX64.test(b.author)) bad('author must be 64 lowercase hex characters');
  if (b.role !== 'full' && b.role !== 'light') bad('role must be "full" or "light"');
  if (typeof b.version !== 'string' || !VERSION.test(b.version)) bad('version must be 1-32 of [0-9A-Za-z.+-]');
  if (!isCount(b.peers) || b.peers > 65_535) bad('peers must be an integer 0..65535');
  if (!isCount(b.entries)) bad('entries must be a non-negative safe integer');
  if (typeof b.headsRoot !== 'string' || !HEX64.test(b.headsRoot)) bad('headsRoot must be 64 lowercase hex');
  for (const k of ['lagEntries', 'lagMs', 'storageUsed', 'storageQuota'] as const) {
    if (!isCountOrNull(b[k])) bad(`${k} must be a non-negative safe integer or null`);
  }
  if (!isCount(b.time) || b.time === 0) bad('time must be a positive safe integer (ms)');
}

/**
 * Signs `body` with `seed` (the author's 32-byte Ed25519 seed) for the network `networkIdHex`
 * (64 hex) and returns the wire bytes. Throws MalformedBeaconError for an out-of-range field and
 * OversizedBeaconError if the result would exceed MAX_BEACON_BYTES.
 */
export async function encodeBeacon(body: BeaconBody, seed: Uint8Array, networkIdHex: string): Promise<Uint8Array> {
  checkBeaconBody(body);
  const unsigned = unsignedJson(shortNetworkId(networkIdHex), body);
  const sig = await sign(seed, signingBytes(networkIdHex, unsigned));
  const bytes = encoder.encode(wire(unsigned, toHex(sig)));
  if (bytes.length > MAX_BEACON_BYTES) throw new OversizedBeaconError(bytes.length);
  return bytes;
}

/** Parses the wire bytes without checking the signature. Throws Oversized/MalformedBeaconError. */
export function decodeBeacon(bytes: Uint8Array): Beacon {
  if (bytes.length > MAX_BEACON_BYTES) throw new OversizedBeaconError(bytes.length);
  let text: string;
  let raw: unknown;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
    raw = JSON.parse(text);
  } catch {
    throw new MalformedBeaconError('beacon is not UTF-8 JSON');
  }
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) throw new MalformedBeaconError('not an object');
  const o = raw as Record<string, unknown>;
  if (o.v !== BEACON_FORMAT_V1) throw new MalformedBeaconError('unknown beacon version');
  if (typeof o.network !== 'string' || !/^[0-9a-f]{16}$/.test(o.network)) {
    throw new MalformedBeaconError('network must be 16 lowercase hex characters');
  }
  if (typeof o.sig !== 'string' || !HEX128.test(o.sig)) throw new MalformedBeaconError('sig must be 128 hex');
  const beacon = o as unknown as Beacon;
  checkBeaconBody(beacon);
  // One encoding per beacon: key order, spacing, number spelling and extra members all count.
  if (wire(unsignedJson(beacon.network, beacon), beacon.sig) !== text) {
    throw new MalformedBeaconError('beacon is not in canonical form');
  }
  return {
    v: BEACON_FORMAT_V1,
    network: beacon.network,
    author: beacon.author,
    role: beacon.role,
    version: beacon.version,
    peers: beacon.peers,
    entries: beacon.entries,
    headsRoot: beacon.headsRoot,
    lagEntries: beacon.lagEntries,
    lagMs: beacon.lagMs,
    storageUsed: beacon.storageUsed,
    storageQuota: beacon.storageQuota,
    time: beacon.time,
    sig: beacon.sig
  };
}

/**
 * Decodes and verifies a beacon for network `networkIdHex` (64 hex): size, canonical form,
 * network, time not more than BEACON_MAX_FUTURE_MS ahead of `now`, then the signature. Throws
 * OversizedBeaconError, MalformedBeaconError, BeaconNetworkError, FutureBeaconError or
 * BeaconSignatureError (all BeaconError).
 */
export async function verifyBeacon(bytes: Uint8Array, networkIdHex: string, now = Date.now()): Promise<Beacon> {
  const b = decodeBeacon(bytes);
  if (b.network !== shortNetworkId(networkIdHex)) throw new BeaconNetworkError();
  if (b.time > now + BEACON_MAX_FUTURE_MS) throw new FutureBeaconError(b.time - now);
  const ok = await verify(fromHex(b.author), signingBytes(networkIdHex, unsignedJson(b.network, b)), fromHex(b.sig));
  if (!ok) throw new BeaconSignatureError();
  return b;
}
