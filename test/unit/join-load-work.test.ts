// Work a join's load does (issue 9, row 5: GC was ~40% of a cold join's CPU), without dropping a
// check:
// - remote and snapshot transactions make Yjs encode no 'update' (it re-encoded a whole loaded
//   state of megabytes, which nothing read); local writes still give their payloads and changes
//   still move the digest;
// - the canonical check (digest.ts encodesTo) encodes into one buffer and still tells a changed,
//   shorter or longer encoding apart;
// - the digest hashed while the state loads is used only for bytes that prove canonical: a
//   non-canonical encoding claimed under the hash of its own bytes is still refused;
// - conflict tracking describes each write of a key once per refresh, and finds the same removals.
import { beforeAll, describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import { networkId } from '../../src/lib/core/genesis.js';
import { LedgerState } from '../../src/lib/core/state/doc.js';
import { canonicalDigest, canonicalState, encodesTo } from '../../src/lib/core/state/digest.js';
import { ConflictLog, type DescribeWrite, type KeyWrite } from '../../src/lib/core/state/conflicts.js';
import { verifyJoinSnapshot } from '../../src/lib/core/join/verify.js';
import { decodeJoinSnapshot, encodeJoinSnapshot } from '../../src/lib/core/join/snapshot.js';
import { ledgerJoinSource } from '../../src/lib/core/join/ledger-source.js';
import type { ServedSnapshot } from '../../src/lib/core/join/server.js';
import { JoinMismatchError } from '../../src/lib/core/join/errors.js';
import { decodeJoinMessage, encodeJoinMessage } from '../../src/lib/core/join/codec.js';
import { authorKey } from '../helpers/ledger-state.js';
import { genesis, memoryLocation, mulberry, openLedger } from '../helpers/ledger-nodes.js';

const A = authorKey('a');
const B = authorKey('b');
const ctx = { networkId: networkId(genesis), genesis };

/** Counts the 'update' events Yjs builds on `doc` (it encodes one only when a listener exists). */
function countUpdates(doc: Y.Doc): { n: number } {
  const c = { n: 0 };
  const emit = doc.emit.bind(doc);
  doc.emit = ((name: string, args: unknown[]) => {
    if (name === 'update') c.n++;
    return (emit as (n: string, a: unknown[]) => void)(name, args);
  }) as typeof doc.emit;
  return c;
}

let snap: ServedSnapshot;
beforeAll(async () => {
  const server = await openLedger(memoryLocation(), 181, { compactEvery: 0 });
  const w = await openLedger(memoryLocation(), 182, { compactEvery: 0 });
  for (let i = 0; i < 40; i++) await w.ledger.put(`k${i % 9}`, { i, s: 'x'.repeat(i % 5) });
  await w.ledger.delete('k2');
  await server.ledger.ingest(w.log);
  await server.ledger.put('s', 'server');
  snap = (await ledgerJoinSource(server.ledger).snapshot())!;
}, 30_000);

describe('no update encoding for remote and snapshot transactions', () => {
  it('loadState and applyRemote encode no update; local writes still do, and the digest follows every change', () => {
    const writer = new LedgerState({ author: A });
    const payloads = [1, 2, 3].map((i) => writer.transactLocal((d) => d.getMap('records').set(`k${i}`, i))!);
    const s = new LedgerState({ author: B });
    const updates = countUpdates(s.doc);
    s.loadState(writer.encodeState());
    expect(updates.n).toBe(0);
    const d0 = s.digest();
    const more = writer.transactLocal((d) => d.getMap('records').set('k9', 9))!;
    expect(s.applyRemote(more, { author: A, seq: 4, lamport: 4, time: 0 }).changed).toBe(true);
    expect(s.applyRemote(payloads[0], { author: A, seq: 1, lamport: 1, time: 0 }).changed).toBe(false); // duplicate
    s.transactRemote(() => s.applyRemote(more, { author: A, seq: 4, lamport: 4, time: 0 }));
    expect(updates.n).toBe(0);
    const d1 = s.digest();
    expect(d1).not.toBe(d0);
    // A local write: its payload, then an app's own transaction (untracked), after remote ones.
    const untracked: Uint8Array[] = [];
    s.onUntrackedWrite((p) => untracked.push(p));
    const mine = s.transactLocal((d) => d.getMap('records').set('b', 1));
    expect(mine).toBeInstanceOf(Uint8Array);
    s.applyRemote(
      writer.transactLocal((d) => d.getMap('records').set('k8', 8))!,
      {
        author: A,
        seq: 5,
        lamport: 5,
        time: 0
      }
    );
    s.doc.transact(() => s.doc.getText('t').insert(0, 'hi'), 'editor-binding');
    expect(untracked).toHaveLength(1);
    expect(updates.n).toBe(2); // the two local transactions only
    expect(s.digest()).not.toBe(d1);
    const o = new LedgerState();
    o.applyRemote(mine!, { author: B, seq: 1, lamport: 1, time: 0 });
    o.applyRemote(untracked[0], { author: B, seq: 2, lamport: 2, time: 0 });
    expect(o.doc.getText('t').toString()).toBe('hi');
  });
});

describe('canonical check into one buffer', () => {
  it('accepts the canonical bytes and refuses a changed byte, one byte less or one more', () => {
    const s = new LedgerState();
    s.loadState(decodeJoinSnapshot(snap.body, genesis.maxEntryBytes).state);
    const canonical = canonicalState(s.doc);
    expect(encodesTo(s.doc, canonical)).toBe(true);
    const changed = canonical.slice();
    changed[changed.length >> 1] ^= 1;
    expect(encodesTo(s.doc, changed)).toBe(false);
    expect(encodesTo(s.doc, canonical.subarray(0, canonical.length - 1))).toBe(false); // outgrows the buffer
    const longer = new Uint8Array(canonical.length + 1);
    longer.set(canonical);
    expect(encodesTo(s.doc, longer)).toBe(false);
  });
});

describe('the digest hashed during the load', () => {
  it('a non-canonical encoding of the state, claimed under the hash of its own bytes, is refused', async () => {
    const body = decodeJoinSnapshot(snap.body, genesis.maxEntryBytes);
    // The same state with its first varuint (the client count) in a longer form: Yjs reads it.
    const padded = new Uint8Array(body.state.length + 1);
    expect(body.state[0]).toBeLessThan(0x80);
    padded[0] = body.state[0] | 0x80;
    padded[1] = 0;
    padded.set(body.state.subarray(1), 2);
    const probe = new LedgerState();
    probe.loadState(padded);
    expect(canonicalState(probe.doc)).toEqual(body.state);
    const forged = encodeJoinSnapshot({ heads: body.heads, state: padded });
    const claim = { ...snap.claim, stateDigest: canonicalDigest(padded) };
    const err = await verifyJoinSnapshot(forged, claim, ctx).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(JoinMismatchError);
    expect((err as Error).message).toMatch(/state digest differs/);
    // The honest body still verifies.
    await expect(verifyJoinSnapshot(snap.body, snap.claim, ctx)).resolves.toMatchObject({
      entries: snap.claim.entries
    });
  });
});

describe('conflict tracking work', () => {
  it('describes each write once per refresh; removals of alternating authors are all found', () => {
    const doc = new Y.Doc({ gc: false });
    const map = doc.getMap('records');
    const N = 50;
    for (let i = 0; i < N; i++) {
      doc.clientID = 100 + (i % 2);
      map.set('k', { w: i });
    }
    let calls = 0;
    const describe = (w: KeyWrite) => {
      calls++;
      return { author: `c${w.client}`, time: (w.raw as { w: number }).w };
    };
    const log = new ConflictLog(map, describe);
    expect(calls).toBeLessThanOrEqual(N);
    const removals = log.removals();
    expect(removals).toHaveLength(N - 1);
    expect(removals[0]).toMatchObject({ key: 'k', by: 'c101', author: 'c100', authorTime: 0, time: 1 });
    expect(log.conflicts()).toEqual([]);
    log.destroy();
  });
});

describe('join bodies and chunks are written into buffers of their size', () => {
  it('the body is one exact buffer and decodes back; a chunk message is its own size plus at most 32 bytes', () => {
    const body = decodeJoinSnapshot(snap.body, genesis.maxEntryBytes);
    const again = encodeJoinSnapshot(body);
    expect(again).toEqual(snap.body);
    expect(again.buffer.byteLength).toBe(again.length);
    const ev = [[body.heads[0], body.heads[0]]] as [Uint8Array, Uint8Array][];
    const withVoids = encodeJoinSnapshot({ ...body, evidence: ev });
    expect(withVoids.buffer.byteLength).toBe(withVoids.length);
    expect(decodeJoinSnapshot(withVoids, genesis.maxEntryBytes).evidence).toEqual(ev);
    const bytes = snap.body.subarray(0, 65_536);
    const msg = encodeJoinMessage({ t: 'chunk', rid: 2 ** 40, total: 2 ** 50, offset: 2 ** 45, bytes });
    expect(msg.buffer.byteLength).toBeLessThanOrEqual(bytes.length + 32);
    expect(decodeJoinMessage(msg)).toEqual({ t: 'chunk', rid: 2 ** 40, total: 2 ** 50, offset: 2 ** 45, bytes });
  });

  it('a chunk is decoded without encoding it again, and a non-canonical chunk is still refused', () => {
    const bytes = snap.body.subarray(0, 1000);
    const msg = encodeJoinMessage({ t: 'chunk', rid: 5, total: 9000, offset: 0, bytes });
    // rid 5 as a two-byte varuint (0x85 0x00): the same value, not the shortest form.
    const padded = new Uint8Array([msg[0], 0x85, 0x00, ...msg.subarray(2)]);
    expect(() => decodeJoinMessage(padded)).toThrow(/non-canonical varint/);
    const longer = new Uint8Array([...msg, 0]);
    expect(() => decodeJoinMessage(longer)).toThrow(/trailing bytes/);
    const cut = msg.subarray(0, msg.length - 1);
    expect(() => decodeJoinMessage(cut)).toThrow(/truncated|overruns/);
    const m = decodeJoinMessage(msg);
    expect(m.t === 'chunk' && m.bytes.buffer === msg.buffer).toBe(true); // a view: the joiner copies it
  });
});

/** The previous conflict tracking (string ids, one describe per use), as the reference. */
function reference(
  map: Y.Map<unknown>,
  key: string,
  describe: DescribeWrite
): { conflicts: unknown; removals: unknown } {
  const items: Y.Item[] = [];
  for (let it = map._map.get(key) ?? null; it !== null; it = it.left) {
    if (!(it instanceof Y.Item)) break;
    items.push(it);
  }
  items.reverse();
  const id = (c: number, k: number) => `${c}:${k}`;
  const w: { client: number; clock: number; origin: string | null; raw: unknown }[] = [];
  for (const it of items) {
    const content = it.content.getContent();
    for (let i = 0; i < it.length; i++) {
      const o = i === 0 ? it.origin : Y.createID(it.id.client, it.id.clock + i - 1);
      w.push({
        client: it.id.client,
        clock: it.id.clock + i,
        origin: o === null ? null : id(o.client, o.clock),
        raw: content[i]
      });
    }
  }
  const d = (i: number) => describe({ client: w[i].client, clock: w[i].clock, parent: -2, raw: w[i].raw });
  const index = new Map(w.map((x, i) => [id(x.client, x.clock), i]));
  const children: number[][] = Array.from({ length: w.length + 1 }, () => []);
  w.forEach((x, i) => children[(x.origin === null ? -1 : (index.get(x.origin) ?? -1)) + 1].push(i));
  const lastOf = (i: number) => {
    let n = i;
    for (let c = children[n + 1]; c.length > 0; c = children[n + 1]) n = c[c.length - 1];
    return n;
  };
  const conflicts = children
    .filter((k) => k.length >= 2)
    .map((k) => {
      const all = [d(k[k.length - 1]), ...k.slice(0, -1).map((c) => d(lastOf(c)))];
      return { key, authors: all.map((x) => x.author), times: all.map((x) => x.time) };
    });
  // Parents in the order their first child comes (a Map filled in write order), as before.
  const byParent = new Map<number, number[]>();
  w.forEach((x, i) => {
    const p = x.origin === null ? undefined : index.get(x.origin);
    if (p !== undefined) byParent.set(p, [...(byParent.get(p) ?? []), i]);
  });
  const removals = [...byParent].flatMap(([p, k]) =>
    k.length !== 1 || d(p).author === d(k[0]).author || d(p).deleted === true
      ? []
      : [{ key, by: d(k[0]).author, time: d(k[0]).time, author: d(p).author, authorTime: d(p).time }]
  );
  return { conflicts, removals };
}

describe('conflict tracking equals the previous algorithm', () => {
  it(`random concurrent histories of 4 writers (seeded): the same conflicts and removals`, () => {
    const totals = [0, 0];
    for (let seed = 1; seed <= 12; seed++) {
      const r = mulberry(seed);
      const writers = [1, 2, 3, 4].map((c) => {
        const d = new Y.Doc({ gc: false });
        d.clientID = c;
        return d;
      });
      for (let i = 0; i < 120; i++) {
        const d = writers[Math.floor(r() * 4)];
        const k = `k${Math.floor(r() * 4)}`;
        if (r() < 0.15) d.getMap('records').delete(k);
        else d.getMap('records').set(k, { t: i, del: r() < 0.1 });
        if (r() < 0.35) Y.applyUpdate(writers[Math.floor(r() * 4)], Y.encodeStateAsUpdate(d));
      }
      const doc = new Y.Doc({ gc: false });
      for (const d of writers) Y.applyUpdate(doc, Y.encodeStateAsUpdate(d));
      const map = doc.getMap('records');
      const describe: DescribeWrite = (w) => {
        const raw = w.raw as { t: number; del: boolean } | undefined;
        return { author: `c${w.client % 3}`, time: raw?.t ?? -1, value: raw, deleted: raw?.del === true };
      };
      const log = new ConflictLog(map, describe);
      const want = [...map._map.keys()].sort().map((k) => reference(map, k, describe));
      const conflicts = log.conflicts().map((c) => ({ key: c.key, authors: c.authors, times: c.times }));
      const removals = log
        .removals()
        .map((x) => ({ key: x.key, by: x.by, time: x.time, author: x.author, authorTime: x.authorTime }));
      expect(conflicts).toEqual(want.flatMap((x) => x.conflicts));
      expect(removals).toEqual(want.flatMap((x) => x.removals));
      totals[0] += conflicts.length;
      totals[1] += removals.length;
      log.destroy();
    }
    expect(totals[0]).toBeGreaterThan(10);
    expect(totals[1]).toBeGreaterThan(10);
  });
});
