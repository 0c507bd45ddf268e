// Merkle tree over a set of feed heads (author, seq, head hash), keyed by the author key.
//
// Shape: a 16-ary radix tree over the author's hex nibbles. The subtree at a path (a hex prefix
// of 0..MERKLE_MAX_DEPTH nibbles) is a LEAF when it holds at most MERKLE_LEAF_MAX heads or sits at
// the maximum depth, otherwise an INNER node with up to 16 children. The shape is therefore a
// function of the set of authors alone, and a node's hash a function of the heads under it:
// equal sets give equal roots whatever the order of updates. Authors are Ed25519 keys (uniform);
// a hostile author grinding keys to share a prefix needs ~2^64 work per 16 nibbles, and depth is
// bounded anyway, so a path is at most 16 levels whatever happens.
//
// Stable hashes (plain SHA-256, PROTOCOL.md §11.2):
//   leaf  = SHA-256(0x00 || for each head by author: author(32) || seq(u64 BE) || hash(32))
//   inner = SHA-256(0x01 || for each non-empty child c: c(1 byte) || childHash(32))
// Fingerprints exchanged in a sync are keyed per exchange with SipHash-2-4 (a PRF, 64-bit output),
// cut to a short prefix on the wire (3 bytes per child, 4 per head; PROTOCOL.md §11.2):
//   node fp = SipHash-2-4(salt16, stableHash(32)),  head fp = SipHash-2-4(salt16, record(72)),
// where salt16 = SHA-256(tag || saltA || saltB)[0..16] mixes a fresh random salt of each side.
// Neither side can choose it alone, so a hostile author cannot prepare two different feed states
// whose fingerprints collide (without the key, a PRF output is unpredictable: each try is a
// 2^-(8 × width) guess, made within one exchange only); the full 32-byte stable root, which is
// never truncated, is collision resistant as is, so a collision hides a difference for one
// exchange and the next one (a fresh salt, the roots still differ) finds it.
//
// Maintenance is incremental: set/remove touch one root-to-leaf path (O(depth) nodes, each
// re-hashed lazily the next time a hash is read), never the whole tree.
import type { FeedHead } from '../types.js';
import { fromHex } from '../bytes.js';
import { sha256 } from '../hash.js';
import { InvalidHeadsError } from '../errors.js';
import { sipHash24, sipKey, type SipKey } from './siphash.js';
import {
  MERKLE_FANOUT,
  MERKLE_INNER_TAG,
  MERKLE_LEAF_MAX,
  MERKLE_LEAF_TAG,
  MERKLE_MAX_DEPTH,
  SYNC_FINGERPRINT_BYTES,
  SYNC_SALT_BYTES,
  SYNC_SALT_TAG
} from './constants.js';

const HEX64 = /^[0-9a-f]{64}$/;
const PATH = /^[0-9a-f]{0,16}$/;
/** author (32) + seq (u64 BE) + hash (32): one head as hashed in a leaf. */
export const HEAD_RECORD_BYTES = 72;

/** A head with its 72-byte record (author || seq u64 BE || hash), as hashed in a leaf. */
export interface HeadRecord {
  readonly head: FeedHead;
  readonly bytes: Uint8Array;
}
type Rec = HeadRecord;

interface Node {
  count: number;
  /** undefined: changed since last hashed. */
  hash: Uint8Array | undefined;
  /** Leaf: heads by author. Inner: null. */
  leaf: Map<string, Rec> | null;
  children: (Node | undefined)[] | null;
  /**
   * Leaf only: the stable hashes of its heads grouped by the next nibble (its 16 children were it
   * opened in a compare), 16 × 32 bytes, with the bitmap of non-empty groups; cached like `hash`
   * (cleared whenever the leaf changes), so a leaf opened in many exchanges is hashed once.
   */
  groups: { mask: number; hashes: Uint8Array } | undefined;
}

/** A subtree as seen by a compare: its head count and stable hash. */
export interface NodeInfo {
  count: number;
  hash: Uint8Array;
}

const newLeaf = (): Node => ({ count: 0, hash: undefined, leaf: new Map(), children: null, groups: undefined });
const nib = (author: string, depth: number): number => parseInt(author[depth], 16);
const HEX = '0123456789abcdef';

