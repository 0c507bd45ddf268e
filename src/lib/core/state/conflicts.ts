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
  /** "client:clock" of the origin write, or null for a first write. */
  origin: string | null;
  /** The value written (ContentAny unit), undefined if the content is gone. */
  raw: unknown;
}

/** Who wrote a unit, when, and what it left (value, or deleted), as the app reads the stored value. */
export type DescribeWrite = (w: KeyWrite) => { author: string; time: number; value?: unknown; deleted?: boolean };

const idKey = (client: number, clock: number) => `${client}:${clock}`;

/**
 * The writes of `key` in chain order. Yjs merges consecutive writes of one client into one
 * item (and splits them again on demand), so items are expanded into their units.
 */
export function keyWrites(map: Y.Map<unknown>, key: string): KeyWrite[] {
  const items: Y.Item[] = [];
  for (let it = map._map.get(key) ?? null; it !== null; it = it.left) {
    if (!(it instanceof Y.Item)) break;
    items.push(it);
  }
  items.reverse();
  const out: KeyWrite[] = [];
  for (const it of items) {
    const content = it.content.getContent();
    for (let i = 0; i < it.length; i++) {
      const origin = i === 0 ? it.origin : Y.createID(it.id.client, it.id.clock + i - 1);
      out.push({
        client: it.id.client,
        clock: it.id.clock + i,
        origin: origin === null ? null : idKey(origin.client, origin.clock),
        raw: content[i]
      });
    }
  }
  return out;
}

/** Conflicts of one key, in chain order of their branching point. */
export function keyConflicts(key: string, writes: KeyWrite[], describe: DescribeWrite): Conflict[] {
  const index = new Map<string, number>();
  writes.forEach((w, i) => index.set(idKey(w.client, w.clock), i));
  // children[p + 1] lists the children of write p; children[0] those of the virtual root.
  const children: number[][] = Array.from({ length: writes.length + 1 }, () => []);
  writes.forEach((w, i) => {
    const p = w.origin === null ? -1 : (index.get(w.origin) ?? -1);
    children[p + 1].push(i);
  });
  const lastOfBranch = (i: number): number => {
    let n = i;
    for (let c = children[n + 1]; c.length > 0; c = children[n + 1]) n = c[c.length - 1];
    return n;
  };
  const out: Conflict[] = [];
  for (const kids of children) {
    if (kids.length < 2) continue;
    const winner = describe(writes[kids[kids.length - 1]]);
    const losers = kids.slice(0, -1).map((c) => describe(writes[lastOfBranch(c)]));
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
  const index = new Map<string, number>();
  writes.forEach((w, i) => index.set(idKey(w.client, w.clock), i));
  const children = new Map<number, number[]>();
  writes.forEach((w, i) => {
    const p = w.origin === null ? undefined : index.get(w.origin);
    if (p === undefined) return;
    const list = children.get(p) ?? [];
    list.push(i);
    children.set(p, list);
  });
  const out: Removal[] = [];
  for (const [p, kids] of children) {
    if (kids.length !== 1) continue;
    const was = describe(writes[p]);
    const now = describe(writes[kids[0]]);
    if (was.author === now.author || was.deleted === true) continue;
    out.push({
      key,
      by: now.author,
      time: now.time,
      deleted: now.deleted === true,
      author: was.author,
      authorTime: was.time,
      value: was.value ?? null
    });
  }
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
    const removals = keyRemovals(key, writes, this.describe);
    if (removals.length === 0) this.removalsByKey.delete(key);
    else this.removalsByKey.set(key, removals);
    const conflicts = keyConflicts(key, writes, this.describe);
    const json = JSON.stringify(conflicts);
    const prev = this.byKey.get(key);
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
