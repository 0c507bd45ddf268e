// Red team 6b (join body format 2, PROTOCOL.md §13.4/§6.1.3): a void feed's head entry in the join
// body is "its last canonical entry (seq s - 1)", and the joiner takes that entry's lamport as the
// void feed's light header (join/verify.ts feedsOf), which bounds every later dependency on the
// feed (causal.ts: ceiling = L + (dep seq - s + 1) + 2^32). But nothing binds WHICH entry at
// s - 1: the heads root holds only the void head (author, s), the state ends in the placeholder
// for that client, and `entries` counts s - 1. Hostile X (the forker) signs a second variant of
// seq s - 1 with a huge lamport and never publishes it; a node X runs votes the honest claim and
// serves the body with that variant. The joiner installs it (quorum-verified) with a causal header
// that no other node has.
//
// Input: X signs 1, 2 (lamport 2) and two variants of seq 3 (void from 3); honest server A holds
//   them and serves a join. The hostile body swaps X#2 for X#2' (prev X#1, lamport 2^40, validly
//   signed). J1 installs A's body, J2 the hostile one; both against A's claim. Then B signs its
//   first entry with deps [X@3] and lamport 2^33 (above A's ceiling 2 + 1 + 2^32, below J2's).
// Expected: verifyJoinSnapshot refuses the swapped body (the entry at s - 1 is bound to the
//   claim), or J1, J2 and A reach the same verdict on B's entry (same records and digest).
// Actual (measured): the swapped body verifies against A's claim; A and J1 refuse B's entry
//   (causality), J2 accepts it: J2's records and digest differ from A's for good, with equal heads.
// Suggested fix: bind the void feed's last canonical entry to the claim: e.g. let the void head's
//   hash (or the heads root record of a void head) include the hash of the entry at s - 1, or put
//   s - 1's hash into the claim; then every node's header for the void feed is the same entry's.
import { describe, expect, it } from 'vitest';
import { toHex } from '../../src/lib/core/bytes.js';
import { createEntry, encodeEntry } from '../../src/lib/core/entry.js';
import { networkId } from '../../src/lib/core/genesis.js';
import { clientIdOf } from '../../src/lib/core/state/client-id.js';
import { decodeJoinSnapshot, encodeJoinSnapshot } from '../../src/lib/core/join/snapshot.js';
import { verifyJoinSnapshot } from '../../src/lib/core/join/verify.js';
import { installJoinSnapshot, ledgerJoinSource } from '../../src/lib/core/join/ledger-source.js';
import type { JoinVerdict } from '../../src/lib/core/join/joiner.js';
import type { HashedEntry, IdentityKeys } from '../../src/lib/core/types.js';
import { keysFromByte, yUpdateAt } from '../helpers/ledger-fixtures.js';
import { genesis, ledgerView, memoryLocation, openLedger } from '../helpers/ledger-nodes.js';

const net = networkId(genesis);
const ctx = { networkId: net, genesis };
const T = 1_700_000_000_000;

async function entry(
  keys: IdentityKeys,
  seq: number,
  prev: HashedEntry | undefined,
  lamport: number,
  clock: number,
  key: string,
  deps: { author: string; seq: number }[] = []
): Promise<HashedEntry> {
  const author = toHex(keys.publicKey);
  const payload = yUpdateAt(key, { v: key, a: author, t: T + seq, l: lamport }, clientIdOf(author), clock - 1);
  const p = prev?.hash ?? new Uint8Array(32);
  return createEntry({ keys, seq, prev: p, lamport, time: T + seq, clock, deps, payload }, net);
}

describe('redteam6b: the void feed head entry in a join body is not bound to the claim', () => {
  it('a body with another signed variant at s - 1 is refused, or gives the same verdicts', async () => {
    const X = await keysFromByte(221);
    const x = toHex(X.publicKey);
    const x1 = await entry(X, 1, undefined, 1, 1, 'x1');
    const x2 = await entry(X, 2, x1, 2, 2, 'x2');
    const x2alt = await entry(X, 2, x1, 2 ** 40, 2, 'x2-hidden');
    const x3a = await entry(X, 3, x2, 3, 3, 'x3a');
    const x3b = await entry(X, 3, x2, 3, 3, 'x3b');
    const H = await openLedger(memoryLocation(), 222, { compactEvery: 0 });
    await H.ledger.put('h1', 1);
    const A = await openLedger(memoryLocation(), 223, { compactEvery: 0 });
    await A.ledger.ingest([x1, x2, x3a, x3b, ...H.log]);
    expect(A.ledger.voidFrom(x)).toBe(3);
    const snap = (await ledgerJoinSource(A.ledger, { rebuildMs: 0 }).snapshot())!;

    const body = decodeJoinSnapshot(snap.body, genesis.maxEntryBytes);
    const at = body.heads.findIndex((b) => toHex(b) === toHex(encodeEntry(x2.entry)));
    expect(at).toBeGreaterThanOrEqual(0);
    body.heads[at] = encodeEntry(x2alt.entry);
    const hostile = encodeJoinSnapshot(body);

    const swapped = await verifyJoinSnapshot(hostile, snap.claim, ctx).then(
      (v) => v,
      (e: Error) => e.name
    );
    if (typeof swapped === 'string') {
      await Promise.all([H.ledger.close(), A.ledger.close()]);
      expect(swapped).toBe('JoinMismatchError');
      return;
    }
    const verdict = (claim: typeof snap.claim): JoinVerdict => ({
      verified: true,
      by: 'quorum',
      asked: 3,
      agreeing: 3,
      claim,
      checkpoint: null
    });
    const J1 = await openLedger(memoryLocation(), 224, { compactEvery: 0 });
    const J2 = await openLedger(memoryLocation(), 225, { compactEvery: 0 });
    await installJoinSnapshot(J1.ledger, await verifyJoinSnapshot(snap.body, snap.claim, ctx), verdict(snap.claim));
    await installJoinSnapshot(J2.ledger, swapped, verdict(snap.claim));

    const B = await keysFromByte(226);
    const b1 = await entry(B, 1, undefined, 2 ** 33, 1, 'b1', [{ author: x, seq: 3 }]);
    for (const l of [A, J1, J2]) await l.ledger.ingest([b1]);
    const views = [A, J1, J2].map((l) => ({
      records: ledgerView(l.ledger).records,
      digest: ledgerView(l.ledger).digest
    }));
    await Promise.all([H, A, J1, J2].map((l) => l.ledger.close()));
    expect(views[2]).toEqual(views[0]);
    expect(views[1]).toEqual(views[0]);
  });
});
