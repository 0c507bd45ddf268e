// Two real Ed25519 identities whose keys derive the same 32-bit Yjs clientID (found by brute
// force over seeds: 4 zero-padded big-endian bytes at the end, like state-doc.test.ts's search
// but for signing keys). The owner of a contested clientID never changes on a node (live ingest,
// restart and compaction agree), the loser's entries are refused before they are stored, and
// among authors new to the node in one batch the lowest key wins.
import { beforeAll, describe, expect, it } from 'vitest';
import { publicKeyFromSeed } from '../../src/lib/core/ed25519.js';
import { Ledger } from '../../src/lib/core/ledger.js';
import { toHex } from '../../src/lib/core/bytes.js';
import { clientIdOf } from '../../src/lib/core/state/client-id.js';
import type { IdentityKeys } from '../../src/lib/core/types.js';
import { genesis, memoryLocation, openLedger, testClock, type Location } from '../helpers/ledger-nodes.js';
import type { HashedEntry } from '../../src/lib/core/types.js';

async function keysFromIndex(i: number): Promise<IdentityKeys> {
  const seed = new Uint8Array(32);
  new DataView(seed.buffer).setUint32(28, i);
  return { seed, publicKey: await publicKeyFromSeed(seed) };
}

let low: IdentityKeys; // 06047ff3…
let high: IdentityKeys; // 17ada07f…
let lowLog: HashedEntry[];
let highLog: HashedEntry[];

async function author(keys: IdentityKeys, tag: string): Promise<HashedEntry[]> {
  const ledger = await Ledger.open({ store: await memoryLocation().open(), genesis, keys, now: testClock() });
  const log: HashedEntry[] = [];
  ledger.onAppend((h) => log.push(h));
  await ledger.put('shared', tag);
  await ledger.put(`only-${tag}`, 1);
  return log;
}

beforeAll(async () => {
  low = await keysFromIndex(98047);
  high = await keysFromIndex(25097);
  expect(toHex(low.publicKey) < toHex(high.publicKey)).toBe(true);
  expect(clientIdOf(toHex(low.publicKey))).toBe(clientIdOf(toHex(high.publicKey)));
  lowLog = await author(low, 'low');
  highLog = await author(high, 'high');
});

const view = (l: Ledger) => l.records().map((r) => [r.key, r.value, r.author]);

async function reopen(loc: Location, keyByte: number, compactEvery = 0) {
  return openLedger(loc, keyByte, { compactEvery });
}

describe('contested clientID', () => {
  it('first owner keeps it: a lower key arriving later is refused, not stored, and a restart agrees', async () => {
    const loc = memoryLocation();
    const n = await reopen(loc, 1);
    expect(await n.ledger.ingest(highLog)).toMatchObject({ added: 2, rejected: [] });
    const r = await n.ledger.ingest(lowLog);
    expect(r.added).toBe(0);
    expect(r.rejected.map((x) => [x.code, x.author, x.seq])).toEqual([
      ['client-id-collision', toHex(low.publicKey), 1],
      ['client-id-collision', toHex(low.publicKey), 2]
    ]);
    expect(await n.store.getHead(toHex(low.publicKey))).toBeUndefined();
    expect(n.ledger.heads().map((h) => h.author)).toEqual([toHex(high.publicKey)]);
    const before = { records: view(n.ledger), digest: n.ledger.stats().stateDigest };
    expect(before.records.map((x) => x[1])).toEqual([1, 'high']);
    await n.ledger.close();

    const again = await reopen(loc, 1);
    expect({ records: view(again.ledger), digest: again.ledger.stats().stateDigest }).toEqual(before);
  });

  it('a higher key arriving after a lower owner is refused the same way', async () => {
    const m = await reopen(memoryLocation(), 2);
    await m.ledger.ingest(lowLog);
    const r = await m.ledger.ingest(highLog);
    expect(r.rejected.map((x) => x.code)).toEqual(['client-id-collision', 'client-id-collision']);
    expect(view(m.ledger).map((x) => x[1])).toEqual([1, 'low']);
  });

  it('in one batch of authors new to the node, the lowest key wins whatever the order', async () => {
    for (const batch of [
      [...highLog, ...lowLog],
      [...lowLog, ...highLog]
    ]) {
      const t = await reopen(memoryLocation(), 3);
      const r = await t.ledger.ingest(batch);
      expect(r.added).toBe(2);
      expect(new Set(r.rejected.map((x) => x.author))).toEqual(new Set([toHex(high.publicKey)]));
      expect(view(t.ledger).map((x) => x[1])).toEqual([1, 'low']);
      expect(t.ledger.heads().map((h) => h.author)).toEqual([toHex(low.publicKey)]);
    }
  });

  it('the owner is remembered through a compaction and restart', async () => {
    const loc = memoryLocation();
    const n = await reopen(loc, 4);
    await n.ledger.ingest(highLog);
    await n.ledger.compact();
    await n.ledger.close();
    const again = await reopen(loc, 4);
    const r = await again.ledger.ingest(lowLog);
    expect(r.rejected.map((x) => x.code)).toEqual(['client-id-collision', 'client-id-collision']);
    expect(view(again.ledger).map((x) => x[1])).toEqual([1, 'high']);
  });

  it("a remote author colliding with this node's own clientID is refused", async () => {
    const ledger = await Ledger.open({ store: await memoryLocation().open(), genesis, keys: high, now: testClock() });
    await ledger.put('mine', true);
    const r = await ledger.ingest(lowLog);
    expect(r.rejected.map((x) => x.code)).toEqual(['client-id-collision', 'client-id-collision']);
    expect(ledger.records().map((x) => x.key)).toEqual(['mine']);
  });
});
