// Crash simulation of the Dexie store on fake-indexeddb: random local appends and replicated
// batches, some awaited and some in flight, then a crash at a random point (writes start failing
// with quota errors, transactions are aborted mid-way as by a killed tab, or the store is closed
// under in-flight writes). A fresh store reopened on the same IndexedDB must hold every
// acknowledged write, only whole writes, and heads consistent with the stored feeds.
// Replay one run: SEED=<seed printed on failure> CRASH_RUNS=1 npx vitest run test/unit/store-crash.test.ts
import { IDBFactory, IDBKeyRange } from 'fake-indexeddb';
import { expect, it } from 'vitest';
import { toHex } from '../../src/lib/core/bytes.js';
import type { LedgerStore } from '../../src/lib/core/storage.js';
import type { HashedEntry } from '../../src/lib/core/types.js';
import { DexieLedgerStore } from '../../src/lib/platform/dexie-store.js';
import { faultAddon, type DexieFaultPlan } from '../helpers/dexie-faults.js';
import { fakeFeed, mulberry32, randInt, randomBytes, type Rand } from '../helpers/fake-feed.js';

const BASE_SEED = Number(process.env.SEED ?? Date.now() % 2 ** 31);
const RUNS = Number(process.env.CRASH_RUNS ?? 60);
const MODES = ['quota', 'abort', 'close'] as const;
type Mode = (typeof MODES)[number];

interface Feeds {
  local: string;
  byAuthor: Map<string, HashedEntry[]>;
}

function makeFeeds(rand: Rand): Feeds {
  const byAuthor = new Map<string, HashedEntry[]>();
  const authors = Array.from({ length: 4 }, () => randomBytes(32, rand));
  for (const a of authors) byAuthor.set(toHex(a), fakeFeed(a, 40, rand));
  return { local: toHex(authors[0]), byAuthor };
}

/** Runs random writes, crashes, and returns what was acknowledged (author -> acked seqs). */
async function writeAndCrash(
  rand: Rand,
  feeds: Feeds,
  factory: IDBFactory,
  name: string
): Promise<{ acked: Set<HashedEntry>; mode: Mode }> {
  const mode = MODES[randInt(rand, 0, MODES.length - 1)];
  const ops = randInt(rand, 3, 40);
  const plan: DexieFaultPlan = {};
  if (mode !== 'close') {
    plan.mode = mode;
    plan.failAfterMutations = randInt(rand, 0, ops * 2);
  }
  const crashOp = mode === 'close' ? randInt(rand, 0, ops) : -1;
  const store = await DexieLedgerStore.open({ name, indexedDB: factory, IDBKeyRange, addons: [faultAddon(plan)] });

  const acked = new Set<HashedEntry>();
  const inflight: Promise<void>[] = [];
  const remotes = [...feeds.byAuthor.keys()].filter((a) => a !== feeds.local);
  let nextLocal = 0;
  const sent = new Map(remotes.map((a) => [a, 0])); // entries handed to ingest so far
  const ackedUpTo = new Map(remotes.map((a) => [a, 0])); // highest acknowledged seq

  for (let i = 0; i < ops; i++) {
    if (i === crashOp) void store.close(); // not awaited: in-flight writes keep going or fail
    let op: Promise<void>;
    const local = feeds.byAuthor.get(feeds.local)!;
    if (rand() < 0.4 && nextLocal < local.length) {
      const h = local[nextLocal++];
      op = store.appendLocal(h).then(() => void acked.add(h));
    } else {
      const a = remotes[randInt(rand, 0, remotes.length - 1)];
      const feed = feeds.byAuthor.get(a)!;
      // Like a verifying ledger, only hand over batches that link to what is stored: start at or
      // below the acknowledged tip (overlap makes duplicates), end a few entries further.
      const start = Math.max(0, ackedUpTo.get(a)! - randInt(rand, 0, 2));
      const end = Math.min(feed.length, sent.get(a)! + randInt(rand, 1, 5));
      sent.set(a, end);
      const batch = feed.slice(start, end);
      op = store.ingest(batch).then(() => {
        for (const h of batch) acked.add(h);
        ackedUpTo.set(a, Math.max(ackedUpTo.get(a)!, end));
      });
    }
    const settled = op.catch(() => undefined); // failures are expected once crashed
    if (rand() < 0.5) await settled;
    else inflight.push(settled);
  }
  await Promise.all(inflight);
  if (mode !== 'close') await store.close();
  return { acked, mode };
}

async function checkRecovered(store: LedgerStore, feeds: Feeds, acked: Set<HashedEntry>): Promise<void> {
  for (const h of acked) {
    expect(await store.getEntry(toHex(h.entry.author), h.entry.seq), `acknowledged ${h.entry.seq} lost`).toEqual(h);
  }
  let total = 0;
  const heads = new Map((await store.heads()).map((h) => [h.author, h]));
  for (const [author, feed] of feeds.byAuthor) {
    const stored = await store.getRange(author, 1, Infinity);
    total += stored.length;
    // Contiguous from 1, each exactly the entry that was written: nothing half-applied or foreign.
    expect(stored.map((h) => h.entry.seq)).toEqual(stored.map((_, i) => i + 1));
    stored.forEach((h, i) => expect(h).toEqual(feed[i]));
    const head = heads.get(author);
    if (stored.length === 0) {
      expect(head, `head without entries for ${author.slice(0, 8)}`).toBeUndefined();
    } else {
      const tip = stored[stored.length - 1];
      expect(head).toEqual({ author, seq: tip.entry.seq, hash: toHex(tip.hash) });
    }
  }
  expect(heads.size).toBe([...feeds.byAuthor.keys()].filter((a) => heads.has(a)).length);
  expect(await store.count()).toBe(total);
  // The recovered store accepts the next local write.
  const local = feeds.byAuthor.get(feeds.local)!;
  const next = local[heads.get(feeds.local)?.seq ?? 0];
  await store.appendLocal(next);
  expect((await store.getHead(feeds.local))?.seq).toBe(next.entry.seq);
}

it(`keeps every acknowledged write and no partial one across crashes (${RUNS} runs)`, async () => {
  console.log('seed', BASE_SEED);
  const modes = new Map<Mode, number>();
  let ackedTotal = 0;
  for (let run = 0; run < RUNS; run++) {
    const seed = BASE_SEED + run;
    const rand = mulberry32(seed);
    const feeds = makeFeeds(rand);
    const factory = new IDBFactory();
    const name = `crash-${seed}`;
    try {
      const { acked, mode } = await writeAndCrash(rand, feeds, factory, name);
      modes.set(mode, (modes.get(mode) ?? 0) + 1);
      ackedTotal += acked.size;
      const store = await DexieLedgerStore.open({ name, indexedDB: factory, IDBKeyRange });
      try {
        await checkRecovered(store, feeds, acked);
      } finally {
        await store.close();
      }
    } catch (e) {
      throw new Error(`crash run failed; replay with SEED=${seed} CRASH_RUNS=1: ${(e as Error).message}`, { cause: e });
    }
  }
  console.log('crash runs by mode', Object.fromEntries(modes), 'acknowledged writes checked', ackedTotal);
});
