// Local changes made on the document outside the ledger's write calls: an editor binding or an
// undo manager writing to a registered type (or to `Ledger.doc`) under its own origin, which
// LedgerState hands over through onUntrackedWrite. Every change to the shared state goes through a
// signed entry (issue 6; PROTOCOL.md §5.3): the ledger signs these as entries of its own, in the
// order they were made and before any write requested after them. One the local rules refuse is
// undone by the rebuild from the store that follows every failed write. A change still waiting
// here when the document is replaced (a rebuild) is gone from the document, so it is dropped too.
import * as Y from 'yjs';
import { MAX_ENTRY_DEPS, PUBLIC_KEY_BYTES } from './constants.js';
import { MIN_ENTRY_BYTES } from './entry.js';

/**
 * Most an entry's fields other than the payload can take: the fixed fields, every varint at its
 * longest, MAX_ENTRY_DEPS deps. Changes are merged into one entry only while their payloads fit in
 * maxEntryBytes minus this, so changes that each fit are never refused together (redteam6e-untracked-merge).
 */
export const ENTRY_HEADROOM_BYTES = MIN_ENTRY_BYTES + 5 * 9 + MAX_ENTRY_DEPS * (PUBLIC_KEY_BYTES + 9);

/** What became of untracked changes since open (stats().untracked). */
export interface UntrackedCounts {
  /** Changes signed and stored as entries. */
  signed: number;
  /** Changes undone: refused by the local rules, lost with a failed commit, or dropped by a rebuild. */
  undone: number;
}

export class UntrackedWrites {
  private waiting: Uint8Array[] = [];
  /** A write that takes the waiting changes is queued (see Ledger.noteUntracked). */
  private queued = false;
  readonly counts: UntrackedCounts = { signed: 0, undone: 0 };

  /** Notes a change (a Yjs update); true when no write is queued to sign it yet (queue one). */
  add(payload: Uint8Array): boolean {
    this.waiting.push(payload);
    if (this.queued) return false;
    this.queued = true;
    return true;
  }

  /**
   * A direct change must be undone (LedgerState.onUntrackedDefect), or null. `before`: the changes
   * made before it, still waiting, which are signed first; `payloadless`: it has no payload
   * waiting (a format changing nothing), so it is one more change to count as undone.
   */
  private defect: { reason: string; before: number; payloadless: boolean } | null = null;

  /** Changes are waiting (or one must be undone): handled before the next write's change is made. */
  get pending(): boolean {
    return this.waiting.length > 0 || this.defect !== null;
  }

  /**
   * Notes that the change being made must be undone, for `reason`; `payload`: it has one, which
   * follows through add. True when no write is queued to handle it yet (queue one). The changes
   * waiting before it are still signed; it and every later one are undone by the rebuild that
   * follows the write refusing it (take's `refused`).
   */
  refuse(reason: string, payload: boolean): boolean {
    this.defect ??= { reason, before: this.waiting.length, payloadless: !payload };
    if (this.queued) return false;
    this.queued = true;
    return true;
  }

  /**
   * The oldest waiting changes whose payloads fit in `maxBytes` together (at least one), merged
   * into one Yjs update (null when none), and how many; the rest keep waiting.
   * `queuedWrite`: the queued write is taking them, so the next change queues a new one.
   */
  take(queuedWrite: boolean, maxBytes = Infinity): { payload: Uint8Array | null; changes: number; refused?: string } {
    if (queuedWrite) this.queued = false;
    const defect = this.defect;
    if (defect !== null && defect.before === 0) {
      // The change to undo and all after it.
      this.defect = null;
      const changes = this.waiting.length + (defect.payloadless ? 1 : 0);
      this.waiting = [];
      return { payload: null, changes, refused: defect.reason };
    }
    const limit = defect === null ? this.waiting.length : defect.before;
    let n = 0;
    let bytes = 0;
    // The oldest first, at least one, then while their payloads fit in maxBytes together.
    while (n < limit && (n === 0 || bytes + this.waiting[n].length <= maxBytes)) bytes += this.waiting[n++].length;
    if (defect !== null) defect.before -= n;
    const out = this.waiting.slice(0, n);
    this.waiting = this.waiting.slice(n);
    const payload = out.length === 0 ? null : out.length === 1 ? out[0] : Y.mergeUpdates(out);
    return { payload, changes: out.length };
  }

  /** Changes were left waiting by take: true when no write is queued to sign them (queue one). */
  requeue(): boolean {
    if (this.queued || !this.pending) return false;
    this.queued = true;
    return true;
  }

  /**
   * The queued write was refused before it took the changes (a broken ledger, a closed one, this
   * node's own feed void): the next change queues a new one. Not re-queued here: a broken ledger
   * would refuse it again at once. The waiting changes go with the next write, or a rebuild drops them.
   */
  unqueue(): void {
    this.queued = false;
  }

  /** `changes` taken were stored as an entry (true) or undone (false). */
  settled(changes: number, stored: boolean): void {
    if (stored) this.counts.signed += changes;
    else this.counts.undone += changes;
  }

  /** The document was replaced: the waiting changes are no longer in it. */
  drop(): void {
    this.counts.undone += this.waiting.length + (this.defect?.payloadless === true ? 1 : 0);
    this.waiting = [];
    this.defect = null;
  }
}
