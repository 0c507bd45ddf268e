// The ledger's current state (LedgerState + Records) behind a stable front: subscribers and
// registered app types stay attached when the state is replaced by a rebuild from the store
// (after a failed write, or a reload). A replacement emits the differences as ordinary change
// events, so a UI drops a value that was never made durable.
import type * as Y from 'yjs';
import type { Conflict } from './types.js';
import type { LedgerState, SharedTypeKind, SharedTypeOf } from './state/doc.js';
import { Records, type RecordChange, type RecordEntry } from './state/records.js';
import { compareKeys } from './state/conflicts.js';

type RecordsListener = (changes: RecordChange[]) => void;
type ConflictsListener = (conflicts: Conflict[]) => void;
type ResetListener = (doc: Y.Doc) => void;

export class StateView {
  private current!: { state: LedgerState; records: Records; off: () => void };
  private readonly recordListeners = new Set<RecordsListener>();
  private readonly conflictListeners = new Set<ConflictsListener>();
  private readonly resetListeners = new Set<ResetListener>();
  /** App types, registered again on every new state. */
  private readonly types = new Map<string, SharedTypeKind>();

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

  subscribe(cb: RecordsListener): () => void {
    this.recordListeners.add(cb);
    return () => void this.recordListeners.delete(cb);
  }

  subscribeConflicts(cb: ConflictsListener): () => void {
    this.conflictListeners.add(cb);
    return () => void this.conflictListeners.delete(cb);
  }

  /** Called with the new document after a replacement: apps re-fetch their registered types. */
  onReset(cb: ResetListener): () => void {
    this.resetListeners.add(cb);
    return () => void this.resetListeners.delete(cb);
  }

  /** Swaps in `next` (already loaded), destroys the old state, and tells subscribers what changed. */
  replace(next: LedgerState): void {
    const beforeRecords = this.current.records.list();
    const beforeConflicts = this.current.records.conflicts();
    this.detach();
    this.attach(next);
    const changes = diffRecords(beforeRecords, this.current.records.list());
    if (changes.length > 0) emit(this.recordListeners, changes);
    const conflicts = this.current.records.conflicts();
    if (JSON.stringify(conflicts) !== JSON.stringify(beforeConflicts)) emit(this.conflictListeners, conflicts);
    emit(this.resetListeners, next.doc);
  }

  destroy(): void {
    this.detach();
    this.recordListeners.clear();
    this.conflictListeners.clear();
    this.resetListeners.clear();
  }

  private attach(state: LedgerState): void {
    for (const [name, kind] of this.types) state.registerType(name, kind);
    const records = new Records(state);
    const offRecords = records.subscribe((changes) => emit(this.recordListeners, changes));
    const offConflicts = records.subscribeConflicts((c) => emit(this.conflictListeners, c));
    const off = () => {
      offRecords();
      offConflicts();
      records.destroy();
      state.destroy();
    };
    this.current = { state, records, off };
  }

  private detach(): void {
    this.current.off();
  }
}

/** Listener errors must not break the ledger (they run inside Yjs observers or write paths). */
function emit<T>(listeners: Set<(v: T) => void>, value: T): void {
  for (const cb of [...listeners]) {
    try {
      cb(value);
    } catch (e) {
      console.error('ledger listener failed', e);
    }
  }
}

function diffRecords(before: RecordEntry[], after: RecordEntry[]): RecordChange[] {
  const old = new Map(before.map((r) => [r.key, r]));
  const out: RecordChange[] = [];
  for (const r of after) {
    const was = old.get(r.key);
    old.delete(r.key);
    if (was === undefined) out.push({ key: r.key, action: 'add', value: r.value });
    else if (
      JSON.stringify(was.value) !== JSON.stringify(r.value) ||
      was.author !== r.author ||
      was.lamport !== r.lamport
    )
      out.push({ key: r.key, action: 'update', value: r.value });
  }
  for (const key of old.keys()) out.push({ key, action: 'delete' });
  return out.sort((a, b) => compareKeys(a.key, b.key));
}
