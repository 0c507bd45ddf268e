// Snapshots of void feeds (PROTOCOL.md §9.2 evidence lines, §9.4): a full snapshot carries a void
// feed as its canonical part plus its evidence record, and the importer voids the feed the way
// ingest does. An attacker who edits such a file (fake evidence, a void head nobody proved, a
// collision between keys that do not share a clientID) gets the whole file refused with a typed
// error and nothing stored. The files below are real exports, edited line by line and re-framed
// (a valid trailer), so only the checks under test can refuse them.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { gunzipSync, gzipSync } from 'node:zlib';
import { sha256 as nobleSha256 } from '@noble/hashes/sha2.js';
import { toHex } from '../../src/lib/core/bytes.js';
import { encodeEntry } from '../../src/lib/core/entry.js';
import { headsRoot } from '../../src/lib/core/heads-digest.js';
import { voidHead } from '../../src/lib/core/void.js';
import { collectBytes, importSnapshot } from '../../src/lib/core/snapshot/index.js';
import { MemoryLedgerStore } from '../../src/lib/core/memory-store.js';
import { fromBase64, toBase64 } from '../../src/lib/core/snapshot/base64.js';
import { exportLedgerSnapshot, importLedgerSnapshot } from '../../src/lib/core/ledger-snapshots.js';
import type { FeedHead, HashedEntry } from '../../src/lib/core/types.js';
import { dexieLocation, genesis, ledgerView, memoryLocation, openLedger } from '../helpers/ledger-nodes.js';
import { voidFeeds } from '../helpers/void-feeds.js';

type Line = Record<string, unknown>;
let restore: () => void = () => undefined;
let F = ''; // the forking author (hex)
let A = ''; // one of the colliding pair
let H = ''; // an honest author
let forked: HashedEntry[] = [];
let colliding: HashedEntry[] = [];
let honest: HashedEntry[] = [];
let file: Uint8Array; // a full export of a node holding both kinds of void feed

beforeAll(async () => {
  const v = await voidFeeds(170);
  ({ forked, colliding, honest, restore } = v);
  ({ F, A, H } = v.authors);
  const x = await openLedger(memoryLocation(), 174, { compactEvery: 0 });
  await x.ledger.ingest([...forked, ...colliding, ...honest]);
  file = await collectBytes(exportLedgerSnapshot(x.ledger, 'full'));
  await x.ledger.close();
}, 30_000);

afterAll(() => restore());

function lines(bytes: Uint8Array): Line[] {
  return new TextDecoder()
    .decode(gunzipSync(bytes))
    .split('\n')
    .filter((l) => l.length > 0)
    .map((l) => JSON.parse(l) as Line);
}

/** Re-frames edited lines: entry count and hash of the trailer recomputed. */
function frame(ls: Line[]): Uint8Array {
  const body = ls.filter((l) => l.t !== 'end').map((l) => JSON.stringify(l) + '\n');
  const hash = nobleSha256(new TextEncoder().encode(body.join('')));
  const end = { t: 'end', entries: ls.filter((l) => l.t === 'entry').length, sha256: toHex(hash) };
  return gzipSync(new TextEncoder().encode(body.join('') + JSON.stringify(end) + '\n'));
}

function edit(fn: (ls: Line[]) => Line[]): Uint8Array {
  return frame(fn(lines(file)));
}

const header = (ls: Line[]) => ls[0] as Line & { heads: FeedHead[] };
const evidenceOf = (ls: Line[], author: string) => ls.find((l) => l.t === 'evidence' && l.author === author)!;
const b64 = (h: HashedEntry) => toBase64(encodeEntry(h.entry));

/** Replaces heads in the header (the heads root follows them). */
function setHeads(ls: Line[], change: (h: FeedHead) => FeedHead): Line[] {
  const heads = header(ls).heads.map(change);
  ls[0] = { ...ls[0], heads, headsRoot: headsRoot(heads) };
  return ls;
}

/** Imports into a fresh ledger: the typed error, and proof that nothing was stored. */
async function refused(bytes: Uint8Array): Promise<string> {
  const b = await openLedger(memoryLocation(), 175, { compactEvery: 0 });
  let err: Error | undefined;
  try {
    await importLedgerSnapshot(b.ledger, bytes);
  } catch (e) {
    err = e as Error;
  }
  expect(await b.store.count()).toBe(0);
  expect(await b.store.forks()).toEqual([]);
  expect(b.ledger.heads()).toEqual([]);
  await b.ledger.close();
  expect(err, 'the import should have been refused').toBeDefined();
  return `${err!.name}: ${err!.message}`;
}

