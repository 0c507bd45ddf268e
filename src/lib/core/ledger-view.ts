// The ledger's current state (LedgerState + Records) behind a stable front: subscribers and
// registered app types stay attached when the state is replaced by a rebuild from the store
// (after a failed write, or a reload). A replacement emits the differences as ordinary change
// events, so a UI drops a value that was never made durable.
//
// A local write changes the document before its entry is stored; its events are held until the
// write is durable (commitEvents), so no subscriber ever sees a value that could still be lost.
// If the write fails they are dropped (discardEvents) and the rebuild's replace() reconciles
// subscribers from what they were actually shown.
import type * as Y from 'yjs';
import type { Conflict } from './types.js';
import type { LedgerState, SharedTypeKind, SharedTypeOf } from './state/doc.js';
import { Records, type RecordChange, type RecordEntry } from './state/records.js';
import { compareKeys } from './state/conflicts.js';

/** Events of a local write in progress, not delivered yet. */
interface Held {
  changes: RecordChange[][];
  /** The conflict list changed (it is read once, when the events are delivered). */
  conflicts: boolean;
}

/** What subscribers were not shown of a failed write: per key, whether they had the key. */
interface Dropped {
  hadKey: Map<string, boolean>;
  conflicts: boolean;
}

export class StateView {
  private current!: { state: LedgerState; records: Records; off: () => void };
  private readonly recordListeners = new Listeners<[RecordChange[]]>();
  private readonly conflictListeners = new Listeners<[Conflict[]]>();
  private readonly resetListeners = new Listeners<[Y.Doc]>();
  private readonly untrackedListeners = new Listeners<[Uint8Array]>();
  private readonly defectListeners = new Listeners<[string, boolean]>();
  /** App types, registered again on every new state. */
  private readonly types = new Map<string, SharedTypeKind>();
  private held: Held | null = null;
  private dropped: Dropped | null = null;

  constructor(state: LedgerState) {
    this.attach(state);
  }

  get state(): LedgerState {
    return this.current.state;
  }

  get records(): Records {
    return this.current.records;
  }

  registerType<K extends SharedTypeKind>(name: string, kind: K): SharedTypeOf<K> {
    const type = this.current.state.registerType(name, kind);
    this.types.set(name, kind);
    return type;
  }

  subscribe(cb: (changes: RecordChange[]) => void): () => void {
    return this.recordListeners.add(cb);
  }

  subscribeConflicts(cb: (conflicts: Conflict[]) => void): () => void {
    return this.conflictListeners.add(cb);
  }

  /** Called with the new document after a replacement: apps re-fetch their registered types. */
  onReset(cb: (doc: Y.Doc) => void): () => void {
    return this.resetListeners.add(cb);
  }

  /** Local changes made on the document outside transactLocal (LedgerState.onUntrackedWrite), on every state. */
  onUntrackedWrite(cb: (payload: Uint8Array) => void): () => void {
    return this.untrackedListeners.add(cb);
  }

  /** Direct changes that must be undone (LedgerState.onUntrackedDefect), on every state. */
  onUntrackedDefect(cb: (reason: string, payload: boolean) => void): () => void {
    return this.defectListeners.add(cb);
  }

  /** A local write starts: hold its record and conflict events until commitEvents/discardEvents. */
  holdEvents(): void {
    if (this.held !== null) this.discardEvents(); // defensive: a previous write never ended
    this.held = { changes: [], conflicts: false };
  }

  /** The write is durable: deliver what it changed. */
  commitEvents(): void {
    const held = this.held;
    this.held = null;
    if (held === null) return;
    for (const changes of held.changes) this.recordListeners.emit(changes);
    if (held.conflicts) this.emitConflicts();
  }

  /** The write failed: forget its events; the next replace() corrects subscribers for these keys. */
  discardEvents(): void {
    const held = this.held;
    this.held = null;
    if (held === null || (held.changes.length === 0 && !held.conflicts)) return;
    const dropped: Dropped = this.dropped ?? { hadKey: new Map(), conflicts: false };
    for (const changes of held.changes) {
      // The first event of a key tells whether subscribers had it: only 'add' means they did not.
      for (const c of changes) if (!dropped.hadKey.has(c.key)) dropped.hadKey.set(c.key, c.action !== 'add');
    }
    dropped.conflicts ||= held.conflicts;
    this.dropped = dropped;
  }

