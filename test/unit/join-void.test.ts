// Join snapshots of a node holding void feeds (PROTOCOL.md §13.4 format 2): the body carries each
// void feed's last canonical entry and its evidence record, the joiner recomputes the void heads
// from the evidence and installs the same heads, records and digest. A server that edits the
// evidence (not a twin, keys that do not share a clientID, one key of a collision, a void nobody
// proved) is caught by the bytes: JoinMismatchError, nothing installed.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { toHex } from '../../src/lib/core/bytes.js';
import { encodeEntry } from '../../src/lib/core/entry.js';
import { networkId } from '../../src/lib/core/genesis.js';
import { voidHead } from '../../src/lib/core/void.js';
import { decodeJoinSnapshot, encodeJoinSnapshot } from '../../src/lib/core/join/snapshot.js';
import { verifyJoinSnapshot } from '../../src/lib/core/join/verify.js';
import { installJoinSnapshot, ledgerClaim, ledgerJoinSource } from '../../src/lib/core/join/ledger-source.js';
import type { ServedSnapshot } from '../../src/lib/core/join/server.js';
import type { HashedEntry } from '../../src/lib/core/types.js';
import { genesis, ledgerView, memoryLocation, openLedger } from '../helpers/ledger-nodes.js';
import { voidFeeds } from '../helpers/void-feeds.js';
import { assertByteFlipsRefused } from '../helpers/join-mutation.js';

const SEED = Number(process.env.SEED ?? Date.now() % 2 ** 31);
let restore: () => void = () => undefined;
let forked: HashedEntry[] = [];
let colliding: HashedEntry[] = [];
let honest: HashedEntry[] = [];
let snap: ServedSnapshot;
const ctx = { networkId: networkId(genesis), genesis };
const enc = (h: HashedEntry) => encodeEntry(h.entry);

beforeAll(async () => {
  ({ forked, colliding, honest, restore } = await voidFeeds(150));
  const server = await openLedger(memoryLocation(), 154, { compactEvery: 0 });
  await server.ledger.ingest([...forked, ...colliding, ...honest]);
  snap = (await ledgerJoinSource(server.ledger).snapshot())!;
  expect(snap.claim).toEqual(ledgerClaim(server.ledger));
  await server.ledger.close();
}, 30_000);

afterAll(() => restore());