describe('snapshot of void feeds: the file as exported', () => {
  it('carries each void feed as its canonical part plus one evidence line', () => {
    const ls = lines(file);
    expect(ls.filter((l) => l.t === 'evidence').map((l) => [l.author, l.seq])).toEqual(
      expect.arrayContaining([
        [F, 2],
        [A, 1]
      ])
    );
    // F is void from seq 2: only F#1 is an entry line; nothing of the colliding pair is.
    expect(ls.filter((l) => l.t === 'entry' && l.author === F).map((l) => l.seq)).toEqual([1]);
    expect(ls.filter((l) => l.t === 'entry' && l.author === A)).toEqual([]);
  });

  it('imports into a fresh profile with the same view, and the voids survive a reopen', async () => {
    const loc = memoryLocation();
    const b = await openLedger(loc, 176, { compactEvery: 0 });
    const r = await importLedgerSnapshot(b.ledger, file);
    expect(r).toMatchObject({ kind: 'full', added: 1 + honest.length, rejected: 0 });
    const view = ledgerView(b.ledger);
    expect(view.heads.find((h) => h.author === F)).toEqual(voidHead(F, 2, { seq: 1, hash: toHex(forked[0].hash) }));
    expect(b.ledger.forks().map((ev) => ev.author)).toEqual(expect.arrayContaining([F, A]));
    await b.ledger.close();
    const again = await openLedger(loc, 176, { compactEvery: 0 });
    expect(ledgerView(again.ledger)).toEqual(view);
    // Importing it again adds nothing and refuses nothing.
    expect(await importLedgerSnapshot(again.ledger, file)).toMatchObject({ added: 0, rejected: 0 });
    await again.ledger.close();
  });
});

describe('snapshot of void feeds: edited files are refused whole', () => {
  it('fork evidence whose two entries are one entry', async () => {
    const bytes = edit((ls) => {
      const ev = evidenceOf(ls, F);
      ev.b = ev.a;
      return ls;
    });
    expect(await refused(bytes)).toMatch(/^MalformedSnapshotError: .*one entry/);
  });

  it('fork evidence whose second entry is at another seq (not a twin)', async () => {
    const bytes = edit((ls) => {
      const ev = evidenceOf(ls, F);
      ev.b = b64(forked[2]); // F#3: validly signed, but not at seq 2
      return ls;
    });
    expect(await refused(bytes)).toMatch(/^MalformedSnapshotError: .*not at its seq/);
  });

  it('collision evidence between keys that do not share a clientID', async () => {
    const bytes = edit((ls) => {
      evidenceOf(ls, A).b = b64(honest[0]);
      return ls;
    });
    expect(await refused(bytes)).toMatch(/^MalformedSnapshotError: .*do not share a clientID/);
  });

  it('evidence with a forged signature', async () => {
    const bytes = edit((ls) => {
      const ev = evidenceOf(ls, F);
      const raw = fromBase64(ev.b as string, 'b');
      raw[raw.length - 1] ^= 1; // the last signature byte
      ev.b = toBase64(raw);
      return ls;
    });
    expect(await refused(bytes)).toMatch(/^MalformedSnapshotError: .*fails verification/);
  });

  it('a void head without its evidence line', async () => {
    const bytes = edit((ls) => ls.filter((l) => !(l.t === 'evidence' && l.author === F)));
    expect(await refused(bytes)).toMatch(/^MalformedSnapshotError: .*without its evidence/);
  });

  it('an honest feed claimed void (a void head the entries do not prove)', async () => {
    const bytes = edit((ls) =>
      setHeads(
        ls.filter((l) => !(l.t === 'entry' && l.author === H)),
        (h) => (h.author === H ? voidHead(H, 1) : h)
      )
    );
    expect(await refused(bytes)).toMatch(/^MalformedSnapshotError: .*without its evidence/);
  });

  it("another author's evidence passed off as an honest feed's", async () => {
    const bytes = edit((ls) => {
      const ev = evidenceOf(ls, F);
      ls.splice(ls.indexOf(ev) + 1, 0, { ...ev, author: H, seq: 1 });
      return setHeads(
        ls.filter((l) => !(l.t === 'entry' && l.author === H)),
        (h) => (h.author === H ? voidHead(H, 1) : h)
      );
    });
    expect(await refused(bytes)).toMatch(/^MalformedSnapshotError: .*first entry is not by the author/);
  });

  it('a void head moved to another fork seq than its evidence', async () => {
    const bytes = edit((ls) => setHeads(ls, (h) => (h.author === F ? voidHead(F, 1) : h)));
    expect(await refused(bytes)).toMatch(/^MalformedSnapshotError: .*(no void head|beyond the header heads)/);
  });

  it('a void head whose hash is not the void head hash', async () => {
    const bytes = edit((ls) => setHeads(ls, (h) => (h.author === F ? { ...h, hash: '00'.repeat(32) } : h)));
    // The hash binds the canonical top the file holds (void.ts): checked against its entries.
    expect(await refused(bytes)).toMatch(/^MalformedSnapshotError: .*do not reach the canonical top/);
  });

  it('collision evidence while the header keeps the other key live', async () => {
    const other = toHex(colliding[2].entry.author);
    const bytes = edit((ls) =>
      setHeads(
        ls.filter((l) => !(l.t === 'evidence' && l.author === other)),
        (h) => (h.author === other ? { author: other, seq: 2, hash: toHex(colliding[3].hash) } : h)
      )
    );
    expect(await refused(bytes)).toMatch(/^MalformedSnapshotError: .*does not void the colliding key/);
  });

  it('canonical entries of a void feed at or above its fork', async () => {
    const bytes = edit((ls) => {
      const at = ls.findIndex((l) => l.t === 'entry' && l.author === F);
      const e = forked[1];
      ls.splice(at + 1, 0, { t: 'entry', author: F, seq: 2, hash: toHex(e.hash), bytes: b64(e) });
      return ls;
    });
    expect(await refused(bytes)).toMatch(/^MalformedSnapshotError: .*beyond the header heads/);
  });
});

