// Issue 6 cases: a validly signed entry must not freeze, break, rewrite or censor a node. Each
// case builds the hostile entry by hand (signed by a fresh key, so every check before the
// causal rules passes) and asserts the outcome the rules promise.
import { describe, expect, it } from 'vitest';
import * as encoding from 'lib0/encoding';
import * as Y from 'yjs';
import { LedgerState } from '../../src/lib/core/state/doc.js';
import { exportSnapshot } from '../../src/lib/core/snapshot/export.js';
import { exportLedgerSnapshot, importLedgerSnapshot } from '../../src/lib/core/ledger-snapshots.js';
import { collectBytes } from '../../src/lib/core/snapshot/index.js';
import { createEntry } from '../../src/lib/core/entry.js';
import { concatBytes, toHex } from '../../src/lib/core/bytes.js';
import { sha256 } from '../../src/lib/core/hash.js';
import { headsRoot } from '../../src/lib/core/heads-digest.js';
import { hmac } from '@noble/hashes/hmac.js';
import { sha256 as nobleSha256 } from '@noble/hashes/sha2.js';
import { clientIdOf } from '../../src/lib/core/state/client-id.js';
import type { EntryDep, HashedEntry, IdentityKeys } from '../../src/lib/core/types.js';
import { keysFromByte, yUpdateAt, deleteOnly } from '../helpers/ledger-fixtures.js';
import { memoryLocation, openLedger, type TestLedger } from '../helpers/ledger-nodes.js';
import { voidHead } from '../../src/lib/core/void.js';

const zero = new Uint8Array(32);

function clientOf(keys: IdentityKeys): number {
  return clientIdOf(toHex(keys.publicKey));
}

async function sign(
  l: TestLedger,
  keys: IdentityKeys,
  fields: { seq?: number; prev?: Uint8Array; lamport: number; clock: number; deps?: EntryDep[]; payload: Uint8Array }
): Promise<HashedEntry> {
  const { seq = 1, prev = zero, ...rest } = fields;
  return createEntry({ keys, seq, prev, time: 1_700_000_000_000, ...rest }, l.ledger.networkId);
}

async function honestAfter(l: TestLedger): Promise<void> {
  const before = l.ledger.stats().entries;
  await l.ledger.put('after', 'still works');
  expect(l.ledger.get('after')).toBe('still works');
  expect(l.ledger.stats().entries).toBe(before + 1);
}

describe('issue 6 case 1: clock bound', () => {
  it('refuses a lamport that does not follow from prev and deps (2^53-1), and local writes keep working', async () => {
    const n = await openLedger(memoryLocation(), 1);
    const evil = await keysFromByte(66);
    const h = await sign(n, evil, {
      lamport: Number.MAX_SAFE_INTEGER,
      clock: 1,
      payload: yUpdateAt('evil', 1, clientOf(evil), 0)
    });
    const r = await n.ledger.ingest([h]);
    expect(r.added).toBe(0);
    expect(r.rejected).toMatchObject([{ code: 'causality' }]);
    expect(await n.store.count()).toBe(0);
    await honestAfter(n);
    // Lamports grow by one per entry: the local write's is exactly 1 + its predecessor's.
    expect(n.log.at(-1)!.entry.lamport).toBe(1);
  });
});

describe('issue 6 case 2: length bomb', () => {
  it('refuses deleted content of length 2^40 at once, stores nothing', async () => {
    const n = await openLedger(memoryLocation(), 1);
    const evil = await keysFromByte(67);
    const enc = encoding.createEncoder();
    encoding.writeVarUint(enc, 1);
    encoding.writeVarUint(enc, 1);
    encoding.writeVarUint(enc, clientOf(evil));
    encoding.writeVarUint(enc, 0);
    encoding.writeUint8(enc, 0x21); // ContentDeleted under a map key
    encoding.writeVarUint(enc, 1);
    encoding.writeVarString(enc, 'records');
    encoding.writeVarString(enc, 'k');
    encoding.writeVarUint(enc, 2 ** 40);
    encoding.writeVarUint(enc, 0);
    const h = await sign(n, evil, { lamport: 1, clock: 2 ** 40, payload: encoding.toUint8Array(enc) });
    const started = Date.now();
    const r = await n.ledger.ingest([h]);
    expect(Date.now() - started).toBeLessThan(5000);
    expect(r.rejected).toMatchObject([{ code: 'malformed-payload' }]);
    expect(await n.store.count()).toBe(0);
    await honestAfter(n);
  });
});

