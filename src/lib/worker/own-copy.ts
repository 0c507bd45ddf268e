// Keeps the own copy (core/own-copy.ts) next to the store: the identity is settled from both at
// start, what the store lacks of the own feed is restored from the copy (Chromium may delete a
// corrupt IndexedDB whole), what the copy lacks is filled in from the store, and every local
// write group is appended before it is announced or acknowledged (Ledger afterLocalStored).
// The copy is best effort: when it cannot be opened or written, the node runs on without it and
// says so in status().ownCopy.
import { bytesEqual, toHex } from '../core/bytes.js';
import { OWN_COPY_BATCH } from '../core/constants.js';
import { loadOrCreateIdentity } from '../core/identity.js';
import type { Ledger } from '../core/ledger.js';
import { OwnCopy, type CopyFile, type OwnCopyStats } from '../core/own-copy.js';
import type { LedgerStore } from '../core/storage.js';
import type { HashedEntry, IdentityKeys } from '../core/types.js';

/** What came back from the copy at this start: the identity and own entries the store lacked. */
export interface OwnCopyRestore {
  identity: boolean;
  entries: number;
}

/** status().ownCopy: whether local writes are copied, what the copy holds, what it restored. */
export interface OwnCopyStatus extends OwnCopyStats {
  state: 'on' | 'off';
  /** Why the copy is off (or the last write it missed); null when all is well. */
  error: string | null;
  restored: OwnCopyRestore | null;
}

const message = (e: unknown): string => String((e as Error)?.message ?? e).slice(0, 300);

export class OwnCopyKeeper {
  private restored: OwnCopyRestore | null = null;
  private error: string | null;
  private author: string | undefined;
  private store: LedgerStore | undefined;

  private constructor(
    private copy: OwnCopy | null,
    error: string | null
  ) {
    this.error = error;
  }

  /** Opens the copy's file; never throws (a copy that cannot be opened is off, with the reason). */
  static async open(
    openFile: () => Promise<CopyFile>,
    opts: { networkId: Uint8Array; maxEntryBytes: number }
  ): Promise<OwnCopyKeeper> {
    try {
      return new OwnCopyKeeper(await OwnCopy.open(await openFile(), opts), null);
    } catch (e) {
      return new OwnCopyKeeper(null, `own copy unavailable: ${message(e)}`);
    }
  }

  /**
   * The node's identity: the store's; else the copy's (restored into the store); else a new one.
   * The copy is started over for the store's identity when it holds another (or none).
   */
  async settleIdentity(store: LedgerStore): Promise<IdentityKeys> {
    this.store = store;
    const copied = this.copy?.identity;
    let keys: IdentityKeys;
    if ((await store.loadIdentity()) === undefined && copied !== undefined) {
      await store.saveIdentity(copied);
      this.restored = { identity: true, entries: 0 };
      keys = copied;
    } else keys = await loadOrCreateIdentity(store);
    this.author = toHex(keys.publicKey);
    if (copied === undefined || !bytesEqual(copied.publicKey, keys.publicKey)) this.guard(() => this.copy?.reset(keys));
    return keys;
  }

  /**
   * After the ledger opened: own entries the copy holds above the ledger's own head are ingested
   * (verified like any entry), then what the copy lacks is filled in from the store.
   */
  async reconcile(ledger: Ledger): Promise<void> {
    const copy = this.copy;
    if (copy === null || this.author === undefined || ledger.voidFrom(this.author) !== undefined) return;
    const head = ledger.heads().find((h) => h.author === this.author)?.seq ?? 0;
    const above = copy.stats().lastSeq > head ? copy.entriesAfter(head) : [];
    let added = 0;
    for (let i = 0; i < above.length; i += OWN_COPY_BATCH) {
      const report = await ledger.ingest(above.slice(i, i + OWN_COPY_BATCH));
      added += report.added;
      if (report.rejected.length > 0) this.error = `restoring: ${report.rejected[0].message}`.slice(0, 300);
    }
    if (added > 0) this.restored = { identity: this.restored?.identity ?? false, entries: added };
    await this.fill(ledger.heads().find((h) => h.author === this.author)?.seq ?? 0);
  }

  /** Ledger afterLocalStored: appends a write group (filling in from the store first if needed). */
  async mirror(entries: readonly HashedEntry[]): Promise<void> {
    const copy = this.copy;
    if (copy === null || entries.length === 0) return;
    const last = copy.stats().lastSeq;
    if (last !== 0 && entries[0].entry.seq !== last + 1) return this.fill(entries.at(-1)!.entry.seq);
    this.guard(() => copy.append(entries));
  }

  status(): OwnCopyStatus {
    const stats = this.copy?.stats() ?? { firstSeq: 0, lastSeq: 0, bytes: 0, cutBytes: 0 };
    return { state: this.copy === null ? 'off' : 'on', ...stats, error: this.error, restored: this.restored };
  }

  close(): void {
    this.guard(() => this.copy?.close());
    this.copy = null;
  }

  /**
   * Appends the own entries the store holds above the copy's last seq, up to `head`. When the
   * store no longer holds the next one (a light replica pruned it), the copy starts over from
   * the oldest entry the store still holds.
   */
  private async fill(head: number): Promise<void> {
    const copy = this.copy;
    const author = this.author;
    if (copy === null || this.store === undefined || author === undefined || copy.identity === undefined) return;
    let next = copy.stats().lastSeq + 1;
    while (next <= head && this.copy !== null) {
      const page = await this.store.getRange(author, next, head, OWN_COPY_BATCH).catch((e: unknown) => {
        this.error = `filling the own copy: ${message(e)}`;
        return [];
      });
      if (page.length === 0) return;
      if (page[0].entry.seq !== next) this.guard(() => copy.reset(copy.identity!));
      this.guard(() => copy.append(page));
      next = page.at(-1)!.entry.seq + 1;
    }
  }

  /** Runs a write on the copy; a failure turns the copy off (the store is unaffected). */
  private guard(write: () => void): void {
    try {
      write();
    } catch (e) {
      this.error = `own copy off: ${message(e)}`;
      try {
        this.copy?.close();
      } catch {
        // already unusable
      }
      this.copy = null;
    }
  }
}