function recordOf(h: FeedHead): Rec {
  if (h === null || typeof h !== 'object') throw new InvalidHeadsError('head must be an object');
  if (typeof h.author !== 'string' || !HEX64.test(h.author)) throw new InvalidHeadsError('head author must be 64 hex');
  if (typeof h.hash !== 'string' || !HEX64.test(h.hash)) throw new InvalidHeadsError('head hash must be 64 hex');
  if (!Number.isSafeInteger(h.seq) || h.seq < 1) throw new InvalidHeadsError('head seq must be a safe integer >= 1');
  const bytes = new Uint8Array(HEAD_RECORD_BYTES);
  bytes.set(fromHex(h.author), 0);
  const view = new DataView(bytes.buffer);
  view.setUint32(32, Math.floor(h.seq / 2 ** 32));
  view.setUint32(36, h.seq >>> 0);
  bytes.set(fromHex(h.hash), 40);
  return { head: { author: h.author, seq: h.seq, hash: h.hash }, bytes };
}

function leafHash(recs: Iterable<Rec>): Uint8Array {
  const sorted = [...recs].sort((a, b) => (a.head.author < b.head.author ? -1 : 1));
  const buf = new Uint8Array(1 + sorted.length * HEAD_RECORD_BYTES);
  buf[0] = MERKLE_LEAF_TAG;
  sorted.forEach((r, i) => buf.set(r.bytes, 1 + i * HEAD_RECORD_BYTES));
  return sha256(buf);
}

/** Leaf hashes of `recs` grouped by their author's nibble at `depth` (16 × 32 bytes), with the non-empty bitmap. */
function groupHashes(recs: Iterable<Rec>, depth: number): { mask: number; hashes: Uint8Array } {
  const groups: Rec[][] = Array.from({ length: MERKLE_FANOUT }, () => []);
  for (const r of recs) groups[nib(r.head.author, depth)].push(r);
  const hashes = new Uint8Array(MERKLE_FANOUT * 32);
  let mask = 0;
  groups.forEach((g, i) => {
    if (g.length === 0) return;
    mask |= 1 << i;
    hashes.set(leafHash(g), 32 * i);
  });
  return { mask, hashes };
}

/** Checks a compare path: lowercase hex, at most MERKLE_MAX_DEPTH nibbles. */
export function isValidPath(path: string): boolean {
  return typeof path === 'string' && PATH.test(path);
}

/** Incrementally maintained Merkle tree over feed heads. */
export class HeadsTree {
  private root: Node = newLeaf();
  private readonly byAuthor = new Map<string, Rec>();

  static from(heads: Iterable<FeedHead>): HeadsTree {
    const t = new HeadsTree();
    for (const h of heads) t.set(h);
    return t;
  }

  get size(): number {
    return this.byAuthor.size;
  }

  get(author: string): FeedHead | undefined {
    return this.byAuthor.get(author)?.head;
  }

  heads(): FeedHead[] {
    return [...this.byAuthor.values()].map((r) => r.head);
  }

  /** Inserts or replaces the head of `head.author`. O(depth). Throws InvalidHeadsError. */
  set(head: FeedHead): void {
    const old = this.byAuthor.get(head.author);
    if (old && old.head.seq === head.seq && old.head.hash === head.hash) return;
    const rec = recordOf(head);
    this.byAuthor.set(rec.head.author, rec);
    this.insert(this.root, 0, rec, !old);
  }

  /** Removes an author's head; false when absent. O(depth) (plus O(MERKLE_LEAF_MAX) on a merge). */
  remove(author: string): boolean {
    if (!this.byAuthor.delete(author)) return false;
    this.removeFrom(this.root, 0, author);
    return true;
  }

  /** Stable root hash (32 bytes). */
  rootHash(): Uint8Array {
    return this.hashOf(this.root);
  }

  /** Count and stable hash of the subtree at `path` (the empty leaf when nothing is there). */
  node(path: string): NodeInfo {
    const { node, depth } = this.walk(path);
    if (!node) return { count: 0, hash: leafHash([]) };
    if (depth === path.length) return { count: node.count, hash: this.hashOf(node) };
    const recs = [...node.leaf!.values()].filter((r) => r.head.author.startsWith(path));
    return { count: recs.length, hash: leafHash(recs) };
  }

  /** Heads under `path`. O(depth), or O(leaf size) for a path inside a leaf. */
  count(path: string): number {
    const { node, depth } = this.walk(path);
    if (!node) return 0;
    if (depth === path.length) return node.count;
    let n = 0;
    for (const a of node.leaf!.keys()) if (a.startsWith(path)) n++;
    return n;
  }