describe('issue 6 case 3: delete sets', () => {
  it('refuses a delete of another author record it does not depend on, and a range beyond its dependency', async () => {
    const victim = await openLedger(memoryLocation(), 2);
    await victim.ledger.put('mine', 'precious');
    const n = await openLedger(memoryLocation(), 1);
    await n.ledger.ingest(victim.log);
    const evil = await keysFromByte(68);
    const vClient = clientOf(victim.keys);

    const noDep = await sign(n, evil, { lamport: 1, clock: 0, payload: deleteOnly(vClient, 0, 1) });
    expect((await n.ledger.ingest([noDep])).rejected).toMatchObject([{ code: 'causality' }]);

    // Depends on the victim's seq 1 (clock 1) but deletes clocks it could not have seen: the
    // victim's future writes.
    const dep = [{ author: victim.ledger.author, seq: 1 }];
    // (A key per probe: two entries of one key at one seq would be a fork, PROTOCOL.md §6.1.)
    const future = await sign(n, await keysFromByte(69), {
      lamport: 2,
      clock: 0,
      deps: dep,
      payload: deleteOnly(vClient, 0, 1000)
    });
    expect((await n.ledger.ingest([future])).rejected).toMatchObject([{ code: 'causality' }]);
    expect(n.ledger.get('mine')).toBe('precious');

    // The victim's later writes still show everywhere.
    await victim.ledger.put('later', 'seen');
    await n.ledger.ingest(victim.log);
    expect(n.ledger.get('later')).toBe('seen');

    // Even within what the dependency held, a bare delete of a record (no new value or tombstone
    // for its key) would remove it without a trace: refused. Deletes go through a signed
    // tombstone, which shows up in removals() (see below).
    const bare = await sign(n, await keysFromByte(71), {
      lamport: 2,
      clock: 0,
      deps: dep,
      payload: deleteOnly(vClient, 0, 1)
    });
    expect((await n.ledger.ingest([bare])).rejected).toMatchObject([{ code: 'malformed-payload' }]);
    expect(n.ledger.get('mine')).toBe('precious');
  });
});

describe('issue 6 case 5: causal order', () => {
  it('holds an overwrite until the entry it overwrote is present; nothing vanishes meanwhile', async () => {
    const a = await openLedger(memoryLocation(), 3);
    await a.ledger.put('Y', 'a-y');
    await a.ledger.put('X', 'a-x');
    const b = await openLedger(memoryLocation(), 4);
    await b.ledger.ingest(a.log);
    await b.ledger.put('X', 'b-x');
    await b.ledger.put('Y', 'b-y');
    const bOwn = b.log.filter((h) => toHex(h.entry.author) === b.ledger.author);
    expect(bOwn[0].entry.deps).toEqual([{ author: a.ledger.author, seq: 2 }]);

    const n = await openLedger(memoryLocation(), 5);
    const deletes: string[] = [];
    n.ledger.subscribe((cs) => deletes.push(...cs.filter((c) => c.action === 'delete').map((c) => c.key)));
    const r = await n.ledger.ingest([a.log[0], ...bOwn]);
    expect(r.added).toBe(1);
    expect(n.ledger.records().map((x) => [x.key, x.value])).toEqual([['Y', 'a-y']]);
    expect(n.ledger.stats().pending).toBe(2);
    expect(deletes).toEqual([]);

    await n.ledger.ingest([a.log[1]]);
    expect(n.ledger.records().map((x) => [x.key, x.value])).toEqual([
      ['X', 'b-x'],
      ['Y', 'b-y']
    ]);
    expect(n.ledger.stats()).toMatchObject({
      pending: 0,
      yjsPending: false,
      stateDigest: b.ledger.stats().stateDigest
    });
  });
});

