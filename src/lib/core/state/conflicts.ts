// Conflict detection on a Y.Map, computed from the document structure alone.
//
// Every set of a key is an Item whose `origin` is the key's current item at the writer when it
// wrote (null for the first write). With gc off, all of a key's items stay in a chain (`left`
// links), and the origins form a tree over the writes. Same origin ⇒ neither writer had seen
// the other (had one seen the other, its origin would be that item or a later one): the
// children of one node are pairwise concurrent. Yjs orders siblings by clientID and keeps the
// last one's subtree, so the chain is a preorder walk of the tree.
//
// A conflict is recorded per node P with ≥ 2 children C1..Cm (chain order): the winner is Cm,
// the write Yjs kept; the losers are, for each other child, the value its branch had reached
// (its last write in preorder: the value that was actually displaced). Cm's writer had seen
// nothing after P, so every loser is concurrent with the winner. A write that names the current
// value as its origin is a sequential overwrite and makes no conflict. The result depends only
// on which items are integrated, so every replica (and every replay) derives the same list.
import * as Y from 'yjs';
import type { Conflict, Removal } from '../types.js';

/** One write to a key: a unit of a (possibly merged) Yjs item. */
export interface KeyWrite {
  client: number;
  clock: number;
  /** Index (in the key's writes) of the origin write; -1 for a first write or an origin not among them. */
  parent: number;
  /** The value written (ContentAny unit), undefined if the content is gone. */
  raw: unknown;
}

/** Who wrote a unit, when, and what it left (value, or deleted), as the app reads the stored value. */
export type DescribeWrite = (w: KeyWrite) => { author: string; time: number; value?: unknown; deleted?: boolean };
type Described = ReturnType<DescribeWrite>;

/**
 * The writes of `key` in chain order. Yjs merges consecutive writes of one client into one
 * item (and splits them again on demand), so items are expanded into their units. Each unit's
 * origin is resolved to an index once, here: a later unit of an item has the one before it, and
 * an item's first unit usually names the unit just before it in the chain (a sequential
 * overwrite); any other origin is looked up among all the key's units.
 */
export function keyWrites(map: Y.Map<unknown>, key: string): KeyWrite[] {
  const items: Y.Item[] = [];
  for (let it = map._map.get(key) ?? null; it !== null; it = it.left) {
    if (!(it instanceof Y.Item)) break;
    items.push(it);
  }
  items.reverse();
  const out: KeyWrite[] = [];
  /** Items whose first unit's origin is not the unit just before it: resolved below. */
  const later: [number, Y.ID][] = [];
  for (const it of items) {
    const content = it.content.getContent();
    for (let i = 0; i < it.length; i++) {
      const at = out.length;
      const prev = out[at - 1];
      const o = i === 0 ? it.origin : null;
      let parent = i === 0 ? -1 : at - 1;
      if (o !== null && prev !== undefined && prev.client === o.client && prev.clock === o.clock) parent = at - 1;
      else if (o !== null) later.push([at, o]);
      out.push({ client: it.id.client, clock: it.id.clock + i, parent, raw: content[i] });
    }
  }
  if (later.length > 0) {
    const index = new Map<number, Map<number, number>>();
    out.forEach((w, i) => {
      let byClock = index.get(w.client);
      if (byClock === undefined) index.set(w.client, (byClock = new Map()));
      byClock.set(w.clock, i);
    });
    for (const [at, o] of later) out[at].parent = index.get(o.client)?.get(o.clock) ?? -1;
  }
  return out;
}

/** `describe` called at most once per write of one refresh. */
function memoized(writes: readonly KeyWrite[], describe: DescribeWrite): (i: number) => Described {
  const memo: (Described | undefined)[] = new Array(writes.length);
  return (i) => (memo[i] ??= describe(writes[i]));
}

/** How many children each write has (slot p + 1 for write p, slot 0 for the virtual root), and its last one. */
function childrenOf(writes: readonly KeyWrite[]): { count: Int32Array; last: Int32Array } {
  const count = new Int32Array(writes.length + 1);
  const last = new Int32Array(writes.length + 1).fill(-1);
  writes.forEach((w, i) => {
    count[w.parent + 1]++;
    last[w.parent + 1] = i;
  });
  return { count, last };
}

/** Conflicts of one key, in chain order of their branching point. */
export function keyConflicts(key: string, writes: KeyWrite[], describe: DescribeWrite): Conflict[] {
  return conflictsOf(key, writes, childrenOf(writes), memoized(writes, describe));
}

function conflictsOf(
  key: string,
  writes: readonly KeyWrite[],
  { count, last }: { count: Int32Array; last: Int32Array },
  describe: (i: number) => Described
): Conflict[] {
  // Only branching points (>= 2 children) make conflicts: their children listed, nobody else's.
  const kids = new Map<number, number[]>();
  for (let slot = 0; slot < count.length; slot++) if (count[slot] >= 2) kids.set(slot, []);
  if (kids.size === 0) return [];
  writes.forEach((w, i) => kids.get(w.parent + 1)?.push(i));
  const lastOfBranch = (i: number): number => {
    let n = i;
    while (last[n + 1] !== -1) n = last[n + 1];
    return n;
  };
  const out: Conflict[] = [];
  for (const list of kids.values()) {
    const winner = describe(list[list.length - 1]);
    const losers = list.slice(0, -1).map((c) => describe(lastOfBranch(c)));
    const all = [winner, ...losers];
    out.push({
      key,
      winner: winner.author,
      losers: losers.map((l) => l.author),
      authors: all.map((d) => d.author),
      times: all.map((d) => d.time),
      values: all.map((d) => (d.deleted === true ? null : (d.value ?? null))),
      deleted: all.map((d) => d.deleted === true)
    });
  }
  return out;
}

