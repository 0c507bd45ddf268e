// Whether two documents holding the same structs show them in the same order.
//
// Yjs' list integration (YATA) gives the same order whatever the delivery order only for items
// whose origins were adjacent when they were made. A signed entry can hold an item whose right
// origin lies left of its origin, or skips items its author held; Yjs then places it by what each
// node already holds and by how its neighbours happen to be split, so a node that applied it live
// can show another order than a node that loaded the canonical state (digest.ts), with equal state
// digests. Refusing such items would take each item's causal past, so instead the document loaded
// from the canonical bytes is the reference: a payload that may misplace (mayMisplace) makes the
// next canonical computation compare orders (sameOrder), and the ledger reloads from the
// canonical state when they differ (order-repair.ts).
import * as Y from 'yjs';
import type { ParsedStruct } from '../yjs-update.js';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type AnyType = Y.AbstractType<any>;

/** Unit ids of a list in order, as runs: [client, clock, length, client, clock, length, ...]. */
function listRuns(type: AnyType | undefined): number[] {
  const out: number[] = [];
  for (let it = type?._start ?? null; it !== null; it = it.right) {
    const n = out.length;
    if (n > 0 && out[n - 3] === it.id.client && out[n - 2] + out[n - 1] === it.id.clock) out[n - 1] += it.length;
    else out.push(it.id.client, it.id.clock, it.length);
  }
  return out;
}

function sameNumbers(a: readonly number[], b: readonly number[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** The last unit id of a map key's current item, or '' for none. */
function lastId(item: Y.Item | undefined): string {
  return item === undefined ? '' : `${item.id.client}:${item.id.clock + item.length - 1}`;
}

/** Nested types a reader can reach in `type`: its list items' and its keys' current items'. */
function nestedTypes(type: AnyType): Y.Item[] {
  const out: Y.Item[] = [];
  for (let it = type._start; it !== null; it = it.right) if (it.content instanceof Y.ContentType) out.push(it);
  for (const it of type._map.values()) if (it.content instanceof Y.ContentType) out.push(it);
  return out;
}

/**
 * True when `a` and `b` (the same integrated structs, split differently) order every list the
 * same and give every map key the same current item, in every root and nested type reachable
 * from `a`'s. O(items); iterative, so nesting depth is no concern.
 */
export function sameOrder(a: Y.Doc, b: Y.Doc): boolean {
  const stack: [AnyType | undefined, AnyType | undefined][] = [];
  for (const name of new Set([...a.share.keys(), ...b.share.keys()]))
    stack.push([a.share.get(name), b.share.get(name)]);
  while (stack.length > 0) {
    const [x, y] = stack.pop()!;
    if (!sameNumbers(listRuns(x), listRuns(y))) return false;
    for (const key of new Set([...(x?._map.keys() ?? []), ...(y?._map.keys() ?? [])]))
      if (lastId(x?._map.get(key)) !== lastId(y?._map.get(key))) return false;
    if (x === undefined) continue;
    for (const item of nestedTypes(x)) {
      if (item.id.clock >= Y.getState(b.store, item.id.client)) return false;
      const other = Y.getItem(b.store, item.id);
      if (!(other instanceof Y.Item) || !(other.content instanceof Y.ContentType)) return false;
      stack.push([(item.content as Y.ContentType).type, other.content.type]);
    }
  }
  return true;
}

type Id = { client: number; clock: number };
type PlacedStruct = Pick<ParsedStruct, 'client' | 'clock' | 'length' | 'origin' | 'rightOrigin'>;

/**
 * Whether an item with these origins sits where its author saw it in `doc`'s list: `right`
 * directly follows `origin` (null origin: `right` starts the list; null right origin: `origin`
 * ends it). Items of a map key are not judged here (their rules are LedgerState.checkPlacement's).
 */
function adjacentInDoc(doc: Y.Doc, origin: Id | null, right: Id | null): boolean {
  if (origin === null && right === null) return true;
  for (const id of [origin, right]) if (id !== null && id.clock >= Y.getState(doc.store, id.client)) return false;
  const at = (id: Id) => Y.getItem(doc.store, Y.createID(id.client, id.clock));
  if (origin === null) {
    const item = at(right!);
    if (!(item instanceof Y.Item)) return false;
    return item.parentSub !== null || (right!.clock === item.id.clock && item.left === null);
  }
  const item = at(origin);
  if (!(item instanceof Y.Item)) return false;
  if (item.parentSub !== null) return true;
  const last = origin.clock === item.id.clock + item.length - 1;
  if (right === null) return last && item.right === null;
  if (!last) return right.client === origin.client && right.clock === origin.clock + 1;
  const next = item.right;
  return next !== null && next.id.client === right.client && next.id.clock === right.clock;
}

/**
 * Whether a payload about to be applied to `doc` may place an item in an order that depends on
 * delivery (see the file comment), so the next canonical computation must compare orders. False
 * only when every struct with an origin or a right origin has them adjacent (a null origin: at
 * the start; a null right origin: at the end): in `doc` (which holds the struct's causal past),
 * or through an earlier struct of the same payload that is itself fine (the struct continues it,
 * or is inserted just before it), each adjacency used once. Honest typing, and every records
 * write, gives false; an honest insert next to a concurrent one already here gives true (one
 * more load at the next canonical computation, no reload). O(structs) lookups.
 */
export function mayMisplace(doc: Y.Doc, structs: readonly PlacedStruct[]): boolean {
  // Each adjacency serves one struct: a second struct between the same two items skips the first.
  const usedPairs = new Set<string>();
  const byLast = new Map<string, PlacedStruct>(); // fine structs by their last unit's id
  const byFirst = new Map<string, PlacedStruct>(); // and by their first unit's id
  const key = (id: Id | null) => (id === null ? '-' : `${id.client}:${id.clock}`);
  for (const st of structs) {
    const { origin: o, rightOrigin: r } = st;
    if (o !== null || r !== null) {
      const oKey = key(o);
      const rKey = key(r);
      const left = o === null ? undefined : byLast.get(oKey);
      const right = r === null ? undefined : byFirst.get(rKey);
      if (left !== undefined && sameIdOrNull(left.rightOrigin, r)) byLast.delete(oKey);
      else if (right !== undefined && sameIdOrNull(right.origin, o)) byFirst.delete(rKey);
      else if (usedPairs.has(`${oKey}>${rKey}`) || !adjacentInDoc(doc, o, r)) return true;
      usedPairs.add(`${oKey}>${rKey}`);
    }
    byLast.set(`${st.client}:${st.clock + st.length - 1}`, st);
    byFirst.set(`${st.client}:${st.clock}`, st);
  }
  return false;
}

function sameIdOrNull(a: Id | null, b: Id | null): boolean {
  return a === null || b === null ? a === b : a.client === b.client && a.clock === b.clock;
}
