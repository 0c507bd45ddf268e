// Keeps the own copy (core/own-copy.ts) next to the store: the identity is settled from both at
// start, what the store lacks of the own feed is restored from the copy (Chromium may delete a
// corrupt IndexedDB whole), what the copy lacks is filled in from the store, and every local
// write group is appended before it is announced or acknowledged (Ledger afterLocalStored).
// The copy is best effort: when it cannot be opened, the node runs on without it (and opens it
// again every OWN_COPY_RETRY_MS unless OPFS is missing); when a write to it fails (no space), it
// falls behind and is filled in from the store at a later write group, at most every
// OWN_COPY_RETRY_MS. status().ownCopy says which.
import { bytesEqual, toHex } from '../core/bytes.js';
import { OWN_COPY_BATCH, OWN_COPY_RETRY_MS } from '../core/constants.js';
import { loadOrCreateIdentity } from '../core/identity.js';
import { verify } from '../core/ed25519.js';
import { signingBytes } from '../core/entry.js';
import type { Ledger } from '../core/ledger.js';
import { OwnCopy, type CopyFile, type OwnCopyStats } from '../core/own-copy.js';
import type { LedgerStore } from '../core/storage.js';
import type { HashedEntry, IdentityKeys } from '../core/types.js';
import { OwnCopyError } from '../core/errors.js';
import { OwnCopyUnsupportedError } from '../platform/opfs-file.js';

/**
 * What came back from the copy at this start: the identity and own entries the store lacked
 * (`entries` applied; `waiting` held until entries of others they depend on, or older own ones,
 * come from peers: local writes wait for them, Ledger ownSignedUpTo).
 */
export interface OwnCopyRestore {
  identity: boolean;
  entries: number;
  waiting?: number;
}

/** status().ownCopy: whether local writes are copied, what the copy holds, what it restored. */
export interface OwnCopyStatus extends OwnCopyStats {
  /**
   * 'on': every local write is copied; 'behind': it lacks local writes the store holds (a write to
   * it failed, retried later; or, after a late open, they wait for the fill from the store); 'off': no copy.
   */
  state: 'on' | 'behind' | 'off';
  /** Why the copy is off or behind; null when all is well. */
  error: string | null;
  restored: OwnCopyRestore | null;
  /** Write groups appended since start, and the time their appends took (write + flush), ms. */
  appends: number;
  appendMs: number;
}

const message = (e: unknown): string => String((e as Error)?.message ?? e).slice(0, 300);

/** Refusal codes that only a damaged copy gives for an own entry (PROTOCOL.md §5.2 steps 1–4). */
const DAMAGE = new Set(['oversized-entry', 'malformed-entry', 'wrong-network', 'bad-signature']);

/** The first own entry a restore refused: its seq, why, and whether the copy's bytes are damaged. */
interface Refused {
  seq: number;
  message: string;
  damaged: boolean;
}

/** Why a copy holding another branch of the own feed from seq `seq` is off. */
const offBranch = (seq: number): string =>
  `it holds another branch of this device's feed (its seq ${seq} is not this store's: the store signed it again without the copy); kept untouched`;

function closeQuietly(handle: { close(): void }): void {
  try {
    handle.close();
  } catch {
    // closing a handle that already failed
  }
}

export class OwnCopyKeeper {
  private restored: OwnCopyRestore | null = null;
  private error: string | null;
  private keys: IdentityKeys | undefined;
  private store: LedgerStore | undefined;
  /** A write to the copy failed: it lacks entries the store holds until a fill succeeds. */
  private failing = false;
  private retryAt = 0;
  /** The copy could not be opened for a reason other than no OPFS here (a lock, an I/O error). */
  private openFailed = false;
  private appends = 0;
  private appendMs = 0;
  /** close() was called: no more writes, no reopening. */
  private closed = false;
  private reopenTimer: ReturnType<typeof setTimeout> | undefined;
  /**
   * A restore or fill in steps is under way (reconcile, fillInSteps); `fillTarget`: the own seq it
   * fills up to; `leftToFill`: the last seq of the writes left to it.
   */
  private filling = false;
  private fillTarget = 0;
  private leftToFill = 0;
  /** The last serial call (see serial). */
  private lastSerial: Promise<unknown> = Promise.resolve();

  private constructor(
    private copy: OwnCopy | null,
    error: string | null,
    private readonly now: () => number,
    private readonly reopen: () => Promise<OwnCopy>,
    private readonly retryMs: number,
    private readonly networkId: Uint8Array
  ) {
    this.error = error;
  }

