// Group commit of local writes (pure bookkeeping; the Ledger does the work). Writes requested
// while the ledger is busy (a commit in flight, or other queued work) wait in one open group; when
// the group's step comes they are applied, signed in order and stored in ONE strict transaction.
// Each caller's promise settles only after its own entry is durable (or refused).
//
// A group stays open for joining until its step starts, while no barrier was queued after it (a
// compaction, close(), a reload, an atomic import: every step but a replicated ingest), so a write
// never overtakes such work requested before it; and only up to LEDGER_MAX_GROUP_WRITES writes
// (then the next group opens behind it). Replicated ingest steps queued after the group do not
// close it: under load they arrive between any two writes, and closing the group on each one cut
// groups to ~3 writes, each paying its own strict commit.
import type { Conflict, HashedEntry } from './types.js';
import { LEDGER_MAX_GROUP_WRITES } from './constants.js';
import type { RecordEntry } from './state/records.js';

/** One requested local write, waiting for its group's commit. */
export interface PendingWrite {
  /** Changes the document; returns the payload to sign, or null when nothing changed. */
  change: () => Uint8Array | null;
  /** A throw from `change` may leave a half-made change in the document: rebuild it from the store. */
  rebuildOnThrow: boolean;
  /** When it was requested (performance.now(), ms): the queue timings count its wait. */
  requestedAt: number;
  /** The record key a records write changes (reads show its durable value until the commit). */
  key?: string;
  /** Signs changes made on the document outside the write calls (untracked-writes.ts). */
  untracked?: true;
  /** Its idempotency key (Ledger WriteOptions): stored with its entry in the same transaction. */
  tag?: string;
  /** A retry of a tagged write: if its tag is stored, it answers with that entry instead. */
  retry?: true;
  resolve: (h: HashedEntry | null) => void;
  reject: (e: unknown) => void;
}

/** A write prepared for the commit: applied to the document and signed (null: nothing to store). */
export interface PreparedWrite {
  write: PendingWrite;
  entry: HashedEntry | null;
}

/** What reads show while a group is being prepared and committed: the durable values only. */
export class DurableOverlay {
  /** Per key written by the group: its durable record before the group (undefined: none). */
  private readonly before = new Map<string, RecordEntry | undefined>();

  /** `conflicts`: the durable conflict list when the group started. */
  constructor(readonly conflicts: Conflict[]) {}

  /** Remembers the durable record of `key` the first time the group writes it. */
  note(key: string, durable: () => RecordEntry | undefined): void {
    if (!this.before.has(key)) this.before.set(key, durable());
  }

  has(key: string): boolean {
    return this.before.has(key);
  }

  /** Keys the group writes. */
  get size(): number {
    return this.before.size;
  }

  keys(): IterableIterator<string> {
    return this.before.keys();
  }

  /** The durable record of a key this group writes (call only when has(key)). */
  durable(key: string): RecordEntry | undefined {
    return this.before.get(key);
  }

  /** `list` (sorted by key) with every key of the group shown at its durable value. */
  apply(list: RecordEntry[], compare: (a: string, b: string) => number): RecordEntry[] {
    if (this.before.size === 0) return list;
    const out = list.filter((r) => !this.before.has(r.key));
    for (const r of this.before.values()) if (r !== undefined) out.push(structuredClone(r));
    return out.sort((a, b) => compare(a.key, b.key));
  }
}

/** The open group of the ledger's queue, if any. */
export class WriteGroups {
  private open: { members: PendingWrite[]; barriers: number } | null = null;

  /** `max`: writes per group at most. */
  constructor(private readonly max = LEDGER_MAX_GROUP_WRITES) {}

  /**
   * Adds `w` to the open group when no barrier was queued since it (`barriers()`, the ledger's
   * count of barrier steps queued, is what it was just after the group was queued) and it is not
   * full.
   */
  join(w: PendingWrite, barriers: () => number): boolean {
    const g = this.open;
    if (g === null || g.barriers !== barriers() || g.members.length >= this.max) return false;
    g.members.push(w);
    return true;
  }

  /**
   * Opens a new group holding `w`. `schedule` queues the group's step, which must call `take`
   * first thing when it starts, even if it then fails (the group closes for joining and `take`
   * returns its members); `schedule` returns the ledger's barrier count after queueing it.
   */
  start(w: PendingWrite, schedule: (take: () => PendingWrite[]) => number): void {
    const group = { members: [w], barriers: Number.NaN };
    this.open = group;
    group.barriers = schedule(() => {
      if (this.open === group) this.open = null;
      return group.members;
    });
  }
}
