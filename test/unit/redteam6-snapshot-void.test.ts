// Red team 6: a careful user exports a full snapshot from a node holding void feeds (a fork, and a
// clientID collision), and imports it into a fresh profile. The import must succeed (all or
// nothing, honestly reported), and the fresh node must reach the exporter's heads, records and
// digest: a snapshot "never silently leaves out what its header claims".
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { collectBytes } from '../../src/lib/core/snapshot/index.js';
import { exportLedgerSnapshot, importLedgerSnapshot } from '../../src/lib/core/ledger-snapshots.js';
import { ledgerJoinSource } from '../../src/lib/core/join/ledger-source.js';
import type { HashedEntry } from '../../src/lib/core/types.js';
import type { Ledger } from '../../src/lib/core/ledger.js';
import { ledgerView, memoryLocation, openLedger } from '../helpers/ledger-nodes.js';
import { voidFeeds } from '../helpers/void-feeds.js';

let restore: () => void = () => undefined;
let forked: HashedEntry[] = [];
let colliding: HashedEntry[] = [];
let honest: HashedEntry[] = [];

beforeAll(async () => {
  ({ forked, colliding, honest, restore } = await voidFeeds(190));
}, 30_000);

afterAll(() => restore());

const view = (l: Ledger) => ({ ...ledgerView(l), stale: l.stats().staleVoids });

describe('redteam6: full snapshot of a node with void feeds', () => {
  for (const [name, pick] of [
    ['a fork', () => [...forked, ...honest]],
    ['a clientID collision', () => [...colliding, ...honest]]
  ] as const) {
    // Input: a node holding a void feed (a fork of a fresh key: two signatures; or a colliding
    //   pair) exports a FULL snapshot (the worker's "export" button: exportSnapshotFile).
    // Expected: the export succeeds and a fresh profile importing it reaches the same view.
    // Was: IncompleteExportError "the store lacks entry N of <author> (head 9007199254740989);
    //   export a light snapshot instead": snapshot/export.ts walks every head from seq 1 to the head
    //   seq, and a void head's seq is VOID_HEAD_BASE - s. Void feeds spread to every node, so one
    //   fork anywhere makes full export fail on every node, for good.
    // Fixed: a void feed is exported as its canonical part (1..s-1) plus an evidence line (PROTOCOL.md
    //   §9.2), which import checks and records in the same all-or-nothing ingest (§9.4).
    it(`${name}: export, import into a fresh profile, same view`, async () => {
      const a = await openLedger(memoryLocation(), 194, { compactEvery: 0 });
      await a.ledger.ingest(pick());
      const bytes = await collectBytes(exportLedgerSnapshot(a.ledger, 'full'));
      const b = await openLedger(memoryLocation(), 195, { compactEvery: 0 });
      const r = await importLedgerSnapshot(b.ledger, bytes);
      expect(r.rejected).toBe(0);
      expect(view(b.ledger)).toEqual(view(a.ledger));
      await a.ledger.close();
      await b.ledger.close();
    });
  }

  // Input: the same node exports a LIGHT snapshot; a fresh profile imports it.
  // Expected: the import succeeds with the exporter's records, digest and heads.
  // Was: MalformedSnapshotError "header: header 0 does not match its head": the light header of
  //   a void head is voidedHeader() (lamport = canonical + a few + 2^32), and checkHeadHeaders
  //   (snapshot/header.ts) requires lamport >= seq, where a void head's seq is ~2^53. So the
  //   exporter writes a file no node can import: with any void feed on the network, neither
  //   snapshot kind round-trips.
  // Fixed: a void head's light header is its feed's last canonical entry's (PROTOCOL.md §9.2).
  it('a light snapshot of a node with a void feed imports into a fresh profile with the same records, digest and heads', async () => {
    const a = await openLedger(memoryLocation(), 197, { compactEvery: 0 });
    await a.ledger.ingest([...forked, ...colliding, ...honest]);
    const bytes = await collectBytes(exportLedgerSnapshot(a.ledger, 'light'));
    const b = await openLedger(memoryLocation(), 198, { compactEvery: 0 });
    await importLedgerSnapshot(b.ledger, bytes);
    const va = view(a.ledger);
    const vb = view(b.ledger);
    expect({ records: vb.records, digest: vb.digest, heads: vb.heads }).toEqual({
      records: va.records,
      digest: va.digest,
      heads: va.heads
    });
    await a.ledger.close();
    await b.ledger.close();
  });

  // Input: the same node serving joins (PROTOCOL.md §13.6, ledgerJoinSource).
  // Expected: a replica that holds every entry it needs can serve a join.
  // Was: headEntries() finds no entry at a void head, so snapshot() is undefined: a single
  //   cheap fork that gossip spreads to every node disables join serving network-wide (the code
  //   says so: "such a replica serves no join (the joiner then catches up by sync)").
  // Fixed: the join body (format 2, PROTOCOL.md §13.4) carries each void feed's last canonical entry
  //   and its evidence; the joiner recomputes the void heads from it (test/unit/join-void.test.ts).
  it('a node holding a void feed still serves joins', async () => {
    const a = await openLedger(memoryLocation(), 196, { compactEvery: 0 });
    await a.ledger.ingest(honest);
    expect(await ledgerJoinSource(a.ledger).snapshot()).toBeDefined(); // serves before the fork
    await a.ledger.ingest(forked);
    expect(await ledgerJoinSource(a.ledger, { rebuildMs: 0 }).snapshot()).toBeDefined();
    await a.ledger.close();
  });
});