  /** The record of `author`'s head, if held. */
  record(author: string): HeadRecord | undefined {
    return this.byAuthor.get(author);
  }

  /** Every head under `path`, sorted by author. Cost: the size of that subtree. */
  itemsUnder(path: string): FeedHead[] {
    return this.recordsUnder(path).map((r) => r.head);
  }

  /** Every head record under `path`, sorted by author. Cost: the size of that subtree. */
  recordsUnder(path: string): HeadRecord[] {
    const { node } = this.walk(path);
    const out: Rec[] = [];
    if (node) this.collectRecs(node, out);
    const under = path.length === 0 ? out : out.filter((r) => r.head.author.startsWith(path));
    return under.sort((a, b) => (a.head.author < b.head.author ? -1 : 1));
  }

  /**
   * A cursor over the subtree at `path`: up to `limit` head records there whose author sorts
   * after `after` ('' = from the start), in author order. Cost: O(depth × fan-out + limit), plus
   * sorting the leaves it visits; equal subtrees before the cursor are skipped, never read.
   */
  recordsAfter(path: string, after: string, limit: number): HeadRecord[] {
    const { node, depth } = this.walk(path);
    const out: Rec[] = [];
    if (node && limit > 0) this.collectAfter(node, path.slice(0, depth), path, after, limit, out);
    return out;
  }

  /** Stable hashes of the 16 children of `path` (undefined = empty). path must be shorter than the max depth. */
  childHashes(path: string): (Uint8Array | undefined)[] {
    const { node, depth } = this.walk(path);
    const out: (Uint8Array | undefined)[] = new Array(MERKLE_FANOUT).fill(undefined);
    if (!node) return out;
    if (depth === path.length && node.children) {
      node.children.forEach((c, i) => (out[i] = c && c.count > 0 ? this.hashOf(c) : undefined));
      return out;
    }
    if (depth === path.length) {
      const g = (node.groups ??= groupHashes(node.leaf!.values(), depth));
      for (let i = 0; i < MERKLE_FANOUT; i++) if (g.mask & (1 << i)) out[i] = g.hashes.subarray(32 * i, 32 * i + 32);
      return out;
    }
    const groups: Rec[][] = Array.from({ length: MERKLE_FANOUT }, () => []);
    for (const r of node.leaf!.values())
      if (r.head.author.startsWith(path)) groups[nib(r.head.author, path.length)].push(r);
    groups.forEach((g, i) => (out[i] = g.length > 0 ? leafHash(g) : undefined));
    return out;
  }

  private walk(path: string): { node: Node | undefined; depth: number } {
    let node: Node | undefined = this.root;
    let d = 0;
    while (d < path.length && node && node.children) {
      node = node.children[nib(path, d)];
      d++;
    }
    return { node, depth: d };
  }

  private collect(node: Node, out: FeedHead[]): void {
    if (node.leaf) for (const r of node.leaf.values()) out.push(r.head);
    else for (const c of node.children!) if (c) this.collect(c, out);
  }

  private collectRecs(node: Node, out: Rec[]): void {
    if (node.leaf) for (const r of node.leaf.values()) out.push(r);
    else for (const c of node.children!) if (c) this.collectRecs(c, out);
  }

  private collectAfter(node: Node, prefix: string, path: string, after: string, limit: number, out: Rec[]): void {
    if (node.leaf) {
      const recs = [...node.leaf.values()].filter((r) => r.head.author > after && r.head.author.startsWith(path));
      recs.sort((a, b) => (a.head.author < b.head.author ? -1 : 1));
      for (const r of recs.slice(0, limit - out.length)) out.push(r);
      return;
    }
    node.children!.forEach((c, i) => {
      const p = prefix + HEX[i];
      // Every author under p sorts before the cursor when p does before its prefix of equal length.
      if (c && out.length < limit && p >= after.slice(0, p.length)) this.collectAfter(c, p, path, after, limit, out);
    });
  }

