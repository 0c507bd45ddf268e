// Fixtures for core ledger tests: deterministic keys, Yjs payloads, signed chains.
import * as Y from 'yjs';
import { createEntry } from '../../src/lib/core/entry.js';
import { publicKeyFromSeed } from '../../src/lib/core/ed25519.js';
import type { HashedEntry, IdentityKeys } from '../../src/lib/core/types.js';

export async function keysFromByte(b: number): Promise<IdentityKeys> {
  const seed = new Uint8Array(32).fill(b);
  return { seed, publicKey: await publicKeyFromSeed(seed) };
}

/** A real Yjs v1 update setting records[key] = value; fixed client id, so deterministic. */
export function yUpdate(key: string, value: unknown, clientID = 1): Uint8Array {
  const doc = new Y.Doc();
  doc.clientID = clientID;
  doc.getMap('records').set(key, value);
  return Y.encodeStateAsUpdate(doc);
}

/** `n` chained entries starting after `after` (or at seq 1). */
export async function makeChain(
  keys: IdentityKeys,
  n: number,
  networkId: Uint8Array,
  after?: HashedEntry,
  tag = 'v'
): Promise<HashedEntry[]> {
  const out: HashedEntry[] = [];
  let prev = after?.hash ?? new Uint8Array(32);
  let seq = after ? after.entry.seq + 1 : 1;
  for (let i = 0; i < n; i++, seq++) {
    const h = await createEntry(
      { keys, seq, prev, lamport: seq, time: 1_700_000_000_000 + seq, payload: yUpdate(`k${seq}`, `${tag}${seq}`) },
      networkId
    );
    out.push(h);
    prev = h.hash;
  }
  return out;
}