describe('snapshot of void feeds: bounds and targets', () => {
  const target = () => ({ genesis, store: new MemoryLedgerStore() });
  const entryCount = () => lines(file).reduce((n, l) => n + (l.t === 'entry' ? 1 : l.t === 'evidence' ? 2 : 0), 0);

  it('both entries of each evidence line count against the entries bound', async () => {
    const n = entryCount();
    await expect(importSnapshot(file, target(), { maxEntries: n - 1 })).rejects.toMatchObject({
      name: 'SnapshotTooLargeError'
    });
    // Within the bound, a bare store cannot record evidence: the file is refused, not half imported.
    const store = new MemoryLedgerStore();
    await expect(importSnapshot(file, { genesis, store }, { maxEntries: n })).rejects.toMatchObject({
      name: 'MalformedSnapshotError'
    });
    expect(await store.count()).toBe(0);
  });
});

describe('Ledger.ingest with declared evidence', () => {
  it('refuses evidence that does not hold, storing nothing', async () => {
    const b = await openLedger(memoryLocation(), 177, { compactEvery: 0 });
    const fake = { author: F, seq: 2, a: forked[1], b: forked[2], detectedAt: 0 };
    await expect(b.ledger.ingest(honest, { atomic: true, evidence: [fake] })).rejects.toMatchObject({
      name: 'CausalityError'
    });
    expect(await b.store.count()).toBe(0);
    expect(b.ledger.forks()).toEqual([]);
    await b.ledger.close();
  });
});

