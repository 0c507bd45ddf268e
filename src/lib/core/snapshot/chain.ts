// Import, step 3: how a snapshot's (verified) entries relate to the local store. Each author's
// entries must continue what the store holds: from seq 1, from the stored head, or from an
// entry of the same file that is accepted. Entries that do not are "rejected" (the file stays
// valid); everything after a rejected entry of the same author is rejected too.
import { MalformedSnapshotError } from '../errors.js';
import type { ForkEvidence, HashedEntry } from '../types.js';
import type { LedgerStore } from '../storage.js';
import { bytesEqual, fromHex, toHex } from '../bytes.js';

export type RejectReason =
  /** The store holds a different entry at this (author, seq): equivocation, see `forks`. */
  | 'fork'
  /** `prev` is not the hash of the stored or accepted predecessor. */
  | 'broken-chain'
  /** Neither seq 1 nor a successor of anything we hold (e.g. incremental over an older store). */
  | 'unanchored'
  /** Follows a rejected entry of the same author. */
  | 'after-rejected';

export interface RejectedEntry {
  author: string;
  seq: number;
  hash: string;
  reason: RejectReason;
}

export interface ImportPlan {
  /** Entries to store, in file order. */
  batch: HashedEntry[];
  /** Entries the store already holds (or already covers below its head, after pruning). */
  skipped: number;
  rejected: RejectedEntry[];
  /** Stored entry (a) vs the snapshot's (b), for the caller to keep via putFork. */
  forks: ForkEvidence[];
}

type ChainStore = Pick<LedgerStore, 'getHead' | 'getEntry'>;

export async function planImport(
  entries: readonly HashedEntry[],
  store: ChainStore,
  now: () => number
): Promise<ImportPlan> {
  const plan: ImportPlan = { batch: [], skipped: 0, rejected: [], forks: [] };
  const byAuthor = new Map<string, HashedEntry[]>();
  for (const h of entries) {
    const a = toHex(h.entry.author);
    let list = byAuthor.get(a);
    if (!list) byAuthor.set(a, (list = []));
    list.push(h);
  }
  for (const [author, list] of byAuthor) await planAuthor(author, list, store, now, plan);
  return plan;
}

async function planAuthor(
  author: string,
  list: readonly HashedEntry[],
  store: ChainStore,
  now: () => number,
  plan: ImportPlan
): Promise<void> {
  const head = await store.getHead(author);
  const headSeq = head?.seq ?? 0;
  // Latest entry known to be on our chain: stored, or accepted from this file.
  let link: { seq: number; hash: Uint8Array } | undefined = head && { seq: head.seq, hash: fromHex(head.hash) };
  let dead = false;
  const reject = (h: HashedEntry, reason: RejectReason): void => {
    plan.rejected.push({ author, seq: h.entry.seq, hash: toHex(h.hash), reason });
    dead = true;
  };
  // An entry that does not link to the file's own previous entry makes the file inconsistent: an
  // honest exporter never writes that, so the whole file is refused (all or nothing). A break
  // against our stored head only means the file's history differs from ours (rejected below).
  const inFile = new Map(list.map((h) => [h.entry.seq, h.hash]));
  for (const h of list) {
    const before = inFile.get(h.entry.seq - 1);
    if (before !== undefined && !bytesEqual(h.entry.prev, before))
      throw new MalformedSnapshotError(
        `entry ${h.entry.seq} of ${author.slice(0, 16)}… does not link to the file's previous entry`
      );
  }
  for (const h of list) {
    const seq = h.entry.seq;
    if (dead) {
      reject(h, 'after-rejected');
      continue;
    }
    if (seq <= headSeq) {
      const stored = await store.getEntry(author, seq);
      if (!stored) {
        // Pruned below the head (light replica): covered by the head, nothing to compare with.
        plan.skipped++;
        link = undefined;
      } else if (bytesEqual(stored.hash, h.hash)) {
        plan.skipped++;
        link = { seq, hash: stored.hash };
      } else {
        plan.forks.push({ author, seq, a: stored, b: h, detectedAt: now() });
        reject(h, 'fork');
      }
      continue;
    }
    // Above the head: nothing stored here (heads are the highest stored seq).
    if (seq > 1) {
      const pred =
        link && link.seq === seq - 1 ? link.hash : headSeq === seq - 1 && head ? fromHex(head.hash) : undefined;
      if (!pred) {
        reject(h, 'unanchored');
        continue;
      }
      if (!bytesEqual(h.entry.prev, pred)) {
        reject(h, 'broken-chain');
        continue;
      }
    }
    plan.batch.push(h);
    link = { seq, hash: h.hash };
  }
}