/**
 * Sequential overwrites and deletes of another author's value: a write whose origin is the only
 * write after it (so not a conflict) and whose author differs from the origin's. Removing a
 * deleted value (re-creating the key) is not a removal.
 */
export function keyRemovals(key: string, writes: KeyWrite[], describe: DescribeWrite): Removal[] {
  return removalsOf(key, writes, childrenOf(writes).count, memoized(writes, describe));
}

/** `count`: childrenOf's; null for a linear history (each write's origin is the write before it). */
function removalsOf(
  key: string,
  writes: readonly KeyWrite[],
  count: Int32Array | null,
  describe: (i: number) => Described
): Removal[] {
  const out: Removal[] = [];
  writes.forEach((w, i) => {
    const p = w.parent;
    if (p === -1 || (count !== null && count[p + 1] !== 1)) return;
    const was = describe(p);
    const now = describe(i);
    if (was.author === now.author || was.deleted === true) return;
    out.push({
      key,
      by: now.author,
      time: now.time,
      deleted: now.deleted === true,
      author: was.author,
      authorTime: was.time,
      value: was.value ?? null
    });
  });
  return out;
}

/** Keeps the conflict list of a Y.Map current as transactions change its keys. */
export class ConflictLog {
  private readonly byKey = new Map<string, { conflicts: Conflict[]; json: string }>();
  private readonly removalsByKey = new Map<string, Removal[]>();
  private readonly listeners = new Set<() => void>();
  private readonly onEvent = (event: Y.YMapEvent<unknown>) => {
    let changed = false;
    // Keyless map items (null key, see Records) have no writes to compare.
    for (const key of event.keysChanged) if (typeof key === 'string') changed = this.refresh(key) || changed;
    // Listeners read conflicts() when they need it: building (and copying) the whole list on
    // every transaction made ingest quadratic in the number of conflicts.
    if (changed) for (const cb of this.listeners) cb();
  };

  constructor(
    private readonly map: Y.Map<unknown>,
    private readonly describe: DescribeWrite
  ) {
    for (const key of map._map.keys()) this.refresh(key);
    map.observe(this.onEvent);
  }

  /** Every conflict, sorted by key, then by position in the key's history. */
  conflicts(): Conflict[] {
    const keys = [...this.byKey.keys()].sort(compareKeys);
    return keys.flatMap((k) => this.byKey.get(k)!.conflicts.map(copy));
  }

  /** How many conflicts there are, without building the list. */
  count(): number {
    let n = 0;
    for (const { conflicts } of this.byKey.values()) n += conflicts.length;
    return n;
  }

  /** Called (with no argument: read conflicts()) whenever the list changes. Returns the unsubscribe function. */
  subscribe(cb: () => void): () => void {
    this.listeners.add(cb);
    return () => this.listeners.delete(cb);
  }

  destroy(): void {
    this.map.unobserve(this.onEvent);
    this.listeners.clear();
  }

  /** Sequential overwrites and deletes of other authors' values, sorted by key, then history. */
  removals(): Removal[] {
    const keys = [...this.removalsByKey.keys()].sort(compareKeys);
    return keys.flatMap((k) => this.removalsByKey.get(k)!.map((r) => ({ ...r })));
  }

  /** Recomputes one key; true if its conflicts changed. */
  private refresh(key: string): boolean {
    const writes = keyWrites(this.map, key);
    // A linear history (the usual case: sequential overwrites) branches nowhere: no conflicts,
    // and each write but the last has one child.
    const linear = writes.every((w, i) => w.parent === i - 1);
    const children = linear ? null : childrenOf(writes);
    const describe = memoized(writes, this.describe);
    const removals = removalsOf(key, writes, children?.count ?? null, describe);
    if (removals.length === 0) this.removalsByKey.delete(key);
    else this.removalsByKey.set(key, removals);
    const conflicts = children === null ? [] : conflictsOf(key, writes, children, describe);
    const prev = this.byKey.get(key);
    if (conflicts.length === 0 && prev === undefined) return false; // none before, none now
    const json = JSON.stringify(conflicts);
    if ((prev?.json ?? '[]') === json) return false;
    if (conflicts.length === 0) this.byKey.delete(key);
    else this.byKey.set(key, { conflicts, json });
    return true;
  }
}

/** Code-unit order, the same on every platform (no locale). */
export function compareKeys(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function copy(c: Conflict): Conflict {
  return {
    ...c,
    losers: [...c.losers],
    authors: [...c.authors],
    times: [...c.times],
    values: structuredClone(c.values),
    deleted: [...c.deleted]
  };
}
