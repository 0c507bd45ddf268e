// Seeded random interleavings of the direct write path (untracked-writes.ts) with everything else
// the queue runs: puts and transacts (some awaited, some not), direct inserts and deletes on a
// registered text (some with Y.applyUpdate) and the `Ledger.doc` records map (some refused by the local rules), ingest of
// another author's entries (which direct inserts then reference: deps), compact(), reload(), and
// a store whose commits are sometimes slow or fail, so direct changes land while a step is half done.
// Invariant (issue 6, "stored = shown"): once the queue is idle, a reopen from the store shows
// exactly what the live node showed (digest, records, text, entries), and every direct change
// was counted once: stats().untracked.signed + undone = the direct changes made.
import { describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import { MemoryDisk, MemoryLedgerStore } from '../../src/lib/core/memory-store.js';
import type { HashedEntry } from '../../src/lib/core/types.js';
import type { Ledger } from '../../src/lib/core/ledger.js';
import { networkId } from '../../src/lib/core/genesis.js';
import { makeChain } from '../helpers/ledger-fixtures.js';
import { genesis, memoryLocation, mulberry, openLedger } from '../helpers/ledger-nodes.js';

const budget = (l: Ledger) => (l as unknown as { rebuildBudget: { record(ms: number): void } }).rebuildBudget;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function run(seed: number, steps: number): Promise<void> {
  const rand = mulberry(seed);
  const pick = (n: number) => Math.floor(rand() * n);
  const disk = new MemoryDisk();
  const store = new MemoryLedgerStore({ disk });
  const starve = pick(2) === 0;
  const voidRebuild = { share: 0.1, windowMs: 60_000, now: () => 0 };
  const A = await openLedger(memoryLocation(disk), 61, { store, compactEvery: 0, voidRebuild });
  let forked = false;
  const B = await openLedger(memoryLocation(), 62, { compactEvery: 0 });
  A.ledger.registerType('t', 'text');
  B.ledger.registerType('t', 'text');
  const append = store.appendLocal.bind(store);
  const appendBatch = store.appendLocalBatch.bind(store);
  let slow = 0;
  let faults = 0; // the next local commits that fail (a full disk): their writes are refused
  const fault = () => {
    if (faults === 0) return;
    faults--;
    throw Object.assign(new Error('injected'), { name: 'InjectedFault' });
  };
  store.appendLocal = async (h) => {
    if (slow > 0) await sleep(slow);
    fault();
    return append(h);
  };
  store.appendLocalBatch = async (hs) => {
    if (slow > 0) await sleep(slow);
    fault();
    return appendBatch(hs);
  };
  const pending: Promise<unknown>[] = [];
  const failed: string[] = [];
  const fail = (e: unknown) => void ((e as Error).name !== 'InjectedFault' && failed.push((e as Error).name));
  const later = (p: Promise<unknown>) => pending.push(p.catch(fail));
  let direct = 0;
  let shipped = 0;
  const trace: string[] = [];
  for (let i = 0; i < steps; i++) {
    const op = pick(13);
    trace.push(String(op));
    const text = A.ledger.doc.getText('t');
    switch (op) {
      case 0:
      case 1:
        later(A.ledger.put(`k${pick(6)}`, i));
        break;
      case 2:
        await A.ledger.put(`k${pick(6)}`, i).catch(fail);
        break;
      case 3:
        later(A.ledger.transact((doc) => doc.getText('t').insert(pick(doc.getText('t').length + 1), `T${i}`)));
        break;
      case 4:
      case 5:
        text.insert(pick(text.length + 1), `d${i}`);
        direct++;
        break;
      case 6:
        if (text.length > 0 && pick(2) === 0) {
          text.delete(pick(text.length), 1);
          direct++;
        } else if (text.length > 0) {
          // The same through Y.applyUpdate, as a provider bound to the document would (non-local to Yjs).
          const copy = new Y.Doc();
          Y.applyUpdate(copy, Y.encodeStateAsUpdate(A.ledger.doc));
          copy.getText('t').delete(pick(text.length), 1);
          Y.applyUpdate(A.ledger.doc, Y.encodeStateAsUpdate(copy, Y.encodeStateVector(A.ledger.doc)), 'provider');
          direct++;
        }
        break;
      case 7:
        if (pick(3) === 0) {
          const map = A.ledger.doc.getMap('records');
          const key = `k${pick(6)}`;
          if (map.has(key)) {
            map.delete(key); // a bare record delete: the local rules refuse it, so it is undone
            direct++;
          }
        }
        break;
      case 8: {
        // Another author writes; A ingests what it has not yet (sometimes awaited).
        await B.ledger.put(`b${pick(4)}`, i);
        await B.ledger.transact((doc) => doc.getText('t').insert(0, `B${i}`));
        const batch: HashedEntry[] = B.log.slice(shipped);
        shipped = B.log.length;
        const p = A.ledger.ingest(batch);
        if (pick(2) === 0) await p.catch(fail);
        else later(p);
        break;
      }
      case 9:
        later(A.ledger.compact());
        break;
      case 11:
        if (!forked && B.log.length >= 2 && pick(2) === 0) {
          // B's key signs a second entry at a seq it holds: B's feed turns void on A (a void
          // rebuild, now or deferred when `starve`: then A's direct changes on B's items take the
          // StaleVoidReferenceError path).
          forked = true;
          const [alt] = await makeChain(B.keys, 1, networkId(genesis), B.log[pick(B.log.length - 1)], 'alt');
          if (starve) budget(A.ledger).record(1e6);
          later(A.ledger.ingest([alt]));
        } else await sleep(pick(3));
        break;
      case 10:
        if (pick(3) === 0) later(A.ledger.reload());
        else if (pick(4) === 0) faults = 1;
        else slow = pick(3) * 3;
        break;
      default:
        await sleep(pick(3));
    }
  }
  await Promise.all(pending);
  await A.ledger.flushVoids();
  for (let i = 0; i < 5; i++) await A.ledger.idle();
  const s = A.ledger.stats();
  const live = {
    digest: s.stateDigest,
    entries: s.entries,
    records: JSON.stringify(A.ledger.records()),
    text: A.ledger.doc.getText('t').toString()
  };
  await A.ledger.close();
  const again = await openLedger(memoryLocation(disk), 61, { compactEvery: 0 });
  again.ledger.registerType('t', 'text');
  const r = again.ledger.stats();
  const info = `seed ${seed}: ${trace.join(',')}`;
  expect(
    {
      digest: r.stateDigest,
      entries: r.entries,
      records: JSON.stringify(again.ledger.records()),
      text: again.ledger.doc.getText('t').toString()
    },
    info
  ).toEqual(live);
  expect(s.untracked.signed + s.untracked.undone, info).toBe(direct);
  // Nothing but the injected faults refuses a put, transact, ingest, compact() or reload().
  expect(failed, info).toEqual([]);
  if (process.env.SEEDS) console.log(seed, JSON.stringify(s.untracked), s.entries, direct, forked, starve);
  await again.ledger.close();
  await B.ledger.close();
}

describe('direct writes interleaved with the queue: a reopen shows what the live node showed', () => {
  for (let seed = 1; seed <= Number(process.env.SEEDS ?? 24); seed++) {
    it(`seed ${seed}`, async () => {
      await run(seed, 60);
    });
  }
});
