// The compacted state is bound to what it was made from: its heads, its state digest and a MAC
// keyed by this node's identity seed (v4: over the digest, heads root and time, the unverified
// mark and the light head headers; the digest binds the state; v4 also says that every
// `pruned-headers` row carries its own MAC, sealPrunedHeaders, v3 the same without that promise). Replay checks all of them before
// it trusts the state, plus the state's own structure (every clientID belongs to a covered
// author, and each author's Yjs clock equals the clock of its head entry). A record forged into
// the stored state, a state swapped with another, a deleted heads row, a deleted unverified mark
// or a forged light head header is found on open (CorruptStoreError, or still unverified).
//
// Limit: the key lives in the same store. Whoever can rewrite the store AND read the seed can
// also sign as this node; the seal protects against corruption and against tampering by anything
// that does not hold the identity.
import { hmac } from '@noble/hashes/hmac.js';
import { sha256 as nobleSha256 } from '@noble/hashes/sha2.js';
import type { Compaction } from './storage.js';
import type { HeadHeader } from './snapshot/format.js';
import { concatBytes, toHex } from './bytes.js';
import { sha256 } from './hash.js';
import { headsRoot } from './heads-digest.js';

const KEY_TAG = new TextEncoder().encode('tabula/compaction-seal/v1\u0000');

/** What a v3 or v4 seal binds besides the compaction itself (PROTOCOL.md §10). */
export interface SealBinding {
  /** The state is unverified (meta `unverified-state`: a light bootstrap, or void entries of pruned history). */
  unverified: boolean;
  /** The light head headers as stored (meta `head-headers`); undefined when the store has no such row. */
  headers: readonly HeadHeader[] | undefined;
}

/** The outcome of a seal check: which version holds, and for v3 and v4 the unverified mark it binds. */
export type SealCheck = { version: 1 | 2 } | { version: 3 | 4; unverified: boolean };

/**
 * Hex HMAC-SHA-256 (v4) over the state digest, the heads root, the time, the unverified mark and
 * the hash of the light head headers (headersHash). The state itself is bound through its digest,
 * which replay checks against the loaded state right after the seal, so a 10+ MiB state is not
 * hashed once more for the seal. A compaction without a digest (none is written any more) is
 * sealed over the state's SHA-256 instead (v1, which binds neither the mark nor the headers).
 */
export function sealCompaction(
  c: Omit<Compaction, 'mac'>,
  seed: Uint8Array,
  bound: SealBinding,
  version: 3 | 4 = 4
): string {
  if (typeof c.digest !== 'string') return sealV1(c, seed);
  const tag = version === 4 ? 'v4' : 'v3';
  return sealTagged(seed, c.digest, headsRoot(c.heads), c.at, bound.unverified, headersHash(bound.headers), tag);
}

/** v3 and v4 differ only in their tag (v4: pruned-headers rows are sealed too). */
function sealTagged(
  seed: Uint8Array,
  digest: string,
  root: string,
  at: number,
  unverified: boolean,
  headers: string | null,
  tag: 'v3' | 'v4'
): string {
  return seal(seed, [tag, digest, root, at, unverified, headers]);
}

/**
 * Hex HMAC-SHA-256, under the compaction seal's key, of one `pruned-headers:<author>` row
 * (pruned-headers.ts): JSON ["pruned-headers/v1", author, from, lamport[], clock[], hex of the
 * concatenated hashes or null].
 */
export function sealPrunedHeaders(
  seed: Uint8Array,
  author: string,
  row: { from: number; lamport: readonly number[]; clock: readonly number[]; hashes?: Uint8Array }
): string {
  const hashes = row.hashes === undefined ? null : toHex(row.hashes);
  return seal(seed, ['pruned-headers/v1', author, row.from, row.lamport, row.clock, hashes]);
}

/**
 * Hex SHA-256 of the UTF-8 JSON array of `[author, seq, lamport, clock]` of each light head header
 * (`[author, seq, lamport, clock, top, topHash]` for a void head's header, which names its
 * canonical top), sorted by author then seq; null when there is no header row.
 */
export function headersHash(headers: readonly HeadHeader[] | undefined): string | null {
  if (headers === undefined) return null;
  const rows = headers
    .map((h) =>
      h.top === undefined
        ? [h.author, h.seq, h.lamport, h.clock]
        : [h.author, h.seq, h.lamport, h.clock, h.top, h.topHash ?? null]
    )
    .sort((a, b) => (a[0]! < b[0]! ? -1 : a[0]! > b[0]! ? 1 : (a[1] as number) - (b[1] as number)));
  return toHex(sha256(new TextEncoder().encode(JSON.stringify(rows))));
}

/** The v1 seal: the state's SHA-256, the heads root, the digest and the time (stores sealed before v2). */
function sealV1(c: Omit<Compaction, 'mac'>, seed: Uint8Array): string {
  return seal(seed, [toHex(sha256(c.state)), headsRoot(c.heads), c.digest ?? null, c.at]);
}

function seal(seed: Uint8Array, fields: unknown[]): string {
  const key = sha256(concatBytes(KEY_TAG, seed));
  return toHex(hmac(nobleSha256, key, new TextEncoder().encode(JSON.stringify(fields))));
}

/**
 * Which seal `c` carries for this seed and the stored light head headers: v4 or v3 (with the
 * unverified mark it binds), v2 (digest, heads root, time: stores sealed before v3), v1 (over the
 * state's bytes, stores sealed before v2), or null (none holds). A v2, v3 or v4 seal binds the state
 * only together with replay's digest and canonical-bytes checks (ledger-replay.ts checkCompaction).
 */
export function checkSeal(
  c: Compaction,
  seed: Uint8Array,
  headers: readonly HeadHeader[] | undefined
): SealCheck | null {
  if (typeof c.mac !== 'string') return null;
  if (typeof c.digest === 'string') {
    const root = headsRoot(c.heads);
    const hh = headersHash(headers);
    for (const version of [4, 3] as const)
      for (const unverified of [false, true])
        if (c.mac === sealTagged(seed, c.digest, root, c.at, unverified, hh, version === 4 ? 'v4' : 'v3'))
          return { version, unverified };
    if (c.mac === seal(seed, ['v2', c.digest, root, c.at])) return { version: 2 };
  }
  return c.mac === sealV1(c, seed) ? { version: 1 } : null;
}