describe('issue 6 case 10: forks while pending', () => {
  it('two variants of a pending seq void the feed from there (not stuck); forks without a head are counted', async () => {
    const k = await keysFromByte(9);
    const n = await openLedger(memoryLocation(), 1);
    const c = clientOf(k);
    const one = await sign(n, k, { lamport: 1, clock: 1, payload: yUpdateAt('a', 1, c, 0) });
    const good = await sign(n, k, { seq: 2, prev: one.hash, lamport: 2, clock: 2, payload: yUpdateAt('b', 2, c, 1) });
    const bad = await sign(n, k, {
      seq: 2,
      prev: new Uint8Array(32).fill(7),
      lamport: 2,
      clock: 2,
      payload: yUpdateAt('b', 'other', c, 1)
    });
    expect(await n.ledger.ingest([bad])).toMatchObject({ pending: 1 });
    expect(await n.ledger.ingest([good])).toMatchObject({ forks: 1 });
    // Fork evidence for an author with no contiguous head yet is visible.
    expect(n.ledger.stats().forkedAuthors).toBe(1);
    // The author signed two entries at seq 2: its feed is void from 2 on every node (PROTOCOL.md
    // §6), whichever variant links; seq 1 still joins and is applied.
    expect(await n.ledger.ingest([one])).toMatchObject({ added: 1 });
    expect(n.ledger.heads()).toEqual([voidHead(toHex(k.publicKey), 2, { seq: 1, hash: toHex(one.hash) })]);
    expect(n.ledger.stats()).toMatchObject({ entries: 1, pending: 0 });
    expect([...n.ledger.doc.getMap('records').keys()]).toEqual(['a']);
    expect(await n.store.count()).toBe(1);
  });
});

describe('issue 6 case 6: compaction', () => {
  async function compacted() {
    const loc = memoryLocation();
    const t = await openLedger(loc, 12, { compactEvery: 0 });
    const other = await openLedger(memoryLocation(), 13);
    await other.ledger.put('theirs', 1);
    await t.ledger.ingest(other.log);
    for (let i = 0; i < 4; i++) await t.ledger.put(`k${i}`, i);
    await t.ledger.compact();
    await t.ledger.put('after', true);
    await t.ledger.close();
    return { loc, t };
  }

  it('a record forged into the stored compacted state, under an author who never signed, fails on open', async () => {
    const { loc } = await compacted();
    const c = loc.disk.compaction!;
    const forger = new Y.Doc({ gc: false });
    forger.clientID = 424242;
    forger.getMap('records').set('forged', { v: 'x', a: 'ab'.repeat(32), t: 0, l: 1 });
    const merged = Y.mergeUpdates([c.state, Y.encodeStateAsUpdate(forger)]);
    loc.disk.compaction = { ...c, state: merged };
    await expect(openLedger(loc, 12)).rejects.toMatchObject({ name: 'CorruptStoreError' });
    // Even with a matching digest, the seal (keyed by this node's identity) does not hold.
    const s = new LedgerState();
    s.loadState(merged);
    loc.disk.compaction = { ...c, state: merged, digest: s.digest() };
    await expect(openLedger(loc, 12)).rejects.toMatchObject({ name: 'CorruptStoreError' });
    loc.disk.compaction = c;
    await expect(openLedger(loc, 12)).resolves.toBeDefined();
  });

  it('a store sealed with the v1 seal (over the state hash) still opens; a swapped state under a kept seal does not', async () => {
    const { loc, t } = await compacted();
    const c = loc.disk.compaction!;
    const seed = t.keys.seed;
    const v1 = (x: typeof c): string =>
      toHex(
        hmac(
          nobleSha256,
          sha256(concatBytes(new TextEncoder().encode('tabula/compaction-seal/v1\u0000'), seed)),
          new TextEncoder().encode(JSON.stringify([toHex(sha256(x.state)), headsRoot(x.heads), x.digest ?? null, x.at]))
        )
      );
    loc.disk.compaction = { ...c, mac: v1(c) };
    await expect(openLedger(loc, 12)).resolves.toBeDefined();
    // The v2 seal binds the state through its digest: another state under the same seal and digest fails.
    const other = new Y.Doc({ gc: false });
    Y.applyUpdate(other, c.state);
    other.clientID = clientIdOf(t.ledger.author);
    other.getMap('records').set('k0', 'changed');
    loc.disk.compaction = { ...c, state: Y.encodeStateAsUpdate(other) };
    await expect(openLedger(loc, 12)).rejects.toMatchObject({ name: 'CorruptStoreError' });
    loc.disk.compaction = c;
  });

  it('a deleted heads row is found, not silently hiding that author', async () => {
    const { loc, t } = await compacted();
    const other = [...loc.disk.heads.keys()].find((a) => a !== t.ledger.author)!;
    const row = loc.disk.heads.get(other)!;
    loc.disk.heads.delete(other);
    await expect(openLedger(loc, 12)).rejects.toMatchObject({ name: 'CorruptStoreError' });
    loc.disk.heads.set(other, row);
    const again = await openLedger(loc, 12);
    expect(again.ledger.get('theirs')).toBe(1);
  });
});