  private hashOf(node: Node): Uint8Array {
    if (node.hash) return node.hash;
    if (node.leaf) {
      node.hash = leafHash(node.leaf.values());
      return node.hash;
    }
    const parts: Uint8Array[] = [];
    node.children!.forEach((c, i) => {
      if (c && c.count > 0) parts.push(Uint8Array.of(i), this.hashOf(c));
    });
    const buf = new Uint8Array(1 + (parts.length / 2) * 33);
    buf[0] = MERKLE_INNER_TAG;
    let off = 1;
    for (const p of parts) {
      buf.set(p, off);
      off += p.length;
    }
    node.hash = sha256(buf);
    return node.hash;
  }

  private insert(node: Node, depth: number, rec: Rec, isNew: boolean): void {
    node.hash = undefined;
    node.groups = undefined;
    if (isNew) node.count++;
    if (node.leaf) {
      node.leaf.set(rec.head.author, rec);
      if (node.count > MERKLE_LEAF_MAX && depth < MERKLE_MAX_DEPTH) this.split(node, depth);
      return;
    }
    const i = nib(rec.head.author, depth);
    const child = (node.children![i] ??= newLeaf());
    this.insert(child, depth + 1, rec, isNew);
  }

  private split(node: Node, depth: number): void {
    const recs = [...node.leaf!.values()];
    node.leaf = null;
    node.children = new Array(MERKLE_FANOUT).fill(undefined);
    for (const r of recs) {
      const i = nib(r.head.author, depth);
      this.insert((node.children[i] ??= newLeaf()), depth + 1, r, true);
    }
  }

  private removeFrom(node: Node, depth: number, author: string): void {
    node.hash = undefined;
    node.groups = undefined;
    node.count--;
    if (node.leaf) {
      node.leaf.delete(author);
      return;
    }
    const i = nib(author, depth);
    const child = node.children![i]!;
    this.removeFrom(child, depth + 1, author);
    if (child.count === 0) node.children![i] = undefined;
    if (node.count <= MERKLE_LEAF_MAX) {
      const heads: FeedHead[] = [];
      this.collect(node, heads);
      node.children = null;
      node.leaf = new Map(heads.map((h) => [h.author, this.byAuthor.get(h.author)!]));
    }
  }
}

/** Per-exchange salt: SHA-256(SYNC_SALT_TAG || a || b)[0..16]; a = initiator's salt, b = responder's. */
export function exchangeSalt(a: Uint8Array, b: Uint8Array): Uint8Array {
  const tag = new TextEncoder().encode(SYNC_SALT_TAG);
  const buf = new Uint8Array(tag.length + a.length + b.length);
  buf.set(tag, 0);
  buf.set(a, tag.length);
  buf.set(b, tag.length + a.length);
  return sha256(buf).slice(0, SYNC_SALT_BYTES);
}

/** The per-exchange fingerprint key (SipHash-2-4 key) of an exchange salt (16 bytes). */
export function fingerprintKey(salt: Uint8Array): SipKey {
  return sipKey(salt);
}

const sipOut = new Uint8Array(SYNC_FINGERPRINT_BYTES);

/**
 * Salted fingerprint of a 32-byte node hash or a 72-byte head record: the first `width` bytes
 * (1..8; default 8) of SipHash-2-4(salt, bytes), written to `out` when given (its length must be
 * `width`). Wire widths: SYNC_CHILD_FP_BYTES for children, SYNC_HEAD_FP_BYTES for heads.
 */
export function fingerprint(
  key: SipKey | Uint8Array,
  bytes: Uint8Array,
  width: number = SYNC_FINGERPRINT_BYTES,
  out?: Uint8Array
): Uint8Array {
  if (!Number.isInteger(width) || width < 1 || width > SYNC_FINGERPRINT_BYTES)
    throw new RangeError('fingerprint width must be 1..8 bytes');
  const k = key instanceof Uint32Array ? key : sipKey(key);
  const dst = out ?? new Uint8Array(width);
  if (width === SYNC_FINGERPRINT_BYTES) return sipHash24(k, bytes, 0, bytes.length, dst, 0);
  sipHash24(k, bytes, 0, bytes.length, sipOut, 0);
  for (let i = 0; i < width; i++) dst[i] = sipOut[i];
  return dst;
}

/**
 * The tag of an author at a path of `depth` nibbles: the SYNC_TAG_BYTES author bytes that follow
 * the path's ceil(depth/2) bytes, big-endian (a short author prefix for compact item lists).
 */
export function authorTag(record: Uint8Array, depth: number): number {
  const o = Math.ceil(depth / 2);
  return (record[o] << 8) | record[o + 1];
}
