// The bundled records app: key → JSON value on the Y.Map "records" of a LedgerState.
//
// A delete writes a tombstone rather than removing the map entry, so it is an authored write:
// a delete racing a put is a conflict like two puts, and Yjs' usual rule (the higher clientID
// among concurrent writes) decides whether the key survives, the same way on every node.
import type * as Y from 'yjs';
import type { Conflict, Removal } from '../types.js';
import { RECORDS_TYPE_NAME } from '../constants.js';
import { StateUsageError } from '../errors.js';
import type { LedgerState } from './doc.js';
import { ConflictLog, compareKeys, type KeyWrite } from './conflicts.js';
import { decodeStored, encodeStored, isValidKey, validateKey, validateValue, type JsonValue } from './record-value.js';
import { SortedKeys } from './sorted-keys.js';

export interface RecordEntry {
  key: string;
  value: JsonValue;
  /** Author (hex) of the write that holds the current value. */
  author: string;
  /** That author's wall clock and lamport clock at the write. */
  time: number;
  lamport: number;
}

export interface RecordChange {
  key: string;
  action: 'add' | 'update' | 'delete';
  /** The new value, absent for 'delete'. */
  value?: JsonValue;
}

const isKey = (key: unknown): key is string => typeof key === 'string';

export class Records {
  readonly map: Y.Map<unknown>;
  private readonly conflictLog: ConflictLog;
  /** Keys with a visible (valid, not deleted) record: lets events say add/update/delete. */
  private readonly present = new Set<string>();
  /**
   * The keys of `present` in code-unit order, for list() (sorted-keys.ts): built on the first
   * list() (a node whose page never lists keeps none), then kept as keys become visible or
   * invisible, O(log n) each. Sorting every key on each list() cost 9.4% of a tab worker's CPU
   * samples in S10 at ~37k records (the page re-reads the first 500 every 250 ms while records
   * change), and merging the changes into a sorted array at each list() O(n) a call.
   */
  private index: SortedKeys | null = null;
  private readonly listeners = new Set<(changes: RecordChange[]) => void>();
  private readonly onEvent = (event: Y.YMapEvent<unknown>) => {
    const changes: RecordChange[] = [];
    // A map item without a key (a list-style item a payload put into the map) reports the key
    // null: it is never a record, and isValidKey/compareKeys would throw on it mid-apply.
    for (const key of [...event.keysChanged].filter(isKey).sort(compareKeys)) {
      const before = this.present.has(key);
      const now = this.entry(key);
      if (now === undefined) {
        this.present.delete(key);
        if (before) {
          this.changedVisibility(key);
          changes.push({ key, action: 'delete' });
        }
      } else {
        this.present.add(key);
        if (!before) {
          this.changedVisibility(key);
          changes.push({ key, action: 'add', value: clone(now.value) });
        } else if (event.changes.keys.has(key)) changes.push({ key, action: 'update', value: clone(now.value) });
      }
    }
    if (changes.length > 0) for (const cb of this.listeners) cb(changes);
  };

  constructor(
    private readonly state: LedgerState,
    name: string = RECORDS_TYPE_NAME
  ) {
    this.map = state.registerType(name, 'map');
    for (const key of this.map._map.keys()) if (this.entry(key) !== undefined) this.present.add(key);
    this.map.observe(this.onEvent);
    this.conflictLog = new ConflictLog(this.map, describeWrite);
  }

  /** Writes `value` under `key`; returns the payload to sign and append. */
  put(key: string, value: unknown): Uint8Array {
    validateKey(key);
    const clean = validateValue(value);
    const payload = this.write(key, clean);
    if (payload === null) throw new Error('unreachable: a put always changes the document');
    return payload;
  }

  /** Deletes `key` (writes a tombstone); null if there was nothing to delete. */
  delete(key: string): Uint8Array | null {
    validateKey(key);
    if (this.entry(key) === undefined) return null;
    return this.write(key, undefined);
  }

  get(key: string): JsonValue | undefined {
    const e = this.entry(key);
    return e === undefined ? undefined : clone(e.value);
  }

