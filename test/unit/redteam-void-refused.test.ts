// Red team (PROTOCOL.md §6.1): a causally refused variant is fork evidence only while a node
// remembers it (RefusedVariants: 4 MiB and 1024 entries, a fair share per author, kept in the
// store across a restart). A forker sends the refused variant first, the node is flooded with
// other refused entries until it forgets, then the valid variant: that node applies it, while a
// node that saw them the other way round voids the feed. The void head must heal this: the knowing
// node answers a range request on the void feed with the evidence pair (ledger-replica.ts), and
// the other node then voids it too. (A reopen no longer forgets: the first case checks that.)
import { describe, expect, it } from 'vitest';
import { createEntry } from '../../src/lib/core/entry.js';
import { toHex } from '../../src/lib/core/bytes.js';
import { clientIdOf } from '../../src/lib/core/state/client-id.js';
import { publicKeyFromSeed } from '../../src/lib/core/ed25519.js';
import { ledgerReplica } from '../../src/lib/core/sync/ledger-replica.js';
import type { IdentityKeys } from '../../src/lib/core/types.js';
import type { Ledger } from '../../src/lib/core/ledger.js';
import { keysFromByte, yUpdateAt } from '../helpers/ledger-fixtures.js';
import { memoryLocation, openLedger } from '../helpers/ledger-nodes.js';

const T0 = 1_700_000_000_000;

async function first(keys: IdentityKeys, net: Uint8Array, lamport: number, v: string, key = 'k') {
  const a = toHex(keys.publicKey);
  const payload = yUpdateAt(key, { v, a, t: T0, l: lamport }, clientIdOf(a), 0);
  return createEntry({ keys, seq: 1, prev: new Uint8Array(32), lamport, time: T0, clock: 1, payload }, net);
}

function view(l: Ledger) {
  return { heads: l.heads(), records: JSON.stringify(l.records()), digest: l.stats().stateDigest };
}

/** One sync step as the engine does it: ask `from` for what `to` lacks of `author`, ingest the answer. */
async function pull(to: Ledger, from: Ledger, author: string): Promise<void> {
  const local = to.heads().find((h) => h.author === author)?.seq ?? 0;
  const answer = await ledgerReplica(from).getRange(author, local + 1, local + 64, 1 << 20);
  await to.ingest(answer);
}

describe('redteam: a refused variant forgotten by one node', () => {
  it('after a reopen the node still remembers the variant (stored) and voids the feed as a knowing node does', async () => {
    const locA = memoryLocation();
    let a = await openLedger(locA, 130);
    const b = await openLedger(memoryLocation(), 131);
    const net = a.ledger.networkId;
    const evil = await keysFromByte(99);
    const E = toHex(evil.publicKey);
    const bad = await first(evil, net, 5, 'bad'); // lamport 5 at seq 1: refused (causality)
    const good = await first(evil, net, 1, 'good');

    expect((await a.ledger.ingest([bad])).rejected.map((r) => r.code)).toEqual(['causality']);
    await a.ledger.close();
    a = await openLedger(locA, 130); // RefusedVariants is stored: still remembered
    await a.ledger.ingest([good]);
    await b.ledger.ingest([good]);
    await b.ledger.ingest([bad]);
    expect(a.ledger.voidFrom(E)).toBe(1); // no divergence, even before sync
    expect(b.ledger.voidFrom(E)).toBe(1);

    await pull(a.ledger, b.ledger, E);
    expect(a.ledger.voidFrom(E)).toBe(1);
    expect(view(a.ledger)).toEqual(view(b.ledger));
  });

  it('flooded with 4 MiB of smaller refused entries, a node forgets the variant; one sync pull heals it', async () => {
    const a = await openLedger(memoryLocation(), 132);
    const b = await openLedger(memoryLocation(), 133);
    const net = a.ledger.networkId;
    const evil = await keysFromByte(100);
    const E = toHex(evil.publicKey);
    // ~30 KiB: the fair share evicts it only for keys holding less (refused-variants.ts).
    const bad = await first(evil, net, 5, 'bad'.repeat(10_000));
    const good = await first(evil, net, 1, 'good');
    await a.ledger.ingest([bad]);
    // Refused entries of fresh keys, ~16 KiB of payload each: 300 of them pass 4 MiB.
    const junk = [];
    for (let i = 0; i < 300; i++) {
      const seed = new Uint8Array(32);
      new DataView(seed.buffer).setUint32(0, 0xf100d000 + i);
      const k = { seed, publicKey: await publicKeyFromSeed(seed) };
      junk.push(await first(k, net, 7, 'x'.repeat(16_000)));
    }
    for (let i = 0; i < junk.length; i += 50) await a.ledger.ingest(junk.slice(i, i + 50));
    await a.ledger.ingest([good]);
    await b.ledger.ingest([good]);
    await b.ledger.ingest([bad]);
    expect(b.ledger.voidFrom(E)).toBe(1);
    const forgot = a.ledger.voidFrom(E) === undefined;
    await pull(a.ledger, b.ledger, E);
    expect({ forgot, voidFrom: a.ledger.voidFrom(E) }).toEqual({ forgot: true, voidFrom: 1 });
    expect(view(a.ledger).heads).toEqual(view(b.ledger).heads);
    expect(a.ledger.records()).toEqual(b.ledger.records());
  }, 60_000);
});