  /** Opens the copy's file; never throws (a copy that cannot be opened is off, with the reason). */
  static async open(
    openFile: () => Promise<CopyFile>,
    opts: { networkId: Uint8Array; maxEntryBytes: number; now?: () => number; retryMs?: number }
  ): Promise<OwnCopyKeeper> {
    const now = opts.now ?? Date.now;
    const retryMs = opts.retryMs ?? OWN_COPY_RETRY_MS;
    const reopen = async (): Promise<OwnCopy> => {
      const file = await openFile();
      try {
        return await OwnCopy.open(file, opts);
      } catch (e) {
        closeQuietly(file); // a granted OPFS handle left open locks the file for this worker's life
        throw e;
      }
    };
    try {
      return new OwnCopyKeeper(await reopen(), null, now, reopen, retryMs, opts.networkId);
    } catch (e) {
      const unavailable = `own copy unavailable: ${message(e)}`;
      const keeper = new OwnCopyKeeper(null, unavailable, now, reopen, retryMs, opts.networkId);
      keeper.openFailed = !(e instanceof OwnCopyUnsupportedError);
      return keeper;
    }
  }

  /**
   * The node's identity: the store's; else the copy's (restored into the store); else a new one.
   * A copy holding no identity is started for the store's. Never loses a key: a copy holding
   * another key is kept untouched (and not used); a store without a key whose copy could not be
   * opened (locked, I/O) throws OwnCopyError rather than make a new key (reload to retry).
   */
  async settleIdentity(store: LedgerStore): Promise<IdentityKeys> {
    this.store = store;
    const copied = this.copy?.identity;
    const stored = await store.loadIdentity();
    if (stored === undefined && this.openFailed)
      throw new OwnCopyError(`${this.error}: not making a new key while it may hold this device's; reload to retry`);
    let keys: IdentityKeys;
    if (stored === undefined && copied !== undefined) {
      await store.saveIdentity(copied);
      this.restored = { identity: true, entries: 0 };
      keys = copied;
    } else keys = await loadOrCreateIdentity(store);
    this.keys = keys;
    this.adopt(keys);
    return keys;
  }

  /** The opened copy against the node's key: started for it when empty, else turned off unless it is its own. */
  private adopt(keys: IdentityKeys): void {
    if (this.copy === null) return;
    const copied = this.copy.identity;
    if (copied === undefined) this.write((c) => c.reset(keys));
    else if (!bytesEqual(copied.publicKey, keys.publicKey))
      this.turnOff(`it holds another key (${toHex(copied.publicKey).slice(0, 16)}…), kept untouched`);
    else if (this.copy.readOnly)
      this.turnOff('its header is damaged or of another build; its key was used, the file is kept untouched');
  }

  /**
   * A copy that could not be opened at start for a reason other than no OPFS (another tab's
   * handle not yet released at a takeover, an I/O error) is opened again every `retryMs` (open's,
   * OWN_COPY_RETRY_MS) until it opens or close(). Once open it is adopted between the ledger's
   * write groups (Ledger betweenWrites: no write is between its check of signedUpTo and its
   * commit) and settled as at start (adopt), unless it holds another branch of the own feed:
   * its entry at the last seq both hold is not the store's (this store signed that seq again
   * while the copy was locked). Then it is turned off and kept untouched, as it is when settling
   * it fails. Else it is reconciled as at start (reconcile): own entries it holds above the own
   * head are ingested (those waiting for others' entries make local writes wait, and say so in
   * `restored`), then it is filled in from the store, in turn with mirror() (serial), so a write
   * made meanwhile is appended after. Call after reconcile.
   */
  retryOpen(ledger: Ledger): void {
    if (!this.openFailed || this.closed || this.keys === undefined || this.reopenTimer !== undefined) return;
    const attempt = async (): Promise<void> => {
      this.reopenTimer = undefined;
      let copy: OwnCopy;
      try {
        copy = await this.reopen();
      } catch (e) {
        this.error = `own copy unavailable: ${message(e)} (retrying)`;
        if (!this.closed) this.reopenTimer = setTimeout(() => void attempt(), this.retryMs);
        return;
      }
      const head = () => ledger.head(ledger.author)?.seq ?? 0;
      const adopted = await ledger
        .betweenWrites(() => this.serial(() => this.adoptReopened(copy, head())))
        .catch(() => false); // the ledger closed: so does the node
      if (!adopted) return void (this.copy !== copy && closeQuietly(copy));
      if (this.copy === copy) await this.reconcile(ledger);
    };
    this.reopenTimer = setTimeout(() => void attempt(), this.retryMs);
  }