describe('issue 6 case 4: all or nothing', () => {
  it('a payload whose second item names a non-type parent is refused before anything is applied', async () => {
    const n = await openLedger(memoryLocation(), 1);
    const evil = await keysFromByte(69);
    const c = clientOf(evil);
    const enc = encoding.createEncoder();
    encoding.writeVarUint(enc, 1);
    encoding.writeVarUint(enc, 2);
    encoding.writeVarUint(enc, c);
    encoding.writeVarUint(enc, 0);
    // item 0: records['first'] = 1 (a plain value, not a type)
    encoding.writeUint8(enc, 0x28);
    encoding.writeVarUint(enc, 1);
    encoding.writeVarString(enc, 'records');
    encoding.writeVarString(enc, 'first');
    encoding.writeVarUint(enc, 1);
    encoding.writeAny(enc, 1);
    // item 1: child of item 0, as if it were a map
    encoding.writeUint8(enc, 0x28);
    encoding.writeVarUint(enc, 0);
    encoding.writeVarUint(enc, c);
    encoding.writeVarUint(enc, 0);
    encoding.writeVarString(enc, 'child');
    encoding.writeVarUint(enc, 1);
    encoding.writeAny(enc, 2);
    encoding.writeVarUint(enc, 0);
    const before = n.ledger.stats().stateDigest;
    const h = await sign(n, evil, { lamport: 1, clock: 2, payload: encoding.toUint8Array(enc) });
    const r = await n.ledger.ingest([h]);
    expect(r.rejected).toMatchObject([{ code: 'malformed-payload' }]);
    expect(n.ledger.stats().stateDigest).toBe(before);
    expect(await n.store.count()).toBe(0);
    await honestAfter(n);
  });
});

