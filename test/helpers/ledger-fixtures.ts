// Fixtures for core ledger tests: deterministic keys, Yjs payloads, signed chains.
import * as Y from 'yjs';
import * as encoding from 'lib0/encoding';
import { createEntry } from '../../src/lib/core/entry.js';
import { clientIdOf } from '../../src/lib/core/state/client-id.js';
import { toHex } from '../../src/lib/core/bytes.js';
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

/**
 * A Yjs v1 update that sets records[key] = value as a first write of the key (no origin) by
 * `client` at `clock`: what the author's own document would produce for a new key.
 */
export function yUpdateAt(key: string, value: unknown, client: number, clock: number): Uint8Array {
  const enc = encoding.createEncoder();
  encoding.writeVarUint(enc, 1); // one client
  encoding.writeVarUint(enc, 1); // one struct
  encoding.writeVarUint(enc, client);
  encoding.writeVarUint(enc, clock);
  encoding.writeUint8(enc, 0x28); // ContentAny with a parentSub (map key)
  encoding.writeVarUint(enc, 1); // parent is a root type, by name
  encoding.writeVarString(enc, 'records');
  encoding.writeVarString(enc, key);
  encoding.writeVarUint(enc, 1); // one value
  encoding.writeAny(enc, value as never);
  encoding.writeVarUint(enc, 0); // empty delete set
  return encoding.toUint8Array(enc);
}

/**
 * A Yjs v1 update with one ContentAny item of `client` at `clock` whose left origin is `origin`
 * (parent inferred from the origin): an item anchored anywhere, e.g. inside a void clock space.
 */
export function yItemAnchoredAt(
  client: number,
  clock: number,
  origin: { client: number; clock: number },
  value: unknown
): Uint8Array {
  const enc = encoding.createEncoder();
  encoding.writeVarUint(enc, 1); // one client
  encoding.writeVarUint(enc, 1); // one struct
  encoding.writeVarUint(enc, client);
  encoding.writeVarUint(enc, clock);
  encoding.writeUint8(enc, 0x88); // origin present, ContentAny
  encoding.writeVarUint(enc, origin.client);
  encoding.writeVarUint(enc, origin.clock);
  encoding.writeVarUint(enc, 1); // one value
  encoding.writeAny(enc, value as never);
  encoding.writeVarUint(enc, 0); // empty delete set
  return encoding.toUint8Array(enc);
}

/** `n` chained entries starting after `after` (or at seq 1), valid under the causal rules. */
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
  let clock = after?.entry.clock ?? 0;
  let lamport = after?.entry.lamport ?? 0;
  const client = clientIdOf(toHex(keys.publicKey));
  for (let i = 0; i < n; i++, seq++) {
    const payload = yUpdateAt(`k${seq}`, `${tag}${seq}`, client, clock);
    clock += 1;
    lamport += 1;
    const time = 1_700_000_000_000 + seq;
    const h = await createEntry({ keys, seq, prev, lamport, time, clock, payload }, networkId);
    out.push(h);
    prev = h.hash;
  }
  return out;
}

/**
 * `n` junk authors (key bytes firstByte, firstByte + 1, ...), each with J#1 and a causal refusal
 * J#2 (deps [dep], a lamport 5 above what the rules expect, dep.seq + 1, for a chain like
 * makeChain's whose lamport is its seq): refused until dep is void. Flat: J_0#1, J_0#2, J_1#1, ...
 */
export async function causalRefusals(
  n: number,
  dep: { author: string; seq: number },
  networkId: Uint8Array,
  firstByte = 10
): Promise<HashedEntry[]> {
  const out: HashedEntry[] = [];
  for (let i = 0; i < n; i++) {
    const J = await keysFromByte(firstByte + i);
    const [j1] = await makeChain(J, 1, networkId);
    const j2 = await createEntry(
      {
        keys: J,
        seq: 2,
        prev: j1.hash,
        lamport: dep.seq + 1 + 5,
        time: j1.entry.time + 1,
        clock: 2,
        payload: yUpdateAt('x', 1, clientIdOf(toHex(J.publicKey)), 1),
        deps: [dep]
      },
      networkId
    );
    out.push(j1, j2);
  }
  return out;
}

/** A delete-only Yjs update: removes client's clocks [clock, clock + len). */
export function deleteOnly(client: number, clock: number, len: number): Uint8Array {
  const enc = encoding.createEncoder();
  encoding.writeVarUint(enc, 0); // no structs
  encoding.writeVarUint(enc, 1); // one client in the delete set
  encoding.writeVarUint(enc, client);
  encoding.writeVarUint(enc, 1);
  encoding.writeVarUint(enc, clock);
  encoding.writeVarUint(enc, len);
  return encoding.toUint8Array(enc);
}
