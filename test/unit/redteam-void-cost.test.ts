// Red team (PROTOCOL.md §6.1 "Known costs"): every new void rebuilds a node's state from its
// store. A key costs nothing to make, so a hostile peer can send a fork pair of a fresh key (two
// seq-1 entries, nothing of it ever applied) over and over. Measured here at 5,000 stored
// entries: the time of each such ingest, with and without a compaction to start from, and that
// the node stays correct (same records as before, honest writes still go through, nothing grows).
import { describe, expect, it } from 'vitest';
import { createEntry } from '../../src/lib/core/entry.js';
import { toHex } from '../../src/lib/core/bytes.js';
import { clientIdOf } from '../../src/lib/core/state/client-id.js';
import type { IdentityKeys } from '../../src/lib/core/types.js';
import type { HashedEntry } from '../../src/lib/core/types.js';
import { keysFromByte, yUpdateAt } from '../helpers/ledger-fixtures.js';
import { memoryLocation, openLedger } from '../helpers/ledger-nodes.js';
import { publicKeyFromSeed } from '../../src/lib/core/ed25519.js';

const N = 5000;
const FORKS = 5;

async function freshKey(i: number): Promise<IdentityKeys> {
  const seed = new Uint8Array(32);
  new DataView(seed.buffer).setUint32(0, 0x5eed0000 + i);
  return { seed, publicKey: await publicKeyFromSeed(seed) };
}

/** `n` chained record puts (stored form {v, a, t, l}) of `keys`, valid under the causal rules. */
async function recordChain(keys: IdentityKeys, n: number, net: Uint8Array): Promise<HashedEntry[]> {
  const a = toHex(keys.publicKey);
  const client = clientIdOf(a);
  const out: HashedEntry[] = [];
  let prev: Uint8Array = new Uint8Array(32);
  for (let seq = 1; seq <= n; seq++) {
    const time = 1_700_000_000_000 + seq;
    const payload = yUpdateAt(`k${seq}`, { v: `value ${seq}`, a, t: time, l: seq }, client, seq - 1);
    const h = await createEntry({ keys, seq, prev, lamport: seq, time, clock: seq, payload }, net);
    out.push(h);
    prev = h.hash;
  }
  return out;
}

async function forkPair(keys: IdentityKeys, net: Uint8Array) {
  const client = clientIdOf(toHex(keys.publicKey));
  const mk = (v: string, time: number) =>
    createEntry(
      { keys, seq: 1, prev: new Uint8Array(32), lamport: 1, time, clock: 1, payload: yUpdateAt('x', v, client, 0) },
      net
    );
  return [await mk('a', 1_700_000_000_000), await mk('b', 1_700_000_000_001)];
}

describe('redteam: cost of a fork from a fresh key at 5,000 stored entries', () => {
  for (const compactEvery of [0, 1000]) {
    it(`compactEvery=${compactEvery}: each fork rebuilds; the state is unchanged and writes still work`, async () => {
      const node = await openLedger(memoryLocation(), 71, { compactEvery });
      const net = node.ledger.networkId;
      const honest = await keysFromByte(94);
      const chain = await recordChain(honest, N, net);
      for (let i = 0; i < N; i += 500) await node.ledger.ingest(chain.slice(i, i + 500));
      // Baseline: two ordinary entries of a fresh key (no fork).
      const base: number[] = [];
      for (let i = 0; i < 5; i++) {
        const plain = await recordChain(await freshKey(100 + i), 2, net);
        const t = performance.now();
        await node.ledger.ingest(plain);
        base.push(performance.now() - t);
      }
      const before = JSON.stringify(node.ledger.records());
      expect(node.ledger.records().length).toBeGreaterThan(0);
      const ms: number[] = [];
      for (let i = 0; i < FORKS; i++) {
        const pair = await forkPair(await freshKey(i), net);
        const t = performance.now();
        await node.ledger.ingest(pair);
        ms.push(performance.now() - t);
      }
      const s = node.ledger.stats();
      console.log(
        `compactEvery=${compactEvery} entries=${s.entries} fork ingest ms: ${ms.map((x) => x.toFixed(0)).join(' ')}; ordinary pair ms: ${base.map((x) => x.toFixed(0)).join(' ')}`
      );
      expect(s.forkedAuthors).toBe(FORKS);
      // The digest changes (each void author's clock space becomes a placeholder); the records may not.
      expect(JSON.stringify(node.ledger.records())).toBe(before);
      // Generous bound for a shared 2-core machine: a fork pair must not cost a full replay each time.
      const median = [...ms].sort((x, y) => x - y)[Math.floor(ms.length / 2)];
      expect(median).toBeLessThan(1000);
      expect(s.pending).toBe(0);
      await node.ledger.put('after', 1);
      expect(node.ledger.get('after')).toBe(1);
    }, 120_000);
  }

  it('a fork of an author already inside the compaction replays the whole store each time (measured)', async () => {
    const node = await openLedger(memoryLocation(), 72, { compactEvery: 1000 });
    const net = node.ledger.networkId;
    // Three throwaway keys write one entry each, then 5,000 honest entries (compacted every 1,000).
    const pairs: Awaited<ReturnType<typeof forkPair>>[] = [];
    for (let i = 0; i < 3; i++) pairs.push(await forkPair(await freshKey(200 + i), net));
    await node.ledger.ingest(pairs.map((p) => p[0]));
    const chain = await recordChain(await keysFromByte(95), N, net);
    for (let i = 0; i < N; i += 500) await node.ledger.ingest(chain.slice(i, i + 500));
    await node.ledger.compact();
    const before = JSON.stringify(node.ledger.records().filter((r) => r.key !== 'x'));
    const ms: number[] = [];
    for (const p of pairs) {
      const t = performance.now();
      await node.ledger.ingest([p[1]]);
      ms.push(performance.now() - t);
    }
    console.log(`fork inside the compaction, ${N} entries: ingest ms ${ms.map((x) => x.toFixed(0)).join(' ')}`);
    expect(node.ledger.stats().forkedAuthors).toBe(pairs.length);
    expect(node.ledger.records().some((r) => r.key === 'x')).toBe(false); // the voided records are gone
    expect(JSON.stringify(node.ledger.records())).toBe(before);
    await node.ledger.put('after', 1);
    expect(node.ledger.get('after')).toBe(1);
  }, 120_000);
});