describe('issue 6 case 7: snapshot import', () => {
  async function fileOf(entries: HashedEntry[], author: TestLedger): Promise<Uint8Array> {
    // A store holding exactly `entries` (as an honest-looking exporter's would).
    const src = await memoryLocation().open();
    await src.ingest(entries);
    const heads = await src.heads();
    return collectBytes(
      exportSnapshot({ genesis: author.ledger.genesis, store: src, exporter: author.ledger.author, heads })
    );
  }

  it('a file with a foreign struct in X#2 is refused whole: nothing stored, nothing pending', async () => {
    const x = await keysFromByte(70);
    const n = await openLedger(memoryLocation(), 1);
    const c = clientOf(x);
    const one = await sign(n, x, { lamport: 1, clock: 1, payload: yUpdateAt('a', 1, c, 0) });
    const two = await sign(n, x, { seq: 2, prev: one.hash, lamport: 2, clock: 2, payload: yUpdateAt('b', 2, 777, 1) });
    const three = await sign(n, x, { seq: 3, prev: two.hash, lamport: 3, clock: 3, payload: yUpdateAt('c', 3, c, 2) });
    const file = await fileOf([one, two, three], n);
    await expect(importLedgerSnapshot(n.ledger, file)).rejects.toMatchObject({ name: 'MalformedSnapshotError' });
    expect(await n.store.count()).toBe(0);
    expect(n.ledger.stats().pending).toBe(0);
  });

  it('a file whose X#2 does not link to its own X#1 is refused whole', async () => {
    const x = await keysFromByte(73);
    const n = await openLedger(memoryLocation(), 1);
    const c = clientOf(x);
    const one = await sign(n, x, { lamport: 1, clock: 1, payload: yUpdateAt('a', 1, c, 0) });
    const two = await sign(n, x, {
      seq: 2,
      prev: new Uint8Array(32).fill(3),
      lamport: 2,
      clock: 2,
      payload: yUpdateAt('b', 2, c, 1)
    });
    const file = await fileOf([one, two], n);
    await expect(importLedgerSnapshot(n.ledger, file)).rejects.toMatchObject({ name: 'MalformedSnapshotError' });
    expect(await n.store.count()).toBe(0);
  });

  it('a file whose X#2 breaks the causal rules is refused whole, and an honest one then imports', async () => {
    const x = await keysFromByte(71);
    const n = await openLedger(memoryLocation(), 1);
    const c = clientOf(x);
    const one = await sign(n, x, { lamport: 1, clock: 1, payload: yUpdateAt('a', 1, c, 0) });
    const two = await sign(n, x, { seq: 2, prev: one.hash, lamport: 99, clock: 2, payload: yUpdateAt('b', 2, c, 1) });
    const three = await sign(n, x, {
      seq: 3,
      prev: two.hash,
      lamport: 100,
      clock: 3,
      payload: yUpdateAt('c', 3, c, 2)
    });
    await expect(importLedgerSnapshot(n.ledger, await fileOf([one, two, three], n))).rejects.toMatchObject({
      name: 'MalformedSnapshotError'
    });
    expect(await n.store.count()).toBe(0);
    expect(n.ledger.stats().pending).toBe(0);
    const honest = await openLedger(memoryLocation(), 72);
    for (let i = 0; i < 3; i++) await honest.ledger.put(`h${i}`, i);
    const file = await collectBytes(exportLedgerSnapshot(honest.ledger, 'full'));
    expect(await importLedgerSnapshot(n.ledger, file)).toMatchObject({ added: 3, skipped: 0, rejected: 0 });
  });
});

describe('issue 6: overwrites and deletes of other authors records stay visible', () => {
  it('lists who removed which value of whom, and when; own rewrites are not listed', async () => {
    const a = await openLedger(memoryLocation(), 20);
    await a.ledger.put('k', 'a-value');
    await a.ledger.put('gone', { n: 1 });
    const b = await openLedger(memoryLocation(), 21);
    await b.ledger.ingest(a.log);
    await b.ledger.put('k', 'b-value');
    await b.ledger.put('k', 'b-again');
    await b.ledger.delete('gone');
    const expected = [
      { key: 'gone', by: b.ledger.author, deleted: true, author: a.ledger.author, value: { n: 1 } },
      { key: 'k', by: b.ledger.author, deleted: false, author: a.ledger.author, value: 'a-value' }
    ];
    expect(b.ledger.removals()).toMatchObject(expected);
    // Every replica derives the same list, from the entries alone.
    const c = await openLedger(memoryLocation(), 22);
    await c.ledger.ingest([...b.log].reverse());
    expect(c.ledger.removals()).toEqual(b.ledger.removals());
    expect(a.ledger.removals()).toEqual([]);
  });
});

describe('issue 6: an export never silently leaves out what its header claims', () => {
  it('a full export of a store missing an entry below a head fails with IncompleteExportError', async () => {
    const loc = memoryLocation();
    const t = await openLedger(loc, 30);
    for (let i = 0; i < 3; i++) await t.ledger.put(`k${i}`, i);
    loc.disk.entries.get(t.ledger.author)!.delete(2);
    await expect(collectBytes(exportLedgerSnapshot(t.ledger, 'full'))).rejects.toMatchObject({
      name: 'IncompleteExportError'
    });
  });
});