  /**
   * retryOpen's settle of the opened `copy` at own head `head`: false when closed meanwhile.
   * A copy on another branch, or one that cannot be settled (a read fails), is turned off.
   */
  private async adoptReopened(copy: OwnCopy, head: number): Promise<boolean> {
    if (this.closed) return false;
    // The branch is checked before the copy is used, so its status never says 'on' before it is settled.
    let branch: number | undefined;
    let failure: unknown;
    try {
      branch = await this.branchFrom(copy, head);
    } catch (e) {
      failure = e;
    }
    if (this.closed) return false;
    this.copy = copy;
    this.openFailed = false;
    this.error = null;
    try {
      if (failure !== undefined) throw failure;
      if (branch !== undefined) this.turnOff(offBranch(branch));
      else this.adopt(this.keys!);
    } catch (e) {
      this.turnOff(`settling it after a late open failed: ${message(e)}`);
    }
    return true;
  }

  /** Runs `fn` after every earlier serial call (mirror, a reopen's settle): one writer of the copy at a time. */
  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.lastSerial.then(fn, fn);
    this.lastSerial = run.catch(() => undefined);
    return run;
  }

  /**
   * The seq of the last own entry both the copy and the store hold (the lower of the copy's last
   * seq and the own head `head`) when the copy's entry there is not the store's (another branch
   * of the own feed), else undefined (also when it cannot tell: the copy does not hold that seq,
   * or the store cannot be read). A copy's entry that is not validly signed by this key is damage
   * (agreeWithStore starts the copy over), not a branch. Reads of the copy may throw (I/O).
   */
  private async branchFrom(copy: OwnCopy | null, head: number): Promise<number | undefined> {
    const at = Math.min(copy?.stats().lastSeq ?? 0, head);
    if (copy === null || this.store === undefined || at === 0) return undefined;
    const mine = copy.entriesAfter(at - 1, 1).entries[0];
    if (mine === undefined || mine.entry.seq !== at) return undefined;
    const stored = await this.store.getEntry(this.author()!, at).catch(() => undefined);
    if (stored === undefined || bytesEqual(stored.hash, mine.hash)) return undefined;
    const e = mine.entry;
    const ours = bytesEqual(e.author, this.keys!.publicKey);
    return ours && (await verify(e.author, signingBytes(e, this.networkId), e.sig)) ? at : undefined;
  }

  /**
   * Turns the copy off, kept untouched, when it holds another branch of the own feed (branchFrom):
   * the store signed some seq again without it (it was locked, or the store is an older copy).
   * Signed entries of that branch may be nowhere else; writes go on on the store's branch.
   */
  private async offIfBranch(head: number): Promise<boolean> {
    const branch = await this.branchFrom(this.copy, head);
    if (branch === undefined) return false;
    this.turnOff(offBranch(branch));
    return true;
  }

  /** The copy is kept untouched and not used for the rest of this run. */
  private turnOff(why: string): void {
    this.error = `own copy off: ${why}`;
    this.close();
  }

  /**
   * The highest own seq the copy holds (0 without a usable copy): signed already, so the ledger
   * must not sign at or below it (Ledger ownSignedUpTo, read at every write). Call after settleIdentity.
   */
  signedUpTo(): number {
    return this.copy?.stats().lastSeq ?? 0;
  }

  /**
   * After the ledger opened: own entries the copy holds above the ledger's own head are ingested
   * (verified like any entry), then what the copy lacks is filled in from the store.
   */
  async reconcile(ledger: Ledger): Promise<void> {
    // From here until the fill has caught up, a write that does not continue the copy is left to
    // the fill (append), so no write waits for a whole restore or fill (at a late open).
    this.filling = true;
    this.fillTarget = ledger.head(ledger.author)?.seq ?? 0;
    try {
      await this.restore(ledger);
    } catch (e) {
      // Best effort: a store failing here fails elsewhere too, and says so there.
      this.failed(`restoring from the own copy: ${message(e)}`);
    } finally {
      this.filling = false;
    }
  }

  /**
   * While the own head is below what the copy holds (restored entries evicted from the pending
   * buffer, or expired while waiting): ingests the copy's entries above the head again. Called by
   * a local write that waits for them (node-runtime); cheap when there is nothing to do.
   */
  async resume(ledger: Ledger): Promise<void> {
    const copy = this.copy;
    const author = this.author();
    if (copy === null || author === undefined) return;
    for (let after = ledger.head(author)?.seq ?? 0; after < copy.stats().lastSeq;) {
      const page = copy.entriesAfter(after, OWN_COPY_BATCH);
      if (page.entries.length === 0) return;
      after = page.next;
      await ledger.ingest(page.entries).catch(() => undefined);
    }
  }

  private async restore(ledger: Ledger): Promise<void> {
    const copy = this.copy;
    const author = this.author();
    if (copy === null || author === undefined || ledger.voidFrom(author) !== undefined) return;
    const ownHead = () => ledger.head(author)?.seq ?? 0;
    const head = ownHead();
    if (await this.offIfBranch(head)) return;
    let added = 0;
    let refused: Refused | undefined;
    // Paged: the copy may hold a long feed (ingest verifies every entry).
    for (let after = head; after < copy.stats().lastSeq && refused === undefined;) {
      const page = copy.entriesAfter(after, OWN_COPY_BATCH);
      after = page.next;
      const report = await ledger.ingest(page.entries);
      added += report.added;
      const own = report.rejected.filter((r) => r.author === author && r.seq !== undefined);
      const first = own.sort((a, b) => a.seq! - b.seq!)[0];
      if (first !== undefined) refused = { seq: first.seq!, message: first.message, damaged: DAMAGE.has(first.code) };
      else if (page.damaged !== undefined)
        refused = { seq: page.damaged, message: 'the record no longer decodes', damaged: true };
    }
    if (refused !== undefined) this.settleRefused(refused);
    const waiting = Math.max(0, copy.stats().lastSeq - ownHead());
    if (added > 0 || waiting > 0)
      this.restored = {
        identity: this.restored?.identity ?? false,
        entries: added,
        ...(waiting > 0 ? { waiting } : {})
      };
    // In turn with mirror(): at a late open (retryOpen) writes may be under way.
    await this.fillInSteps(ownHead, () => this.agreeWithStore(ownHead()));
  }

  /**
   * Runs `first` (agreeWithStore), then fills the copy in from the store up to the own head and
   * the writes left to it, one page (OWN_COPY_BATCH entries) per serial step: a local write's
   * append meanwhile waits for one page, not the whole fill, and is left to the fill when it does
   * not continue the copy (append, `filling`). The step that catches up ends `filling` itself,
   * so a write after it in the serial order copies itself, and one before it was counted.
   */
  private async fillInSteps(ownHead: () => number, first: () => Promise<void>): Promise<void> {
    let before: (() => Promise<void>) | undefined = first;
    let done = false;
    while (!done)
      done = await this.serial(async () => {
        await before?.();
        before = undefined;
        this.fillTarget = Math.max(ownHead(), this.leftToFill);
        const caughtUp = await this.fill(this.fillTarget, 1);
        if (caughtUp) this.filling = false;
        return caughtUp;
      });
  }

  /**
   * A restored own entry was refused. Damaged in the copy (it fails steps 1–4 of PROTOCOL.md §5.2,
   * or no longer decodes): the copy is cut there, and that seq may be signed again once the
   * own-feed check let the first write through (a peer holding the original brings it back
   * first). Refused as a whole entry (causal rules): it stays, so local writes stay refused
   * (Ledger ownSignedUpTo): every node refuses it alike and no entry can follow it, while
   * signing its seq again would fork the feed.
   */
  private settleRefused(r: Refused): void {
    if (!r.damaged) {
      this.error = `restoring: seq ${r.seq} was refused (${r.message}); this device's feed cannot go on past it`;
      return;
    }
    if (this.write((c) => c.cutFrom(r.seq)))
      this.error = `restoring: seq ${r.seq} of the own copy is damaged (${r.message}); the copy is cut there`;
    this.error = this.error?.slice(0, 300) ?? null;
  }

  /**
   * The copy's last entry against the store's at that seq: when the store holds another entry
   * there (the copy was damaged, or the store replaced), the copy starts over from the store.
   */
  private async agreeWithStore(head: number): Promise<void> {
    const copy = this.copy;
    const last = copy?.stats().lastSeq ?? 0;
    if (copy === null || this.store === undefined || last === 0 || last > head) return;
    let stored: HashedEntry | undefined;
    try {
      stored = await this.store.getEntry(this.author()!, last);
    } catch {
      return; // cannot tell (a read failed): kept; a write that does not continue it fills it in
    }
    const hash = copy.lastHash();
    if (stored !== undefined && hash !== undefined && bytesEqual(stored.hash, hash)) return;
    this.write((c) => c.reset(this.keys!));
  }

  /** Ledger afterLocalStored: appends a write group (filling in from the store first if needed). */
  mirror(entries: readonly HashedEntry[]): Promise<void> {
    return this.serial(() => this.append(entries));
  }

  private async append(entries: readonly HashedEntry[]): Promise<void> {
    const copy = this.copy;
    if (copy === null || entries.length === 0) return;
    const upTo = entries.at(-1)!.entry.seq;
    if (this.failing) return this.now() < this.retryAt ? undefined : void (await this.fill(upTo));
    const last = copy.stats().lastSeq;
    // An empty copy continues only from seq 1: a write right after a reset must not start it.
    const gap = copy.identity === undefined || entries[0].entry.seq !== last + 1;
    // A fill in steps is under way (fillInSteps): it copies these too, after what comes before them.
    if (gap && this.filling) return void (this.leftToFill = Math.max(this.leftToFill, upTo));
    if (gap) return void (await this.fill(upTo));
    const t0 = performance.now();
    if (this.write((c) => c.append(entries))) {
      this.appends++;
      this.appendMs += performance.now() - t0;
    }
  }

  status(): OwnCopyStatus {
    const stats = this.copy?.stats() ?? { firstSeq: 0, lastSeq: 0, bytes: 0, cutBytes: 0 };
    const lacking = this.failing || (this.filling && Math.max(this.fillTarget, this.leftToFill) > stats.lastSeq);
    const state = this.copy === null ? 'off' : lacking ? 'behind' : 'on';
    const appendMs = Math.round(this.appendMs * 10) / 10;
    return { state, ...stats, error: this.error, restored: this.restored, appends: this.appends, appendMs };
  }

  close(): void {
    this.closed = true;
    clearTimeout(this.reopenTimer);
    this.reopenTimer = undefined;
    if (this.copy !== null) closeQuietly(this.copy);
    this.copy = null;
  }

  private author(): string | undefined {
    return this.keys === undefined ? undefined : toHex(this.keys.publicKey);
  }

  /**
   * Appends the own entries the store holds above the copy's last seq, up to `head`, at most
   * `pages` reads of OWN_COPY_BATCH. When the store no longer holds the next one (a light replica
   * pruned it), the copy starts over from the oldest entry the store still holds. Resolves true
   * when there is nothing left to do (caught up, or stopped by a failure), false when `pages` ran out.
   */
  private async fill(head: number, pages = Infinity): Promise<boolean> {
    const keys = this.keys;
    const store = this.store;
    if (this.copy === null || store === undefined || keys === undefined) return true;
    if (this.copy.identity === undefined && !this.write((c) => c.reset(keys))) return true;
    const author = toHex(keys.publicKey);
    let next = this.copy.stats().lastSeq + 1;
    for (let read = 0; next <= head; read++) {
      if (read === pages) return false;
      let page: HashedEntry[];
      try {
        page = await store.getRange(author, next, head, OWN_COPY_BATCH);
      } catch (e) {
        this.failed(`filling the own copy: ${message(e)}`);
        return true;
      }
      if (page.length === 0) break;
      if (page[0].entry.seq !== next && !this.write((c) => c.reset(keys))) return true;
      if (!this.write((c) => c.append(page))) return true;
      next = page.at(-1)!.entry.seq + 1;
    }
    if (next <= head)
      this.failed(`own copy behind: the store holds own entries up to ${head}, the copy to ${next - 1}`);
    return true;
  }

  /** Runs a write on the copy: true when it held. A failure leaves the copy behind (retried later). */
  private write(op: (copy: OwnCopy) => void): boolean {
    if (this.copy === null) return false;
    try {
      op(this.copy);
    } catch (e) {
      this.failed(`own copy behind: ${message(e)}`);
      return false;
    }
    if (this.failing) {
      this.failing = false;
      this.error = null;
    }
    return true;
  }

  private failed(error: string): void {
    this.failing = true;
    this.error = error;
    this.retryAt = this.now() + OWN_COPY_RETRY_MS;
  }
}
