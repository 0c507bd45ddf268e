// Entries of the two kinds of void feed (void.ts) and an honest feed, written by real ledgers:
// what the snapshot and join tests of void feeds start from.
import { toHex } from '../../src/lib/core/bytes.js';
import { networkId } from '../../src/lib/core/genesis.js';
import { clientIdOf, overrideClientIds } from '../../src/lib/core/state/client-id.js';
import type { HashedEntry } from '../../src/lib/core/types.js';
import { keysFromByte, makeChain } from './ledger-fixtures.js';
import { genesis, memoryLocation, openLedger, type TestLedger } from './ledger-nodes.js';

/** A closed ledger (key byte `byte`, memory disk, no compaction) that put k<tag>1..n = <tag>1..n. */
export async function writer(byte: number, tag: string, n: number): Promise<TestLedger> {
  const l = await openLedger(memoryLocation(), byte, { compactEvery: 0 });
  for (let i = 1; i <= n; i++) await l.ledger.put(`k${tag}${i}`, `${tag}${i}`);
  await l.ledger.close();
  return l;
}

export interface VoidFeeds {
  /** F (key byte base): 3 entries, then a second variant of seq 2 (tag 'alt'): void from 2. */
  forked: HashedEntry[];
  /** A (base + 1) then B (base + 2), 2 entries each; B's clientID is made A's: both void from 1. */
  colliding: HashedEntry[];
  /** H (base + 3): 2 entries. */
  honest: HashedEntry[];
  /** Public keys (hex) of F, A and H. */
  authors: { F: string; A: string; H: string };
  /** Ends the clientID override (call in afterAll). */
  restore: () => void;
}

/** Writes the feeds of VoidFeeds with key bytes base..base + 3; overrides B's clientID until restore(). */
export async function voidFeeds(base: number): Promise<VoidFeeds> {
  const [ka, kb] = await Promise.all([keysFromByte(base + 1), keysFromByte(base + 2)]);
  const ca = clientIdOf(toHex(ka.publicKey));
  const b = toHex(kb.publicKey);
  const restore = overrideClientIds((author, real) => (author === b ? ca : real));
  const f = await writer(base, 'f', 3);
  const [alt] = await makeChain(f.keys, 1, networkId(genesis), f.log[0], 'alt');
  const colliding = [...(await writer(base + 1, 'a', 2)).log, ...(await writer(base + 2, 'b', 2)).log];
  const h = await writer(base + 3, 'h', 2);
  const [F, A, H] = [f.keys, ka, h.keys].map((k) => toHex(k.publicKey));
  return { forked: [...f.log, alt], colliding, honest: h.log, authors: { F, A, H }, restore };
}