  /** Swaps in `next` (already loaded), destroys the old state, and tells subscribers what changed. */
  replace(next: LedgerState): void {
    if (this.held !== null) this.discardEvents();
    const dropped = this.dropped;
    this.dropped = null;
    const beforeRecords = this.current.records.list();
    const beforeConflicts = this.current.records.conflicts();
    this.detach();
    this.attach(next);
    const after = this.current.records.list();
    const changes = diffRecords(beforeRecords, after, dropped?.hadKey);
    if (changes.length > 0) this.recordListeners.emit(changes);
    const conflicts = this.current.records.conflicts();
    if (dropped?.conflicts || JSON.stringify(conflicts) !== JSON.stringify(beforeConflicts)) {
      this.conflictListeners.emit(conflicts);
    }
    this.resetListeners.emit(next.doc);
  }

  destroy(): void {
    this.held = null;
    this.dropped = null;
    this.detach();
    this.recordListeners.clear();
    this.conflictListeners.clear();
    this.resetListeners.clear();
    this.untrackedListeners.clear();
    this.defectListeners.clear();
  }

  /** Builds the conflict list only when somebody listens. */
  private emitConflicts(): void {
    if (this.conflictListeners.size > 0) this.conflictListeners.emit(this.current.records.conflicts());
  }

  private attach(state: LedgerState): void {
    for (const [name, kind] of this.types) state.registerType(name, kind);
    const records = new Records(state);
    const offRecords = records.subscribe((changes) => {
      if (this.held !== null) this.held.changes.push(changes);
      else this.recordListeners.emit(changes);
    });
    const offConflicts = records.onConflictsChanged(() => {
      if (this.held !== null) this.held.conflicts = true;
      else this.emitConflicts();
    });
    const offUntracked = state.onUntrackedWrite((payload) => this.untrackedListeners.emit(payload));
    const offDefects = state.onUntrackedDefect((reason, payload) => this.defectListeners.emit(reason, payload));
    const off = () => {
      offRecords();
      offConflicts();
      offUntracked();
      offDefects();
      records.destroy();
      state.destroy();
    };
    this.current = { state, records, off };
  }

  private detach(): void {
    this.current.off();
  }
}

/**
 * A set of callbacks of one kind. A throwing callback is logged and never breaks the caller
 * (they run inside Yjs observers and write paths).
 */
export class Listeners<A extends unknown[]> {
  private readonly set = new Set<(...args: A) => void>();

  get size(): number {
    return this.set.size;
  }

  add(cb: (...args: A) => void): () => void {
    this.set.add(cb);
    return () => void this.set.delete(cb);
  }

  emit(...args: A): void {
    for (const cb of [...this.set]) {
      try {
        cb(...args);
      } catch (e) {
        console.error('ledger listener failed', e);
      }
    }
  }

  clear(): void {
    this.set.clear();
  }
}

/**
 * Changes from `before` (the replaced state) to `after`. Keys in `unseen` were changed by a write
 * whose events were never delivered: for them subscribers still hold their older view, known
 * only as "had the key or not", so they get what the store has (a repeated update at worst,
 * never an add/delete pair for a value they were never shown).
 */
function diffRecords(before: RecordEntry[], after: RecordEntry[], unseen?: Map<string, boolean>): RecordChange[] {
  const old = new Map(before.map((r) => [r.key, r]));
  const out: RecordChange[] = [];
  const pending = new Map(unseen);
  for (const r of after) {
    const was = old.get(r.key);
    old.delete(r.key);
    const had = pending.get(r.key);
    pending.delete(r.key);
    if (had !== undefined) out.push({ key: r.key, action: had ? 'update' : 'add', value: r.value });
    else if (was === undefined) out.push({ key: r.key, action: 'add', value: r.value });
    else if (
      JSON.stringify(was.value) !== JSON.stringify(r.value) ||
      was.author !== r.author ||
      was.lamport !== r.lamport
    )
      out.push({ key: r.key, action: 'update', value: r.value });
  }
  for (const key of old.keys()) {
    const had = pending.get(key);
    pending.delete(key);
    if (had !== false) out.push({ key, action: 'delete' });
  }
  // Unseen keys in neither state: subscribers still have them only if they had them.
  for (const [key, had] of pending) if (had) out.push({ key, action: 'delete' });
  return out.sort((a, b) => compareKeys(a.key, b.key));
}
