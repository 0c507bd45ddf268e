// Bans that survive a reload. A PeerBook's bans (and remembered repeat offences) are saved to a
// BanStore (the browser node: its IndexedDB meta table; the relay: a file in its data directory)
// shortly after each new ban, and put back when the node starts. What is loaded is untrusted
// input (another version, a corrupted file): `decodeSavedBans` keeps only well-formed records,
// at most BAN_PERSIST_MAX, and the book applies expiry (a ban that ended while the node was away
// is not in force). Pure: the store and the timer are injected.
import type { PeerBook, SavedBan } from './score.js';
import type { LedgerStore } from '../storage.js';
import {
  BAN_MAX_MS,
  BAN_PERSIST_MAX,
  BAN_PERSIST_MAX_PEER_CHARS,
  BAN_PERSIST_MAX_REASON_CHARS,
  BAN_SAVE_DELAY_MS
} from './constants.js';

/** Where saved bans live. `load` resolves to what `save` was last given (untrusted), or undefined. */
export interface BanStore {
  load(): Promise<unknown>;
  save(saved: SavedBans): Promise<void>;
}

/** Saved ban records format version (the `v` of the saved object). */
export const SAVED_BANS_VERSION = 1;

/** The object a BanStore holds: `{ v: 1, bans: SavedBan[] }`. */
export interface SavedBans {
  v: typeof SAVED_BANS_VERSION;
  bans: SavedBan[];
}

const time = (x: unknown): x is number => Number.isSafeInteger(x) && (x as number) >= 0;
const text = (x: unknown, max: number): x is string => typeof x === 'string' && x.length > 0 && x.length <= max;

function savedBan(x: unknown): SavedBan | undefined {
  if (typeof x !== 'object' || x === null) return undefined;
  const b = x as Record<string, unknown>;
  if (!text(b.peer, BAN_PERSIST_MAX_PEER_CHARS) || !text(b.reason, BAN_PERSIST_MAX_REASON_CHARS)) return undefined;
  if (!time(b.since) || !time(b.until) || !time(b.lastOffenceAt)) return undefined;
  if (!Number.isSafeInteger(b.offences) || (b.offences as number) < 1 || (b.offences as number) > 64) return undefined;
  // A ban is never longer than BAN_MAX_MS: a record claiming more is not ours.
  if (b.until < b.since || b.until - b.since > BAN_MAX_MS) return undefined;
  return {
    peer: b.peer,
    reason: b.reason,
    since: b.since,
    until: b.until,
    offences: b.offences as number,
    lastOffenceAt: b.lastOffenceAt
  };
}

/**
 * The well-formed records of a loaded `{ v: 1, bans: [...] }` (anything else: none), at most
 * `max` (the first ones: saved lists are most recent first). Never throws.
 */
export function decodeSavedBans(raw: unknown, max = BAN_PERSIST_MAX): SavedBan[] {
  if (typeof raw !== 'object' || raw === null) return [];
  const o = raw as Record<string, unknown>;
  if (o.v !== SAVED_BANS_VERSION || !Array.isArray(o.bans)) return [];
  const out: SavedBan[] = [];
  for (const x of o.bans.slice(0, max)) {
    const b = savedBan(x);
    if (b !== undefined) out.push(b);
  }
  return out;
}

export interface BanPersisterOptions {
  /** Save this long after the first new ban of a burst, ms; default BAN_SAVE_DELAY_MS. */
  delayMs?: number;
  max?: number;
  setTimer?: (fn: () => void, ms: number) => unknown;
  clearTimer?: (t: unknown) => void;
  /** A save or load failed (the node goes on with bans in memory). */
  onError?: (e: unknown) => void;
}

/** Keeps a PeerBook's bans in a BanStore: `restore` once at start, then saves after new bans. */
export class BanPersister {
  private timer: unknown;
  private writing: Promise<void> = Promise.resolve();
  private dirty = false;
  private stopped = false;
  /** Saves done and bans restored (status, tests). */
  readonly stats = { saves: 0, restored: 0, failures: 0 };

  constructor(
    private readonly book: PeerBook,
    private readonly store: BanStore,
    private readonly o: BanPersisterOptions = {}
  ) {}

  /** Loads the saved bans into the book and starts saving new ones. Resolves to the bans in force. */
  async restore(): Promise<number> {
    let active = 0;
    try {
      const saved = decodeSavedBans(await this.store.load(), this.o.max ?? BAN_PERSIST_MAX);
      active = this.book.restore(saved);
      this.stats.restored = active;
    } catch (e) {
      this.fail(e);
    }
    this.book.onBan = () => this.changed();
    return active;
  }

  /** A ban changed: save soon (once per burst). */
  changed(): void {
    this.dirty = true;
    if (this.stopped || this.timer !== undefined) return;
    const set = this.o.setTimer ?? ((fn: () => void, ms: number) => setTimeout(fn, ms));
    this.timer = set(() => {
      this.timer = undefined;
      void this.flush();
    }, this.o.delayMs ?? BAN_SAVE_DELAY_MS);
  }

  /** Saves now if anything changed since the last save; writes never overlap. */
  flush(): Promise<void> {
    if (this.timer !== undefined) {
      (this.o.clearTimer ?? ((t: unknown) => clearTimeout(t as ReturnType<typeof setTimeout>)))(this.timer);
      this.timer = undefined;
    }
    this.writing = this.writing.then(async () => {
      if (!this.dirty) return;
      this.dirty = false;
      try {
        await this.store.save(savedBansObject(this.book.saved(this.o.max ?? BAN_PERSIST_MAX)));
        this.stats.saves++;
      } catch (e) {
        this.fail(e);
      }
    });
    return this.writing;
  }

  /** Saves what is pending and stops saving. */
  async close(): Promise<void> {
    await this.flush();
    this.stopped = true;
    this.book.onBan = undefined;
  }

  private fail(e: unknown): void {
    this.stats.failures++;
    this.o.onError?.(e);
  }
}

/** The object a BanStore is given to keep: `{ v: 1, bans }`. */
export function savedBansObject(bans: SavedBan[]): SavedBans {
  return { v: SAVED_BANS_VERSION, bans };
}

/** Meta key of the saved bans in a node's ledger store (the browser's IndexedDB meta table). */
export const BANS_META = 'peer-bans';

/** A BanStore over a ledger store's meta table (Dexie in the browser, memory in tests). */
export function metaBanStore(store: Pick<LedgerStore, 'getMeta' | 'setMeta'>, key = BANS_META): BanStore {
  return { load: () => store.getMeta(key), save: (saved) => store.setMeta(key, saved) };
}
