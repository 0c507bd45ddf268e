// Entries this process already verified (network, signature, payload), so an entry is verified
// once even when two paths check it: gossip verifies an entry before forwarding it, then hands it
// to Ledger.ingest, which verifies what it is given; sync often brings an entry gossip checked.
// Before, every gossiped entry cost two Ed25519 verifications.
//
// Sound because the key is the entry's SHA-256 hash computed here from its canonical encoding
// (decodeEntry), with the network id: equal keys mean equal bytes, so equal verdicts. Only full
// verifications with the default payload check are remembered. Bounded: the oldest key goes first.
import type { Genesis, HashedEntry } from './types.js';
import { toHex } from './bytes.js';
import { verifyEntry } from './entry.js';
import { VERIFIED_ENTRIES_REMEMBERED } from './constants.js';

/** A bounded set of verified (network, entry hash) keys, oldest evicted first. */
export class VerifiedEntries {
  private readonly keys = new Set<string>(); // insertion order = age

  constructor(private readonly max = VERIFIED_ENTRIES_REMEMBERED) {}

  private static key(networkIdHex: string, hash: Uint8Array): string {
    return `${networkIdHex}:${toHex(hash)}`;
  }

  has(networkIdHex: string, hash: Uint8Array): boolean {
    return this.keys.has(VerifiedEntries.key(networkIdHex, hash));
  }

  add(networkIdHex: string, hash: Uint8Array): void {
    if (this.max < 1) return;
    const k = VerifiedEntries.key(networkIdHex, hash);
    this.keys.delete(k);
    if (this.keys.size >= this.max) this.keys.delete(this.keys.values().next().value!);
    this.keys.add(k);
  }

  get size(): number {
    return this.keys.size;
  }

  clear(): void {
    this.keys.clear();
  }
}

/** The process's verified entries (shared by gossip and ingest). */
export const verifiedEntries = new VerifiedEntries();

/**
 * verifyEntry for an entry decoded here, skipped when this process already verified the same
 * bytes on the same network. `h.hash` must be the hash decodeEntry computed from the bytes (never
 * a hash a peer claimed). Throws what verifyEntry throws; remembers only a success.
 */
export async function verifyHashed(
  h: HashedEntry,
  networkId: Uint8Array,
  genesis: Genesis,
  cache: VerifiedEntries = verifiedEntries
): Promise<void> {
  const net = toHex(networkId);
  if (cache.has(net, h.hash)) return;
  await verifyEntry(h.entry, networkId, genesis);
  cache.add(net, h.hash);
}
