// Review (s24) of Ledger.shown (ledger-read-window.test.ts): readers of heads()/head()/stats()
// around an ingest step. Four findings against its first version, each failing there:
// 1. an ingest failing after the store write rebuilt memory with the snapshot still set, so the
//    sync engine, reset from heads() by the rebuild, got the heads from before the batch and kept
//    asking for entries it held;
// 2. entries planFeeds took and the causal rules then refused showed as heads while the FeedSet
//    was being rebuilt from the store (there before the snapshot too);
// 3. stats() took entries from the snapshot and pending from the moved FeedSet (3 held entries
//    vanished from entries + pending);
// 4. record subscribers, called while the batch is applied, read head() from before it.
// Fixed: the snapshot belongs to one FeedSet (void once it is replaced), holds pending and forked
// counts too, and ends just before the batch is applied, or, when the FeedSet took refused
// entries, once it is rebuilt from the store.
import { describe, expect, it } from 'vitest';
import { createEntry } from '../../src/lib/core/entry.js';
import { toHex } from '../../src/lib/core/bytes.js';
import { clientIdOf } from '../../src/lib/core/state/client-id.js';
import { ledgerReplica } from '../../src/lib/core/sync/ledger-replica.js';
import type { FeedHead, HashedEntry, IdentityKeys } from '../../src/lib/core/types.js';
import { keysFromByte } from '../helpers/ledger-fixtures.js';
import { memoryLocation, openLedger } from '../helpers/ledger-nodes.js';
import { GatedHeadsStore, GatedIngestStore } from '../helpers/gated-store.js';
import { encodeYUpdate, type YStruct } from '../fuzz/kit.js';

async function entryOf(keys: IdentityKeys, struct: YStruct, networkId: Uint8Array): Promise<HashedEntry> {
  const client = clientIdOf(toHex(keys.publicKey));
  const payload = encodeYUpdate({ sections: [{ client, clock: 0, structs: [struct] }], deletes: [] });
  return createEntry({ keys, seq: 1, prev: new Uint8Array(32), lamport: 1, time: 1, clock: 1, payload }, networkId);
}

describe('review s24: heads around an ingest', () => {
  it('a refused entry of the batch never shows as a head (the resync after the window)', async () => {
    const store = new GatedHeadsStore();
    const b = await openLedger(memoryLocation(), 2, { store });
    const evil = await keysFromByte(81);
    // A keyless item in the records map: planFeeds takes it, admitCausal refuses it (feedsStale).
    const bad = await entryOf(evil, { parent: 'records', content: { k: 'any', values: ['x'] } }, b.ledger.networkId);
    store.gate.hold();
    const ingest = b.ledger.ingest([bad]);
    await store.gate.started; // ingestVerified awaits resyncFeeds: the window is closed already
    const during = {
      heads: b.ledger.heads(),
      head: b.ledger.head(toHex(evil.publicKey)),
      entries: b.ledger.stats({ digest: false }).entries
    };
    store.gate.letGo();
    const report = await ingest;
    expect(report.rejected.map((r) => r.code)).toEqual(['malformed-payload']);
    expect(await b.store.count()).toBe(0);
    expect(b.ledger.heads()).toEqual([]);
    // Heads and counts never lead the records: the refused, unstored entry must not show.
    expect(during).toEqual({ heads: [], head: undefined, entries: 0 });
    await b.ledger.close();
  });

  it('sync is told the heads the rebuilt ledger holds when an ingest fails after storing', async () => {
    const a = await openLedger(memoryLocation(), 1);
    await a.ledger.transact(() => {
      a.ledger.registerType('notes', 'array').push(['hello']);
    });
    const b = await openLedger(memoryLocation(), 2);
    // An app observer that throws (an app bug): the batch is stored, its apply throws, and the
    // ledger rebuilds from the store inside the ingest step (Ledger.shown still set).
    b.ledger.registerType('notes', 'array').observe(() => {
      throw new Error('app observer bug');
    });
    const resets: FeedHead[][] = [];
    const off = ledgerReplica(b.ledger).onHeadsChanged((heads, reset) => {
      if (reset === true) resets.push(heads);
    });
    await b.ledger.ingest(a.log).catch(() => undefined);
    expect(await b.store.count()).toBe(1);
    expect(b.ledger.heads()).toEqual(a.ledger.heads()); // the rebuilt ledger holds the entry
    // The sync engine's heads tree was reset from heads() inside the window: it must match.
    expect(resets.length).toBeGreaterThan(0);
    expect(resets.at(-1)).toEqual(b.ledger.heads());
    off();
    await a.ledger.close();
    await b.ledger.close();
  });

  it('(low) stats(): entries + pending do not drop during the window', async () => {
    const a = await openLedger(memoryLocation(), 1);
    for (let i = 0; i < 4; i++) await a.ledger.put(`k${i}`, i);
    const store = new GatedIngestStore();
    const b = await openLedger(memoryLocation(), 2, { store });
    await b.ledger.ingest(a.log.slice(1)); // 3 entries held for entry 1
    const total = (s: { entries: number; pending: number }) => s.entries + s.pending;
    expect(total(b.ledger.stats({ digest: false }))).toBe(3);
    store.gate.hold();
    const p = b.ledger.ingest(a.log.slice(0, 1));
    await store.gate.started;
    const during = b.ledger.stats({ digest: false }); // entries from the snapshot, pending live
    store.gate.letGo();
    await p;
    expect(total(b.ledger.stats({ digest: false }))).toBe(4);
    expect(total(during)).toBeGreaterThanOrEqual(3);
    await a.ledger.close();
    await b.ledger.close();
  });

  it('(low) a record subscriber reading head() sees the head of the records it was told about', async () => {
    const a = await openLedger(memoryLocation(), 1);
    await a.ledger.put('k', 1);
    const b = await openLedger(memoryLocation(), 2);
    const seen: { records: number; head: number }[] = [];
    b.ledger.subscribe(() =>
      seen.push({ records: b.ledger.records().length, head: b.ledger.head(a.ledger.author)?.seq ?? 0 })
    );
    await b.ledger.ingest(a.log);
    expect(seen).toEqual([{ records: 1, head: 1 }]);
    await a.ledger.close();
    await b.ledger.close();
  });
});
