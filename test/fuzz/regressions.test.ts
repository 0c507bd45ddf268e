// Bugs the ledger fuzzer (harness.ts) found, kept as plain regression tests. Each names the
// fuzzer's counterexample it came from.
import { describe, expect, it } from 'vitest';
import { createEntry, encodeEntry } from '../../src/lib/core/entry.js';
import { toHex } from '../../src/lib/core/bytes.js';
import { sha256 } from '../../src/lib/core/hash.js';
import { clientIdOf } from '../../src/lib/core/state/client-id.js';
import { Ledger } from '../../src/lib/core/ledger.js';
import { importLedgerSnapshot } from '../../src/lib/core/ledger-snapshots.js';
import { keysFromByte, makeChain, yUpdateAt } from '../helpers/ledger-fixtures.js';
import { genesis, memoryLocation, openLedger, testClock } from '../helpers/ledger-nodes.js';
import { encodeYUpdate, observe, rawFullSnapshot, type YContent } from './kit.js';
import { realize } from './mutations.js';
import { buildWorld, target } from './world.js';

describe('fuzzer regressions', () => {
  // Counterexample: {"kind":"yjs","k":0,"spec":{"sections":[{"who":"e","clock":"next","structs":
  // [{"content":{"k":"any","values":[""]}}]}],"deletes":[]},"deps":"auto"} (SEED=7).
  // A struct whose parent is the root type "records" by name but that has no parentSub (a
  // list-style item inside the records map). Yjs integrates it and reports the key null to the
  // map observers; Records.onEvent called isValidKey(null) and threw a TypeError inside Yjs'
  // observer phase: the entry was stored, then "rejected" as malformed-payload while its struct
  // stayed in the document (stored != shown, skippedPayloads 1, state digest changed).
  it('a keyless item in the records map is refused before anything is stored or applied', async () => {
    const loc = memoryLocation();
    const n = await openLedger(loc, 1);
    await n.ledger.put('x', 1);
    const evil = await keysFromByte(13);
    const client = clientIdOf(toHex(evil.publicKey));
    for (const [seq, content] of [
      [1, { k: 'any', values: [''] }],
      [2, { k: 'type', typeRef: 0 }],
      [3, { k: 'json', texts: ['1'] }]
    ] as [number, YContent][]) {
      const payload = encodeYUpdate({
        sections: [{ client, clock: seq - 1, structs: [{ parent: 'records', content }] }],
        deletes: []
      });
      if (seq > 1) break; // seq 1 is refused, so nothing can follow it
      const before = await observe(n.ledger, n.store);
      const h = await createEntry(
        { keys: evil, seq, prev: new Uint8Array(32), lamport: seq, time: 1, clock: seq, payload },
        n.ledger.networkId
      );
      expect(await n.ledger.ingest([h])).toMatchObject({ added: 0, rejected: [{ code: 'malformed-payload' }] });
      expect(await observe(n.ledger, n.store)).toEqual(before);
    }
    // Each kind of keyless content is refused on its own too (one key each: two entries of one
    // key at one seq would be a fork, PROTOCOL.md §6.1).
    for (const [i, content] of (
      [
        { k: 'type', typeRef: 0 },
        { k: 'json', texts: ['1'] }
      ] as YContent[]
    ).entries()) {
      const other = await keysFromByte(40 + i);
      const payload = encodeYUpdate({
        sections: [{ client: clientIdOf(toHex(other.publicKey)), clock: 0, structs: [{ parent: 'records', content }] }],
        deletes: []
      });
      const h = await createEntry(
        { keys: other, seq: 1, prev: new Uint8Array(32), lamport: 1, time: 1, clock: 1, payload },
        n.ledger.networkId
      );
      expect((await n.ledger.ingest([h])).rejected).toMatchObject([{ code: 'malformed-payload' }]);
    }
    expect(n.ledger.stats().skippedPayloads).toBe(0);
    expect(n.ledger.records().map((r) => r.key)).toEqual(['x']);
    const shown = await observe(n.ledger, n.store);
    const again = await Ledger.open({ genesis, keys: n.keys, store: await loc.open(), now: testClock() });
    expect(await observe(again, again.store)).toEqual(shown);
    await again.close();
    await n.ledger.put('after', 'works');
    expect(n.ledger.get('after')).toBe('works');
  });

  // Counterexample: {"kind":"yjs","k":0,"spec":{"sections":[],"deletes":[{"who":"a","ranges":
  // [{"clock":"zero","len":1}]}]},"deps":[]} (SEED=2). A full snapshot whose last entry deletes
  // another author's record without depending on it: the ledger refuses it (causality), but
  // importLedgerSnapshot dropped the ledger's rejections, stored the rest and reported
  // { added: 1, rejected: 0 }. (Fixed on main by the atomic import: the whole file is refused.)
  it('snapshot import refuses a file with an entry the ledger refuses, storing nothing', async () => {
    const a = await openLedger(memoryLocation(), 11);
    await a.ledger.put('a1', 'one');
    const n = await openLedger(memoryLocation(), 1);
    const evil = await keysFromByte(13);
    const payload = encodeYUpdate({
      sections: [],
      deletes: [{ client: clientIdOf(a.ledger.author), ranges: [[0, 1]] }]
    });
    const h = await createEntry(
      { keys: evil, seq: 1, prev: new Uint8Array(32), lamport: 1, time: 1, clock: 0, payload },
      n.ledger.networkId
    );
    const line = (x: typeof h) => ({
      author: toHex(x.entry.author),
      seq: x.entry.seq,
      hash: toHex(x.hash),
      bytes: encodeEntry(x.entry)
    });
    const heads = [a.log[0], h].map((x) => ({ author: toHex(x.entry.author), seq: 1, hash: toHex(x.hash) }));
    const file = rawFullSnapshot(genesis, toHex(evil.publicKey), heads, [line(a.log[0]), line(h)]);
    expect(toHex(sha256(encodeEntry(h.entry)))).toBe(toHex(h.hash));
    await expect(importLedgerSnapshot(n.ledger, file)).rejects.toMatchObject({ name: 'MalformedSnapshotError' });
    expect(await n.store.count()).toBe(0);
    expect(n.ledger.records()).toEqual([]);
    await n.ledger.put('after', 'works');
    expect(n.ledger.get('after')).toBe('works');
  });

  // Counterexample: {"kind":"yjs","k":0,"spec":{"sections":[{"who":"e","clock":"next","structs":
  // [{"origin":{"who":"e","at":"first"},"content":{"k":"any","values":[[]]}},{"content":{"k":"type",
  // "typeRef":0}}]}],"deletes":[]},"deps":"auto"} (SEED=7). A struct whose origin is itself (or a
  // later struct of the same update): the causal check took any id below the author's new clock
  // as "own", Yjs then threw a TypeError mid-apply after the entry was stored (partial apply).
  it('refuses a struct that references itself or a later item of its own update, before storing', async () => {
    const n = await openLedger(memoryLocation(), 1);
    await n.ledger.put('x', 1);
    const before = await observe(n.ledger, n.store);
    // One key per case: two entries of one key at one seq would be a fork (PROTOCOL.md §6.1).
    for (const clock of [0, 1]) {
      const evil = await keysFromByte(13 + clock);
      const client = clientIdOf(toHex(evil.publicKey));
      const origin = { client, clock };
      const payload = encodeYUpdate({
        sections: [
          {
            client,
            clock: 0,
            structs: [{ origin, content: { k: 'any', values: [[]] } }, { content: { k: 'type', typeRef: 0 } }]
          }
        ],
        deletes: []
      });
      const h = await createEntry(
        { keys: evil, seq: 1, prev: new Uint8Array(32), lamport: 1, time: 1, clock: 2, payload },
        n.ledger.networkId
      );
      const r = await n.ledger.ingest([h]);
      expect(r).toMatchObject({ added: 0, rejected: [{ code: 'causality' }] });
      expect(await observe(n.ledger, n.store)).toEqual(before);
    }
    expect(n.ledger.stats().skippedPayloads).toBe(0);
    await n.ledger.put('after', 'works');
    expect(n.ledger.get('after')).toBe('works');
  });

  // Counterexample (convergence, SEED=777): {"kind":"yjs","k":5,"spec":{"sections":[],"deletes":
  // [{"who":"a","ranges":[{"clock":"low","len":1}]}]},"deps":"auto","au":"e"}. E#5 overwrites
  // A's record a2 with a tombstone (deleting A's item); E#6 is a bare delete of that same item.
  // One entry per ingest: E#6 is accepted (the item is already deleted). The same entries in one
  // batch: E#6 is refused ("deletes record a2 without writing its key"), because
  // checkRecordDeletes (state/records-rules.ts, called from admitCausal in ledger-ingest.ts)
  // looks at the document before the batch's earlier entries are applied. Two nodes holding the
  // same entries then disagree (13 vs 12 entries). Fixed: the rule no longer looks at whether the
  // item is already deleted, and judges items created earlier in the batch from their structs.
  it('a bare delete gets the same verdict one by one and in one batch', async () => {
    const { buildWorld, target } = await import('./world.js');
    const { realize } = await import('./mutations.js');
    const w = await buildWorld();
    const r = await realize(w, {
      kind: 'yjs',
      k: 5,
      au: 'e',
      spec: { sections: [], deletes: [{ who: 'a', ranges: [{ clock: 'low', len: 1 }] }], trailing: [] },
      deps: 'auto',
      lamportOff: 0,
      clockOff: 0
    });
    const one = await target(w);
    for (const x of [...r.prefix, r.bytes]) await one.ledger.ingest([x]);
    const batch = await target(w);
    await batch.ledger.ingest([...r.prefix, r.bytes]);
    expect(await observe(batch.ledger, batch.store)).toEqual(await observe(one.ledger, one.store));
  });

  // The other direction of the same bug: a record written earlier in the same batch is not in
  // the document yet, so a later entry of the batch may delete it bare (accepted in a batch,
  // refused one by one).
  it('a bare delete of a record written in the same batch is refused as one by one', async () => {
    const a = await openLedger(memoryLocation(), 11);
    const wrote = await a.ledger.put('k', 'v');
    const evil = await keysFromByte(13);
    const client = clientIdOf(a.ledger.author);
    const payload = encodeYUpdate({ sections: [], deletes: [{ client, ranges: [[0, 1]] }] });
    const h = await createEntry(
      {
        keys: evil,
        seq: 1,
        prev: new Uint8Array(32),
        lamport: 2,
        time: 1,
        clock: 0,
        payload,
        deps: [{ author: a.ledger.author, seq: 1 }]
      },
      a.ledger.networkId
    );
    const one = await openLedger(memoryLocation(), 1);
    await one.ledger.ingest([wrote]);
    expect((await one.ledger.ingest([h])).rejected).toMatchObject([{ code: 'malformed-payload' }]);
    const batch = await openLedger(memoryLocation(), 2);
    expect((await batch.ledger.ingest([wrote, h])).rejected).toMatchObject([{ code: 'malformed-payload' }]);
  });

  // Counterexample (SEED=73896989, convergence): [{"kind":"field","k":4,"m":{"f":"prev"},"au":"e"},
  // {"kind":"yjs","k":4,"spec":{…"origin":{"who":"rand"}…},"au":"e"}]. Two signed variants of
  // seq 5: one does not link (broken chain), the other links but the causal rules refuse it (its
  // item's origin is a client that is not a dependency). Broken chain first: remembered, and the
  // linking variant then made fork evidence. Causal refusal first: the broken chain was refused
  // without looking at the remembered variant, so no fork: the heads and digest depended on order.
  it('two refused variants of one seq are fork evidence in either order', async () => {
    const E = await keysFromByte(77);
    const client = clientIdOf(toHex(E.publicKey));
    const heads: string[] = [];
    for (const order of ['broken-first', 'causal-first']) {
      const n = await openLedger(memoryLocation(), 3);
      const chain = await makeChain(E, 4, n.ledger.networkId);
      const top = chain[3].entry;
      const base = { keys: E, seq: 5, lamport: top.lamport + 1, time: top.time + 1, clock: top.clock + 1 };
      const broken = await createEntry(
        { ...base, prev: new Uint8Array(32).fill(9), payload: yUpdateAt('k5', 'b', client, top.clock) },
        n.ledger.networkId
      );
      const payload = encodeYUpdate({
        sections: [
          {
            client,
            clock: top.clock,
            structs: [{ origin: { client: 123456789, clock: 0 }, content: { k: 'any', values: [''] } }]
          }
        ],
        deletes: []
      });
      const causal = await createEntry({ ...base, prev: chain[3].hash, payload }, n.ledger.networkId);
      await n.ledger.ingest(chain);
      const first = order === 'broken-first' ? broken : causal;
      const second = order === 'broken-first' ? causal : broken;
      await n.ledger.ingest([first]);
      await n.ledger.ingest([second]);
      expect(
        n.ledger.forks().map((f) => [f.author, f.seq]),
        order
      ).toEqual([[toHex(E.publicKey), 5]]);
      heads.push(JSON.stringify([n.ledger.heads(), n.ledger.stats().stateDigest]));
      await n.ledger.close();
    }
    expect(heads[1]).toBe(heads[0]);
  });

  // Counterexample (SEED=1112240872, converge): [{"kind":"yjs","k":3,"spec":{"sections":[],
  // "deletes":[{"who":"e","ranges":[{"clock":"low","len":1}]}]},"deps":"auto","au":"e"},
  // {"kind":"yjs","k":0,"spec":{"sections":[],"deletes":[{"who":"a","ranges":[{"clock":"zero",
  // "len":1}]}]},"deps":"auto","au":"b"}]. E's seq 4 deletes E's own "shared" record, which
  // overwrote B's: a bare delete, refused while the record stands. B's second seq 1 voids B, so
  // E's "shared" item (its origin is B's) turns GC and the delete becomes acceptable. One node got
  // the void first, then E4: accepted. Another got [B1', E4] in one batch: E4 was judged before
  // the void was applied, refused, judged again in the same ingest and stored, yet the report
  // still named it refused (a peer scoring on it would punish a valid sender).
  it('an entry stored by the re-judge of its own batch is not reported refused', async () => {
    const w = await buildWorld();
    const [evilE4, forkB1] = await Promise.all([
      realize(w, {
        kind: 'yjs',
        k: 3,
        au: 'e',
        spec: { sections: [], deletes: [{ who: 'e', ranges: [{ clock: 'low', len: 1 }] }], trailing: [] },
        deps: 'auto',
        lamportOff: 0,
        clockOff: 0
      }),
      realize(w, {
        kind: 'yjs',
        k: 0,
        au: 'b',
        spec: { sections: [], deletes: [{ who: 'a', ranges: [{ clock: 'zero', len: 1 }] }], trailing: [] },
        deps: 'auto',
        lamportOff: 0,
        clockOff: 0
      })
    ]);
    const l = await target(w);
    try {
      expect((await l.ledger.ingest(w.e.entries.slice(0, 3))).added).toBe(3);
      // Alone, before the void: a bare delete of a standing record.
      expect((await l.ledger.ingest([evilE4.bytes])).rejected).toMatchObject([{ code: 'malformed-payload' }]);
      const rep = await l.ledger.ingest([forkB1.bytes, evilE4.bytes]);
      expect(rep.rejected).toEqual([]);
      expect(rep).toMatchObject({ added: 1, forks: 1 }); // E4 (the fork evidence is not counted as added)
      expect(l.ledger.heads().find((h) => h.author === w.e.hex)?.seq).toBe(4);
    } finally {
      await l.ledger.close();
    }
  });

  // Counterexample (SEED=1901023467, gossip): [{"kind":"yjs","k":0,"spec":{"sections":[{"who":"e",
  // "clock":"next","structs":[{"parent":{"who":"b","at":"list"},"parentSub":"shared","content":
  // {"k":"json","texts":["1","\"x\""]}},{"origin":{"who":"e","at":"first"},"content":{"k":"type",
  // "typeRef":0}}]}],"deletes":[]},"deps":"auto","au":"e"}]. One entry writes a two-unit value
  // under a key of B's list type and an item after its first unit: the split leaves that unit
  // undeleted beside a right neighbour. After the next write the ledger took the document's own
  // encoding as canonical (state/digest.ts maximallyMerged) and reported a digest that the same
  // store, opened again, did not: equal states, two digests.
  it('a split map value gives the same digest live and after a reopen', async () => {
    const w = await buildWorld();
    const r = await realize(w, {
      kind: 'yjs',
      k: 0,
      au: 'e',
      spec: {
        sections: [
          {
            who: 'e',
            clock: 'next',
            structs: [
              {
                parent: { who: 'b', at: 'list' },
                parentSub: 'shared',
                content: { k: 'json', texts: ['1', '"x"'] }
              },
              { origin: { who: 'e', at: 'first' }, content: { k: 'type', typeRef: 0 } }
            ],
            claimedExtra: 0
          }
        ],
        deletes: [],
        trailing: []
      },
      deps: 'auto',
      lamportOff: 0,
      clockOff: 0
    });
    const t = await target(w);
    try {
      await t.ledger.ingest(r.prefix);
      expect((await t.ledger.ingest([r.bytes])).added).toBe(1);
      // The first digest after the entry rebuilds (its payload is due an order check); the next
      // write's took the fast path.
      await observe(t.ledger, t.store);
      await t.ledger.put('honest', 'after');
      const live = await observe(t.ledger, t.store);
      const again = await Ledger.open({ genesis, keys: t.keys, store: await t.loc.open(), now: testClock() });
      expect(await observe(again, again.store)).toEqual(live);
      await again.close();
    } finally {
      await t.ledger.close();
    }
  });
});