describe('join snapshot of a node holding void feeds', () => {
  it('verifies, installs into an empty ledger with the same view, and re-verification agrees', async () => {
    const v = await verifyJoinSnapshot(snap.body, snap.claim, ctx);
    expect(v.entries).toBe(1 + honest.length); // F#1 and the honest feed; nothing of the void parts
    const F = toHex(forked[0].entry.author);
    const top = { seq: 1, hash: toHex(forked[0].hash) };
    expect(v.heads).toContainEqual(voidHead(F, 2, top));
    expect(v.headers).toContainEqual({
      author: F,
      seq: voidHead(F, 2).seq,
      lamport: forked[0].entry.lamport,
      clock: forked[0].entry.clock,
      top: 1,
      topHash: top.hash
    });
    const ref = await openLedger(memoryLocation(), 155, { compactEvery: 0 });
    await ref.ledger.ingest([...forked, ...colliding, ...honest]);
    const joined = await openLedger(memoryLocation(), 156, { compactEvery: 0 });
    const verdict = {
      verified: true,
      by: 'quorum' as const,
      asked: 3,
      agreeing: 3,
      claim: snap.claim,
      checkpoint: null
    };
    await installJoinSnapshot(joined.ledger, v, verdict);
    const a = ledgerView(ref.ledger);
    const b = ledgerView(joined.ledger);
    expect({ heads: b.heads, records: b.records, digest: b.digest }).toEqual({
      heads: a.heads,
      records: a.records,
      digest: a.digest
    });
    expect(ledgerClaim(joined.ledger)).toEqual(snap.claim);
    // The joined node takes nothing past a fork, and writes on top of what it loaded.
    expect((await joined.ledger.ingest(forked.slice(1))).added).toBe(0);
    const mine = await joined.ledger.put('kh1', 'edited after join');
    expect((await ref.ledger.ingest([enc(mine)])).added).toBe(1);
    // An entry that builds on the void feed's last canonical entry (F#1): its header came with the join.
    const over = await ref.ledger.put('kf1', 'over F#1');
    expect(over.entry.deps).toContainEqual({ author: F, seq: 1 });
    const r = await joined.ledger.ingest([enc(over)]);
    expect(r.added, JSON.stringify(r)).toBe(1);
    expect(joined.ledger.get('kf1')).toBe('over F#1');
    await ref.ledger.close();
    await joined.ledger.close();
  });

  it('the body is format 2, and it re-encodes to the same bytes', () => {
    expect(snap.body[0]).toBe(2);
    const body = decodeJoinSnapshot(snap.body, genesis.maxEntryBytes);
    expect(body.evidence).toHaveLength(3); // F, and each key of the colliding pair
    expect(encodeJoinSnapshot(body)).toEqual(snap.body);
  });

  const edits: [string, (b: ReturnType<typeof decodeJoinSnapshot>) => void, RegExp][] = [
    [
      'fork evidence whose two entries are one entry',
      (b) => (b.evidence![fIdx(b)][1] = b.evidence![fIdx(b)][0]),
      /one entry/
    ],
    ['fork evidence at two seqs (not a twin)', (b) => (b.evidence![fIdx(b)][1] = enc(forked[2])), /not at its seq/],
    [
      'collision evidence between keys that do not share a clientID',
      (b) => (b.evidence![cIdx(b)][1] = enc(honest[0])),
      /share a clientID/
    ],
    ['a collision that voids one of its keys only', (b) => b.evidence!.splice(otherIdx(b), 1), /only one of its keys/],
    ['a void feed without its evidence', (b) => b.evidence!.splice(fIdx(b), 1), /heads root differs|lacks its last/],
    [
      'an honest feed voided with fake evidence',
      (b) => {
        b.heads = b.heads.filter((h) => !h.every((x, i) => x === enc(honest[1])[i]));
        b.evidence!.push([enc(honest[0]), enc(honest[1])]);
      },
      /not at its seq|ascending/
    ],
    [
      // Its void head binds the canonical top (void.ts): without it, the body claims k = 0.
      'a void feed without its last canonical entry',
      (b) => b.heads.splice(headIdx(b, forked[0]), 1),
      /heads root differs/
    ],
    ['a forged signature in the evidence', (b) => (b.evidence![fIdx(b)][1] = flipLast(b.evidence![fIdx(b)][1])), /.*/]
  ];
  for (const [what, edit, why] of edits) {
    it(`refuses ${what}`, async () => {
      const body = decodeJoinSnapshot(snap.body, genesis.maxEntryBytes);
      edit(body);
      const bytes = encodeJoinSnapshot(body);
      const err = await verifyJoinSnapshot(bytes, snap.claim, ctx).then(
        () => undefined,
        (e: Error) => e
      );
      expect(err?.name).toBe('JoinMismatchError');
      expect(err?.message).toMatch(why);
    });
  }

  it('a changed byte of the format 2 body fails with JoinMismatchError only', async () => {
    console.log(`join-void mutation SEED=${SEED}`);
    await assertByteFlipsRefused(snap.body, snap.claim, ctx, SEED);
  });
});

const authorOf = (raw: Uint8Array) => toHex(raw.subarray(9, 41));
const F = () => toHex(forked[0].entry.author);
const fIdx = (b: ReturnType<typeof decodeJoinSnapshot>) => b.evidence!.findIndex(([a]) => authorOf(a) === F());
const cIdx = (b: ReturnType<typeof decodeJoinSnapshot>) =>
  b.evidence!.findIndex(([a]) => authorOf(a) === toHex(colliding[0].entry.author));
const otherIdx = (b: ReturnType<typeof decodeJoinSnapshot>) =>
  b.evidence!.findIndex(([a]) => authorOf(a) === toHex(colliding[2].entry.author));
const headIdx = (b: ReturnType<typeof decodeJoinSnapshot>, h: HashedEntry) =>
  b.heads.findIndex((x) => toHex(x) === toHex(enc(h)));
function flipLast(raw: Uint8Array): Uint8Array {
  const out = new Uint8Array(raw);
  out[out.length - 1] ^= 1;
  return out;
}
