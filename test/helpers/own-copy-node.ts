// A node as startNode opens it, on a memory store: the own copy (worker/own-copy.ts) settles the
// identity, the ledger mirrors local writes into it and never signs below it, then the copy
// restores and fills in. For the own copy's unit tests (the e2e tests use OPFS in Chromium).
import { Ledger } from '../../src/lib/core/ledger.js';
import { MemoryDisk, MemoryLedgerStore, type MemoryFaults } from '../../src/lib/core/memory-store.js';
import { networkId as networkIdOf } from '../../src/lib/core/genesis.js';
import type { CopyFile } from '../../src/lib/core/own-copy.js';
import type { HashedEntry, IdentityKeys } from '../../src/lib/core/types.js';
import { keysFromByte } from './ledger-fixtures.js';
import { lockableOpen, MemoryCopyFile } from './memory-copy-file.js';
import { OWN_COPY_BATCH } from '../../src/lib/core/constants.js';
import type { ReplicaRole } from '../../src/lib/core/light-budget.js';
import { OwnCopyKeeper } from '../../src/lib/worker/own-copy.js';
import { genesis, testClock } from './ledger-nodes.js';

/** OwnCopy.open's options for the test genesis. */
export const copyOpts = { networkId: networkIdOf(genesis), maxEntryBytes: genesis.maxEntryBytes };

export interface CopyNode {
  store: MemoryLedgerStore;
  keeper: OwnCopyKeeper;
  keys: IdentityKeys;
  ledger: Ledger;
}

/**
 * Opens a node on `disk` with its copy in `file` (or what `file()` opens; it may throw). `keys`:
 * saved in the store first (a store that kept its key); `now`: the keeper's clock; `faults`: the store's;
 * `role`: the ledger's (full by default); `retryMs`: the keeper's reopen period; `beforeReconcile`:
 * a hook on the store between the ledger's open and the copy's reconcile.
 */
export async function startWithCopy(
  disk: MemoryDisk,
  file: CopyFile | (() => Promise<CopyFile>),
  opts: {
    keys?: IdentityKeys;
    now?: () => number;
    faults?: MemoryFaults;
    role?: ReplicaRole;
    retryMs?: number;
    /** Runs once the ledger is open, before the copy is reconciled with it. */
    beforeReconcile?: (store: MemoryLedgerStore) => void;
  } = {}
): Promise<CopyNode> {
  const store = new MemoryLedgerStore({ disk, ...(opts.faults ? { faults: opts.faults } : {}) });
  if (opts.keys !== undefined) await store.saveIdentity(opts.keys);
  const open = typeof file === 'function' ? file : async () => file;
  const keeper = await OwnCopyKeeper.open(open, {
    ...copyOpts,
    ...(opts.now ? { now: opts.now } : {}),
    ...(opts.retryMs === undefined ? {} : { retryMs: opts.retryMs })
  });
  const keys = await keeper.settleIdentity(store);
  const ledger = await Ledger.open({
    store,
    genesis,
    keys,
    now: testClock(),
    ...(opts.role ? { role: opts.role } : {}),
    afterLocalStored: (entries) => keeper.mirror(entries),
    ownSignedUpTo: () => keeper.signedUpTo()
  });
  opts.beforeReconcile?.(store);
  try {
    await keeper.reconcile(ledger);
  } catch (e) {
    await ledger.close();
    throw e;
  }
  return { store, keeper, keys, ledger };
}

export async function stopCopyNode(n: { ledger: Ledger; keeper: OwnCopyKeeper }): Promise<void> {
  await n.ledger.close();
  n.keeper.close();
}

/** The ledger's own head seq (0 without one). */
export const ownHead = (l: Ledger): number => l.head(l.author)?.seq ?? 0;

/**
 * Another author A (keys from `byte`) on a memory store, with its entry 1 (`k` = "from A"): an
 * own write overwriting `k` depends on it, so a restore of that write waits until A:1 is there.
 */
export async function otherAuthor(byte: number): Promise<{ a: Ledger; a1: HashedEntry }> {
  const a = await Ledger.open({
    store: new MemoryLedgerStore({ disk: new MemoryDisk() }),
    genesis,
    keys: await keysFromByte(byte),
    now: testClock()
  });
  return { a, a1: await a.put('k', 'from A') };
}

/** A node on `disk` with its copy in `file` writes k0..k(n-1), then stops; its keys. */
export async function writeAndStop(disk: MemoryDisk, file: CopyFile, n: number): Promise<IdentityKeys> {
  const node = await startWithCopy(disk, file);
  for (let i = 0; i < n; i++) await node.ledger.put(`k${i}`, i);
  await stopCopyNode(node);
  return node.keys;
}

/**
 * A node whose copy (3 own entries) is locked at start and reopened every 20 ms once
 * `lock.locked` is false, after `pages` × OWN_COPY_BATCH writes made while it was locked: the
 * late open has that many pages to fill. `head`: the own head after those writes.
 */
export async function lockedWithBacklog(pages: number) {
  const disk = new MemoryDisk();
  const file = new MemoryCopyFile();
  await writeAndStop(disk, file, 3);
  const { s: lock, open } = lockableOpen(() => file.reopen());
  const n = await startWithCopy(disk, open, { retryMs: 20 });
  n.keeper.retryOpen(n.ledger);
  for (let i = 0; i < pages * OWN_COPY_BATCH; i++) await n.ledger.put(`k${i}`, i);
  return { n, lock, head: ownHead(n.ledger) };
}

/** Makes `store` answer each getRange `ms` later (IndexedDB under load), so a fill takes its time. */
export function slowRanges(store: MemoryLedgerStore, ms: number): void {
  const getRange = store.getRange.bind(store);
  store.getRange = (...a: Parameters<typeof getRange>) => new Promise((r) => setTimeout(() => r(getRange(...a)), ms));
}