  /** The current record of `key` with its metadata; undefined if absent, deleted or invalid. */
  entry(key: string): RecordEntry | undefined {
    if (!isValidKey(key)) return undefined;
    const item = this.map._map.get(key);
    if (item === undefined || item.deleted) return undefined;
    const rec = decodeStored(item.content.getContent()[item.length - 1], item.id.client);
    if (rec === null || rec.deleted) return undefined;
    return { key, value: rec.value as JsonValue, author: rec.author, time: rec.time, lamport: rec.lamport };
  }

  /**
   * The visible records sorted by key (code-unit order): every one, or the first `limit`. Only the
   * records returned are decoded and copied (a page showing 500 of 100k records asks for 500).
   */
  list(limit = Infinity): RecordEntry[] {
    const out: RecordEntry[] = [];
    if (!(limit > 0)) return out;
    for (const key of this.sortedKeys()) {
      const e = this.entry(key);
      if (e === undefined) continue;
      out.push({ ...e, value: clone(e.value) });
      if (out.length >= limit) break;
    }
    return out;
  }

  /** Notes a key that became visible or invisible, for the index (when built). */
  private changedVisibility(key: string): void {
    if (this.index === null) return;
    if (this.present.has(key)) this.index.add(key);
    else this.index.delete(key);
  }

  /** The visible keys in code-unit order, lazily. */
  private sortedKeys(): IterableIterator<string> {
    this.index ??= new SortedKeys(this.present);
    return this.index.keys();
  }

  /** How many visible records there are. */
  count(): number {
    return this.present.size;
  }

  /**
   * Called after every transaction that changed visible records (local, remote or snapshot).
   * Callbacks run inside Yjs' observer phase: they must not write to the state.
   */
  subscribe(cb: (changes: RecordChange[]) => void): () => void {
    this.listeners.add(cb);
    return () => this.listeners.delete(cb);
  }

  conflicts(): Conflict[] {
    return this.conflictLog.conflicts();
  }

  conflictCount(): number {
    return this.conflictLog.count();
  }

  /** Sequential overwrites and deletes of other authors' records (see Removal). */
  removals(): Removal[] {
    return this.conflictLog.removals();
  }

  /** Called with the full conflict list whenever it changes (builds the list for each call). */
  subscribeConflicts(cb: (conflicts: Conflict[]) => void): () => void {
    return this.conflictLog.subscribe(() => cb(this.conflictLog.conflicts()));
  }

  /** Called whenever the conflict list changes, without building it (read conflicts() when needed). */
  onConflictsChanged(cb: () => void): () => void {
    return this.conflictLog.subscribe(cb);
  }

  destroy(): void {
    this.map.unobserve(this.onEvent);
    this.conflictLog.destroy();
    this.listeners.clear();
  }

  private write(key: string, value: JsonValue | undefined): Uint8Array | null {
    const author = this.state.author;
    if (author === null) throw new StateUsageError('read-only state: no local author');
    const { time, lamport } = this.state.nextStamp();
    const stored = encodeStored(value, author, time, lamport);
    return this.state.transactLocal(() => this.map.set(key, stored));
  }
}

function describeWrite(w: KeyWrite): { author: string; time: number; value?: unknown; deleted?: boolean } {
  const rec = decodeStored(w.raw, w.client);
  if (rec === null) return { author: `client:${w.client}`, time: 0 };
  return { author: rec.author, time: rec.time, value: rec.value, deleted: rec.deleted };
}

/**
 * A deep copy of a record value (checked JSON: decodeStored, so plain arrays and objects without
 * a `__proto__` key, no cycles). Copied by hand: structuredClone serializes and deserializes
 * each value, several times the work for the small values of a list() of thousands of records.
 */
function clone(v: JsonValue): JsonValue {
  if (v === null || typeof v !== 'object') return v;
  if (Array.isArray(v)) return v.map(clone);
  const out: { [key: string]: JsonValue } = {};
  for (const k in v) if (Object.hasOwn(v, k)) out[k] = clone(v[k]);
  return out;
}