describe('light snapshot of void feeds (PROTOCOL.md §9.2: the light header of a void head)', () => {
  async function lightFile(): Promise<Uint8Array> {
    const x = await openLedger(memoryLocation(), 178, { compactEvery: 0 });
    await x.ledger.ingest([...forked, ...colliding, ...honest]);
    const bytes = await collectBytes(exportLedgerSnapshot(x.ledger, 'light'));
    await x.ledger.close();
    return bytes;
  }

  it("carries a void head's canonical header: F's last canonical entry, 0 and 0 for a void from seq 1", async () => {
    const hs = (lines(await lightFile())[0].headers as { author: string; lamport: number; clock: number }[]).map(
      (x) => [x.author, x.lamport, x.clock]
    );
    expect(hs).toContainEqual([F, forked[0].entry.lamport, forked[0].entry.clock]);
    expect(hs).toContainEqual([A, 0, 0]);
  });

  for (const [where, location] of [
    ['memory', memoryLocation],
    ['dexie', dexieLocation]
  ] as const)
    it(`${where}: the importer keeps the void heads through a compaction and a reopen, and takes nothing past a fork`, async () => {
      const light = await lightFile();
      const loc = location();
      const b = await openLedger(loc, 179, { compactEvery: 0 });
      await importLedgerSnapshot(b.ledger, light);
      const view = ledgerView(b.ledger);
      expect(view.heads.find((h) => h.author === F)).toEqual(voidHead(F, 2, { seq: 1, hash: toHex(forked[0].hash) }));
      expect(b.ledger.stats().entries).toBe(1 + honest.length); // F#1 and H's, not the void parts
      await b.ledger.put('mine', 'x');
      await b.ledger.compact();
      await b.ledger.close();
      const again = await openLedger(loc, 179, { compactEvery: 0 });
      const after = ledgerView(again.ledger);
      expect(after.heads.filter((h) => h.author !== toHex(again.keys.publicKey))).toEqual(view.heads);
      const r = await again.ledger.ingest([forked[1], forked[2], forked[3]]);
      expect(r.added).toBe(0);
      expect(ledgerView(again.ledger)).toEqual(after);
      await again.ledger.close();
    });

  for (const [what, change] of [
    ['a lamport below its canonical part', (x: Line) => (x.author === F ? { ...x, lamport: 0 } : x)],
    ['a non-zero header for a void from seq 1', (x: Line) => (x.author === A ? { ...x, clock: 5 } : x)],
    ['a clock beyond the clock space', (x: Line) => (x.author === F ? { ...x, clock: 2 ** 52 } : x)]
  ] as const) {
    it(`refuses a light header with ${what}`, async () => {
      const ls = lines(await lightFile());
      ls[0] = { ...ls[0], headers: (ls[0].headers as Line[]).map(change) };
      expect(await refused(frame(ls))).toMatch(/^MalformedSnapshotError: .*does not match its head/);
    });
  }

  it('a void head written into the heads table of a store is CorruptStoreError on open', async () => {
    const loc = memoryLocation();
    const b = await openLedger(loc, 180, { compactEvery: 0 });
    await b.ledger.ingest(honest);
    await b.ledger.close();
    loc.disk.heads.set(H, voidHead(H, 1));
    await expect(openLedger(loc, 180, { compactEvery: 0 })).rejects.toMatchObject({ name: 'CorruptStoreError' });
  });
});

describe('incremental snapshots and void feeds', () => {
  it('a fork after the earlier snapshot travels as its evidence; an unchanged void head adds nothing', async () => {
    const x = await openLedger(memoryLocation(), 181, { compactEvery: 0 });
    await x.ledger.ingest([forked[0], ...honest]);
    const y = await openLedger(memoryLocation(), 182, { compactEvery: 0 });
    await importLedgerSnapshot(y.ledger, await collectBytes(exportLedgerSnapshot(x.ledger, 'full')));
    const before = x.ledger.heads();
    await x.ledger.ingest(forked.slice(1));
    const inc = await collectBytes(exportLedgerSnapshot(x.ledger, 'incremental', before));
    expect(
      lines(inc)
        .filter((l) => l.t === 'evidence' || l.t === 'entry')
        .map((l) => [l.t, l.seq])
    ).toEqual([['evidence', 2]]);
    expect(await importLedgerSnapshot(y.ledger, inc)).toMatchObject({ added: 0, rejected: 0 });
    expect(ledgerView(y.ledger)).toEqual(ledgerView(x.ledger));
    const again = await collectBytes(exportLedgerSnapshot(x.ledger, 'incremental', x.ledger.heads()));
    expect(lines(again).filter((l) => l.t === 'evidence' || l.t === 'entry')).toEqual([]);
    expect(await importLedgerSnapshot(y.ledger, again)).toMatchObject({ added: 0, rejected: 0 });
    expect(ledgerView(y.ledger)).toEqual(ledgerView(x.ledger));
    await x.ledger.close();
    await y.ledger.close();
  });
});
