// Red team 6d (variantFork over RefusedVariants, src/lib/core/ledger-ingest.ts; issue 6 kind
// "acceptance is a pure, deterministic function of an entry's bytes and the entries it depends
// on"): two signed entries of one author at one seq are fork evidence in either order only while
// the first is still remembered. RefusedVariants evicts oldest first once its 4 MiB are full, and
// anyone can fill it: a refused entry costs one fresh key, one valid entry and one junk entry.
//
// Input: forker E signs E#1 and two entries at seq 2 that both fail to link (E#2a, E#2b, prev
//   made up). Node N1 gets E#1, E#2a, E#2b in three ingests. Node N2 gets E#1, E#2a, then 80
//   hostile keys' broken-chain entries with ~60 KiB payloads (~4.7 MiB, over the cap), then E#2b.
//   Also: node N3 gets E#1, E#2a, restarts, then gets E#2b.
// Expected: N2 (and N3) end as N1: E's feed void from 2 (fork evidence recorded), same heads and digest.
// Actual: N1 records the fork (void head); N2 has forgotten E#2a and refuses E#2b as one more
//   broken chain: its head for E stays E#1. The verdict depends on what arrived in between.
//   Sync heals it only if some node saw both within the window (its void head differs and sync
//   carries the evidence); until then heads roots differ. The memory is not stored either, so a
//   restart between the two variants (a tab closed) has the same effect with no flood at all. Impact is bounded to E's own feed (both
//   variants are refused either way), so severity is low.
// Suggested fix: either state this limit in PROTOCOL.md §6.1 (the verdict for two refused
//   variants is eventual, through sync of a node's void head), or keep a fair share per author
//   (evict from the author/key holding the most, as FeedSet.makeRoom does) and keep only the hash
//   plus the signed prefix of old refusals, so a flood of fresh keys cannot push out E's variant.
import { describe, expect, it } from 'vitest';
import { createEntry } from '../../src/lib/core/entry.js';
import { toHex } from '../../src/lib/core/bytes.js';
import { clientIdOf } from '../../src/lib/core/state/client-id.js';
import type { IdentityKeys } from '../../src/lib/core/types.js';
import { keysFromByte, makeChain, yUpdateAt } from '../helpers/ledger-fixtures.js';
import { ledgerView, memoryLocation, openLedger } from '../helpers/ledger-nodes.js';

async function brokenAt2(keys: IdentityKeys, net: Uint8Array, fill: number, value: string) {
  const [e1] = await makeChain(keys, 1, net);
  const payload = yUpdateAt('x', value, clientIdOf(toHex(keys.publicKey)), 1);
  const e2 = await createEntry(
    { keys, seq: 2, prev: new Uint8Array(32).fill(fill), lamport: 2, time: e1.entry.time + 1, clock: 2, payload },
    net
  );
  return { e1, e2 };
}

describe('redteam6d: fork evidence of two refused variants under RefusedVariants eviction', () => {
  it.fails('a flood between the two variants does not change the verdict', async () => {
    const N1 = await openLedger(memoryLocation(), 81, { compactEvery: 0 });
    const N2 = await openLedger(memoryLocation(), 82, { compactEvery: 0 });
    const net = N1.ledger.networkId;
    const E = await keysFromByte(83);
    const e = toHex(E.publicKey);
    const a = await brokenAt2(E, net, 1, 'a');
    const b = await brokenAt2(E, net, 2, 'b');
    for (const N of [N1, N2]) {
      await N.ledger.ingest([a.e1]);
      expect((await N.ledger.ingest([a.e2])).rejected.map((r) => r.code)).toEqual(['broken-chain']);
    }
    for (let k = 0; k < 80; k++) {
      const J = await keysFromByte(140 + k);
      const j = await brokenAt2(J, net, 3, 'j'.repeat(60_000));
      expect((await N2.ledger.ingest([j.e1, j.e2])).rejected.map((r) => r.code)).toEqual(['broken-chain']);
    }
    await N1.ledger.ingest([b.e2]);
    await N2.ledger.ingest([b.e2]);
    expect(N1.ledger.voidTop(e)?.seq).toBe(1);
    const head = (N: typeof N1) => N.ledger.heads().find((h) => h.author === e);
    expect(head(N2)).toEqual(head(N1));
    const { heads, digest } = ledgerView(N1.ledger);
    expect({ heads: N2.ledger.heads().filter((h) => h.author === e), d: ledgerView(N2.ledger).digest }).toEqual({
      heads: heads.filter((h) => h.author === e),
      d: digest
    });
  });

  it.fails('a restart between the two variants does not change the verdict', async () => {
    const N1 = await openLedger(memoryLocation(), 84, { compactEvery: 0 });
    const loc = memoryLocation();
    let N3 = await openLedger(loc, 85, { compactEvery: 0 });
    const net = N1.ledger.networkId;
    const E = await keysFromByte(86);
    const e = toHex(E.publicKey);
    const a = await brokenAt2(E, net, 1, 'a');
    const b = await brokenAt2(E, net, 2, 'b');
    for (const N of [N1, N3]) {
      await N.ledger.ingest([a.e1]);
      await N.ledger.ingest([a.e2]);
    }
    await N3.ledger.close();
    N3 = await openLedger(loc, 85, { compactEvery: 0 });
    await N1.ledger.ingest([b.e2]);
    await N3.ledger.ingest([b.e2]);
    expect(N1.ledger.voidTop(e)?.seq).toBe(1);
    const head = (N: typeof N1) => N.ledger.heads().find((h) => h.author === e);
    expect(head(N3)).toEqual(head(N1));
  });
});
