// Merkle comparison of two sets of feed heads: a transport-free state machine (messages in,
// messages out; randomness and clock injected). One Exchange per comparison, on each side.
//
// Flow (PROTOCOL.md §11.4): the initiator sends `begin` (its stable root and salt); the
// responder answers `reply`: `equal` when the roots match (done: one round trip), otherwise its
// first compare step. Steps then alternate. A step lists nodes:
//   children(path, 16 salted fps)  → the receiver answers each differing child with `items`
//                                     (small subtree), `children` (large) or `final` (peer empty);
//   items(path, compact heads)      → the receiver answers `answer`: which of the listed heads it
//                                     holds no identical head for, and its own differing heads
//                                     there in full (or `children` when it holds many there);
//   answer(path, flags, heads)      → the lister now knows every difference there exactly; it
//                                     answers a `final` naming those of its heads the other side
//                                     could not pair unambiguously by tag (rare), else nothing;
//   final(path, my differing heads) → no answer.
// Every differing node of a level goes in one step, so each half round trip descends a level;
// equal subtrees are never opened, so the cost grows with differences × depth, not with the
// number of feeds. The exchange ends after both sides sent a step marked `end` (nothing queued,
// nothing asked); the output is, per differing author, my head seq and theirs.
//
// Compact items carry a 2-byte author tag instead of the 32-byte author. The receiver pairs an
// unmatched listed head with its own unmatched head only when the tag is unique on both sides
// (provisional); the lister, which knows both the listed authors and the answer's full heads,
// replays the same pairing and corrects every pairing that is wrong or missing with a `final`.
// So a tag collision costs at most one more half round trip, never a missed difference.
//
// Steps are built lazily: what a received step calls for is queued as a small deferred entry
// (a path to open or list, the compact result of answering their listing, or a cursor over a
// subtree the peer lacks) and turned into wire nodes only when a step has room for them
// (SYNC_MAX_STEP_BYTES). So an open exchange holds at most one built node, whatever the peer
// asks for: a peer that says "I hold nothing" gets my heads ~48 KB per step, as fast as it asks,
// and the difference for each head is recorded as it is sent. A listing is matched when it
// arrives, and only the result is kept (1 bit per listed item, references to my differing heads
// there): a peer's listings are never queued, so one that lists faster than my answers drain
// leaves ~1/15 of the bytes it sent queued, not ~25x them (backlog-break5).

import { bytesEqual } from '../bytes.js';
import type { BeginMsg, CompareMsg, CompareNode, ReplyMsg, TagItem, WireItem } from './messages.js';
import { authorTag, exchangeSalt, fingerprint, fingerprintKey, type HeadRecord, type HeadsTree } from './merkle.js';
import type { SipKey } from './siphash.js';
import { compareTagItems } from './codec.js';
import { pairByTag } from './pairing.js';
import { markPeerWait, peerWaitedMs, type PeerWaitMark } from './peer-wait.js';
import { SyncProtocolError } from './errors.js';
import {
  GAP_MAX_TARGETS,
  MERKLE_LEAF_MAX,
  MERKLE_MAX_DEPTH,
  SYNC_EXCHANGE_TIMEOUT_MS,
  SYNC_FEW_DIFFERING,
  SYNC_CHILD_FP_BYTES,
  SYNC_HEAD_FP_BYTES,
  SYNC_LIST_MAX_FEW,
  SYNC_MAX_COMPARE_ENTRIES,
  SYNC_MAX_ITEMS_PER_ENTRY,
  SYNC_MAX_STEP_BYTES,
  SYNC_OPEN_MIN,
  SYNC_SALT_BYTES
} from './constants.js';

/** One author whose heads differ. seq 0 = not held. fork: same seq, different hash. */
export interface Difference {
  author: string;
  mine: number;
  theirs: number;
  fork: boolean;
}

export interface ExchangeOptions {
  /** Random bytes (crypto quality in production; seeded in simulations). */
  random: (n: number) => Uint8Array;
  /** ms clock for timeouts. */
  now: () => number;
  maxTurnBytes?: number;
  timeoutMs?: number;
  /**
   * Ms this node has spent so far handling the peer's messages (a monotonic counter, PeerSession
   * busyMs): not counted against the wait for the peer's next step (peer-wait.ts). Default: none.
   */
  busyMs?: () => number;
}

/** Heads listed per final node (several nodes share a path when there are more). */
const FINAL_CHUNK = 256;
const ZERO_FP = new Uint8Array(SYNC_HEAD_FP_BYTES);
const HEX = '0123456789abcdef';
/** Estimated wire bytes of a node's header (kind, path, counts). */
const NODE_OVERHEAD = 12;

function nodeBytes(n: CompareNode): number {
  if (n.k === 'children') return NODE_OVERHEAD + n.fps.filter(Boolean).length * SYNC_CHILD_FP_BYTES;
  if (n.k === 'items') return NODE_OVERHEAD + n.items.length * (5 + SYNC_HEAD_FP_BYTES);
  const flags = n.k === 'answer' ? n.unmatched.length / 8 : 0;
  return NODE_OVERHEAD + flags + n.items.length * (32 + 9 + SYNC_HEAD_FP_BYTES);
}

/** The tag of a hex author at a path of `depth` nibbles (see authorTag). */
function tagOfHex(author: string, depth: number): number {
  const o = 2 * Math.ceil(depth / 2);
  return parseInt(author.slice(o, o + 4), 16);
}

const byAuthor = (a: { author: string }, b: { author: string }): number => (a.author < b.author ? -1 : 1);

/**
 * A queued entry built only when a step has room for it: open or list my subtree at `path`
 * (`max`: the most heads listed rather than opened), open it, answer their listing at `path`
 * (already matched: `size` listed items, a bitmap of those unmatched, my differing heads there),
 * or list in finals my heads under `path` the peer lacks, from the author after `after` on (a
 * cursor).
 */
type Deferred =
  | { lazy: 'describe'; path: string; max: number }
  | { lazy: 'open'; path: string }
  | { lazy: 'answer'; path: string; size: number; unmatched: Uint8Array; mine: HeadRecord[] }
  | { lazy: 'lack'; path: string; after: string };
type Queued = CompareNode | Deferred;

/** The seqs of `d.author` I lack ([from, to], inclusive), or null. A fork asks for the forked seq. */
export function missingRange(d: Difference): { from: number; to: number } | null {
  if (d.fork) return { from: d.mine, to: d.mine };
  return d.theirs > d.mine ? { from: d.mine + 1, to: d.theirs } : null;
}

export class Exchange {
  readonly xid: number;
  readonly initiator: boolean;
  private readonly key: SipKey;
  private readonly queue: Queued[] = [];
  private readonly diffs = new Map<string, Difference>();
  /** My compact listings awaiting an answer, by path, in wire order. */
  private readonly listed = new Map<string, HeadRecord[]>();
  /** Differences recorded for authors I do not hold (bounded: record()). */
  private foreign = 0;
  /** `children:` / `items:` paths the peer already sent in this exchange (answered once). */
  private readonly seenPaths = new Set<string>();
  /** Scratch for fingerprints compared and dropped (no allocation), one per wire width. */
  private readonly scratchChild = new Uint8Array(SYNC_CHILD_FP_BYTES);
  private readonly scratch = new Uint8Array(SYNC_HEAD_FP_BYTES);
  private nextIn: number;
  private nextOut: number;
  private sentEnd = false;
  /** When the peer's next step is waited for from (peer-wait.ts). */
  private lastActivity: PeerWaitMark;
  /** Steps sent and received (begin and reply included). */
  turnsOut = 0;
  turnsIn = 0;
  done = false;
  /**
   * The two stable roots differed when the exchange began. Done with no difference found although
   * they differed: a fingerprint collision hid what differs (or a head changed meanwhile); the
   * roots are not equal, and the next exchange, under a fresh salt, looks again.
   */
  rootsDiffered = false;

  private constructor(
    private readonly tree: HeadsTree,
    xid: number,
    initiator: boolean,
    salt: Uint8Array,
    private readonly opts: ExchangeOptions
  ) {
    this.xid = xid;
    this.initiator = initiator;
    this.key = fingerprintKey(salt);
    this.nextIn = initiator ? 1 : 2;
    this.nextOut = initiator ? 2 : 3;
    this.lastActivity = markPeerWait(opts.now(), opts.busyMs?.());
  }

  /**
   * Starts an exchange; send the returned begin. `peerSalt` is the salt of the peer's hello.
   * eager: the begin already opens my root (saves a half round trip when the roots differ, costs
   * ~140 bytes when they do not): use it unless the peer's root was equal to ours last time.
   */
  static initiate(
    tree: HeadsTree,
    xid: number,
    peerSalt: Uint8Array,
    opts: ExchangeOptions,
    eager = true
  ): { exchange: Exchange; begin: BeginMsg } {
    const own = opts.random(SYNC_SALT_BYTES);
    const x = new Exchange(tree, xid, true, exchangeSalt(own, peerSalt), opts);
    const nodes = eager ? [x.describe('', SYNC_LIST_MAX_FEW)] : [];
    x.turnsOut++;
    return { exchange: x, begin: { t: 'begin', xid, salt: own, root: tree.rootHash(), nodes } };
  }

  /**
   * Answers a begin; send the reply. `mySalt` is the salt of my hello to this peer. The exchange
   * is already done when the roots are equal (one round trip). Throws SyncProtocolError.
   */
  static respond(
    tree: HeadsTree,
    begin: BeginMsg,
    mySalt: Uint8Array,
    opts: ExchangeOptions
  ): { exchange: Exchange; reply: ReplyMsg } {
    const x = new Exchange(tree, begin.xid, false, exchangeSalt(begin.salt, mySalt), opts);
    x.turnsIn++;
    if (bytesEqual(begin.root, tree.rootHash())) {
      x.done = true;
      x.turnsOut++;
      return { exchange: x, reply: { t: 'reply', xid: begin.xid, equal: true, nodes: [], end: true } };
    }
    x.rootsDiffered = true;
    if (begin.nodes.length === 0) x.describeAll(['']);
    x.processAll(begin.nodes);
    const { nodes, end } = x.takeTurn();
    return { exchange: x, reply: { t: 'reply', xid: begin.xid, equal: false, nodes, end } };
  }

  /**
   * Whether the peer has been silent longer than the timeout: this node's own time handling the
   * peer's messages meanwhile (opts.busyMs) is not counted, up to GAP_REQUEST_MAX_PAUSE_MS.
   */
  expired(now: number): boolean {
    if (this.done) return false;
    return (
      peerWaitedMs(this.lastActivity, now, this.opts.busyMs?.()) > (this.opts.timeoutMs ?? SYNC_EXCHANGE_TIMEOUT_MS)
    );
  }

  /** Authors that differ so far (complete once `done`). */
  differences(): Difference[] {
    return [...this.diffs.values()];
  }

  /**
   * Feeds the peer's reply or compare step in; returns my next step, or null (nothing to send:
   * done, or a duplicate / out-of-order step, which is ignored). Throws SyncProtocolError.
   */
  receive(msg: ReplyMsg | CompareMsg): CompareMsg | null {
    if (this.done || msg.xid !== this.xid) return null;
    const step = msg.t === 'reply' ? 1 : msg.step;
    if (step !== this.nextIn) return null;
    if (msg.t === 'reply') {
      if (!this.initiator) throw new SyncProtocolError('reply sent to the responder');
      if (msg.equal) {
        this.done = true;
        this.turnsIn++;
        return null;
      }
    }
    if (msg.t === 'reply') this.rootsDiffered = true;
    this.turnsIn++;
    this.nextIn += 2;
    this.lastActivity = markPeerWait(this.opts.now(), this.opts.busyMs?.());
    this.processAll(msg.nodes);
    if (msg.end && this.queue.length === 0 && this.sentEnd) {
      this.done = true;
      return null;
    }
    const { nodes, end } = this.takeTurn();
    const out: CompareMsg = { t: 'compare', xid: this.xid, step: this.nextOut, nodes, end };
    this.nextOut += 2;
    if (msg.end && end) this.done = true;
    return out;
  }

  private takeTurn(): { nodes: CompareNode[]; end: boolean } {
    const max = this.opts.maxTurnBytes ?? SYNC_MAX_STEP_BYTES;
    const nodes: CompareNode[] = [];
    let bytes = 0;
    for (let n = this.front(); n && nodes.length < SYNC_MAX_COMPARE_ENTRIES; n = this.front()) {
      const size = nodeBytes(n);
      if (nodes.length > 0 && bytes + size > max) break;
      nodes.push(n);
      this.queue.shift();
      bytes += size;
    }
    const end = this.front() === undefined && nodes.every((n) => n.k === 'final');
    this.sentEnd = end;
    this.turnsOut++;
    return { nodes, end };
  }

  /** The first queued node, built if deferred (spent cursors are dropped); undefined: nothing queued. */
  private front(): CompareNode | undefined {
    while (this.queue.length > 0) {
      const q = this.queue[0];
      if (!('lazy' in q)) return q;
      const n = this.build(q);
      if (n === null) this.queue.shift();
      else if (q.lazy === 'lack') this.queue.unshift(n);
      else this.queue[0] = n;
      if (n !== null) return n;
    }
    return undefined;
  }

  /** The next wire node of a deferred entry; null when a cursor is spent. */
  private build(q: Deferred): CompareNode | null {
    if (q.lazy === 'describe') return this.describe(q.path, q.max);
    if (q.lazy === 'open') return this.open(q.path);
    if (q.lazy === 'answer') return this.answerNode(q.path, q.size, q.unmatched, q.mine);
    // Heads already recorded as differing (named before, e.g. by a "nothing" node at an
    // enclosing or enclosed path: nested paths are all distinct) are not named again, so one
    // exchange names each head at most once (nestlack-break5).
    for (;;) {
      const recs = this.tree.recordsAfter(q.path, q.after, FINAL_CHUNK);
      if (recs.length === 0) return null;
      q.after = recs[recs.length - 1].head.author;
      const fresh = recs.filter((r) => !this.diffs.has(r.head.author));
      if (fresh.length === 0) continue;
      for (const r of fresh) this.record(r.head.author, r, 0, ZERO_FP);
      return { k: 'final', path: q.path, items: fresh.map((r) => this.wire(r)) };
    }
  }

  /** Whether the salted head fingerprint of a head record equals `theirs` (SYNC_HEAD_FP_BYTES). */
  private fpEquals(bytes: Uint8Array, theirs: Uint8Array): boolean {
    return bytesEqual(fingerprint(this.key, bytes, SYNC_HEAD_FP_BYTES, this.scratch), theirs);
  }

  /** Whether the salted child fingerprint of a 32-byte node hash equals `theirs` (SYNC_CHILD_FP_BYTES). */
  private childFpEquals(hash: Uint8Array, theirs: Uint8Array): boolean {
    return bytesEqual(fingerprint(this.key, hash, SYNC_CHILD_FP_BYTES, this.scratchChild), theirs);
  }

  private headFp(r: HeadRecord): Uint8Array {
    return fingerprint(this.key, r.bytes, SYNC_HEAD_FP_BYTES);
  }

  private wire(r: HeadRecord): WireItem {
    return { author: r.head.author, seq: r.head.seq, fp: this.headFp(r) };
  }

  private record(author: string, mine: HeadRecord | undefined, theirSeq: number, theirFp: Uint8Array): void {
    if (!mine && theirSeq === 0) return;
    // Authors I do not hold: at most GAP_MAX_TARGETS (gap fill keeps no more; a later exchange
    // finds the rest), so a peer naming made-up heads step after step cannot grow the map.
    if (!mine && !this.diffs.has(author)) {
      if (this.foreign >= GAP_MAX_TARGETS) return;
      this.foreign++;
    }
    if (mine && mine.head.seq === theirSeq && this.fpEquals(mine.bytes, theirFp)) {
      this.diffs.delete(author);
      return;
    }
    const m = mine?.head.seq ?? 0;
    this.diffs.set(author, { author, mine: m, theirs: theirSeq, fork: theirSeq > 0 && m === theirSeq });
  }

  /** Processes a step's nodes, then describes the differing subtrees they revealed. */
  private processAll(nodes: CompareNode[]): void {
    const differing: string[] = [];
    for (const n of nodes) this.process(n, differing);
    this.describeAll(differing);
  }

  /**
   * My subtrees at `paths` differ from theirs: list each compactly when small, else open it.
   * "Small" is a leaf (MERKLE_LEAF_MAX heads), except in the initiator's steps when at most
   * SYNC_FEW_DIFFERING subtrees differ: then up to SYNC_LIST_MAX_FEW heads. The initiator sends
   * the odd messages (begin = 1); a listing in an odd message is answered in an even one, which
   * closes a round trip, whereas opening it would be answered by a listing in an even message and
   * an answer one half round trip later. So at 1M feeds one difference takes 3 round trips
   * whether its leaf sits at depth 4 or 5, for ~200 more bytes; the responder never lists early,
   * since that would cost bytes and save no round trip.
   * When one of them is opened anyway (more heads than that), the exchange lasts at least one
   * more half round trip, so opening the small ones too costs no round trip, and it costs fewer
   * bytes from SYNC_OPEN_MIN heads on (a child fingerprint is 3 bytes, a listed head ~8): then
   * only subtrees of fewer heads are listed.
   */
  private describeAll(paths: string[]): void {
    let max = this.initiator && paths.length <= SYNC_FEW_DIFFERING ? SYNC_LIST_MAX_FEW : MERKLE_LEAF_MAX;
    if (paths.some((p) => p.length < MERKLE_MAX_DEPTH && this.tree.count(p) > max)) max = SYNC_OPEN_MIN - 1;
    for (const path of paths) this.queue.push({ lazy: 'describe', path, max });
  }

  /** My subtree at `path`: listed when it holds at most `max` heads (or sits at the maximum depth), else opened. */
  private describe(path: string, max: number): CompareNode {
    if (this.tree.count(path) <= max || path.length >= MERKLE_MAX_DEPTH) return this.list(path);
    return this.open(path);
  }

  private open(path: string): CompareNode {
    const fps = this.tree.childHashes(path).map((h) => (h ? fingerprint(this.key, h, SYNC_CHILD_FP_BYTES) : undefined));
    return { k: 'children', path, fps };
  }

  private list(path: string): CompareNode {
    const recs = this.tree.recordsAfter(path, '', SYNC_MAX_ITEMS_PER_ENTRY);
    const rows = recs.map((r) => ({ r, it: this.tagItem(r, path.length) }));
    rows.sort((a, b) => compareTagItems(a.it, b.it));
    this.listed.set(
      path,
      rows.map((x) => x.r)
    );
    return { k: 'items', path, items: rows.map((x) => x.it) };
  }

  private tagItem(r: HeadRecord, depth: number): TagItem {
    return { tag: authorTag(r.bytes, depth), seq: r.head.seq, fp: this.headFp(r) };
  }

  /**
   * The peer holds nothing under `path`: every head of mine there is a difference; tell them,
   * in finals built step by step from a cursor (each head recorded as a difference when sent).
   */
  private theyLackAll(path: string): void {
    this.queue.push({ lazy: 'lack', path, after: '' });
  }

  private pushFinals(path: string, items: WireItem[]): void {
    for (let i = 0; i < items.length; i += FINAL_CHUNK)
      this.queue.push({ k: 'final', path, items: items.slice(i, i + FINAL_CHUNK) });
  }

  private process(n: CompareNode, differing: string[]): void {
    if (n.k === 'children' || n.k === 'items') {
      // An honest peer opens or lists a path at most once per exchange: a repeat is answered
      // once, so a small step cannot make us list the same subtree again and again.
      const key = `${n.k}:${n.path}`;
      if (this.seenPaths.has(key)) return;
      this.seenPaths.add(key);
    }
    if (n.k === 'children') return this.onChildren(n.path, n.fps, differing);
    if (n.k === 'items') return void this.queue.push(this.answerItems(n.path, n.items));
    if (n.k === 'answer') return this.onAnswer(n.path, n.unmatched, n.items);
    for (const it of n.items) this.record(it.author, this.tree.record(it.author), it.seq, it.fp);
  }

  private onChildren(path: string, theirs: (Uint8Array | undefined)[], differing: string[]): void {
    const mine = this.tree.childHashes(path);
    for (let c = 0; c < mine.length; c++) {
      const p = path + HEX[c];
      const t = theirs[c];
      const m = mine[c];
      if (!t && !m) continue;
      if (t && m && this.childFpEquals(m, t)) continue;
      if (!t) this.theyLackAll(p);
      else differing.push(p);
    }
  }

  /**
   * Their compact listing at `path`: match exactly (tag, seq, fp), pair the rest by unique tag
   * (provisional until the lister's end), and keep for the answer only their unmatched flags (a
   * bitmap) and my differing heads. When I hold too many heads there to list in one answer, open
   * the subtree instead.
   */
  private answerItems(path: string, theirs: TagItem[]): Deferred {
    if (this.tree.count(path) > SYNC_MAX_ITEMS_PER_ENTRY && path.length < MERKLE_MAX_DEPTH)
      return { lazy: 'open', path };
    const mine = this.tree.recordsAfter(path, '', SYNC_MAX_ITEMS_PER_ENTRY);
    const unmatched = theirs.map(() => true);
    const byTag = new Map<number, number[]>();
    theirs.forEach((t, i) => byTag.set(t.tag, [...(byTag.get(t.tag) ?? []), i]));
    const mineLeft: HeadRecord[] = [];
    for (const r of mine) {
      const tag = authorTag(r.bytes, path.length);
      fingerprint(this.key, r.bytes, SYNC_HEAD_FP_BYTES, this.scratch);
      const i = (byTag.get(tag) ?? []).find(
        (k) => unmatched[k] && theirs[k].seq === r.head.seq && bytesEqual(theirs[k].fp, this.scratch)
      );
      if (i === undefined) mineLeft.push(r);
      else {
        unmatched[i] = false;
        this.diffs.delete(r.head.author);
      }
    }
    const theirLeft = theirs.map((_, i) => i).filter((i) => unmatched[i]);
    const pairs = pairByTag(
      theirLeft.map((i) => theirs[i].tag),
      mineLeft.map((r) => authorTag(r.bytes, path.length))
    );
    const paired = new Set<number>();
    for (const [k, j] of pairs) {
      const t = theirs[theirLeft[k]];
      this.record(mineLeft[j].head.author, mineLeft[j], t.seq, t.fp);
      paired.add(j);
    }
    mineLeft.forEach((r, j) => paired.has(j) || this.record(r.head.author, r, 0, ZERO_FP));
    const bits = new Uint8Array(Math.ceil(theirs.length / 8));
    for (const i of theirLeft) bits[i >> 3] |= 1 << (i & 7);
    return { lazy: 'answer', path, size: theirs.length, unmatched: bits, mine: mineLeft };
  }

  /** The wire answer of a listing matched on arrival (answerItems). */
  private answerNode(path: string, size: number, bits: Uint8Array, mine: HeadRecord[]): CompareNode {
    const unmatched = Array.from({ length: size }, (_, i) => (bits[i >> 3] & (1 << (i & 7))) !== 0);
    return { k: 'answer', path, unmatched, items: mine.map((r) => this.wire(r)) };
  }

  /**
   * Their answer to my listing at `path`: I now know every difference there exactly. Replay
   * their tag pairing and name, in a final, each of my heads they paired wrongly or not at all
   * (and, for a wrong pairing, that I lack the author they paired it with).
   */
  private onAnswer(path: string, unmatched: boolean[], theirs: WireItem[]): void {
    const listed = this.listed.get(path);
    if (!listed || listed.length !== unmatched.length)
      throw new SyncProtocolError(`answer at "${path}" does not match my listing`);
    this.listed.delete(path);
    const mineBy = new Map(listed.map((r) => [r.head.author, r]));
    const theirBy = new Map(theirs.map((t) => [t.author, t]));
    for (const t of theirs) this.record(t.author, mineBy.get(t.author), t.seq, t.fp);
    const left: HeadRecord[] = [];
    listed.forEach((r, i) => {
      if (!unmatched[i]) this.diffs.delete(r.head.author);
      else {
        left.push(r);
        if (!theirBy.has(r.head.author)) this.record(r.head.author, r, 0, ZERO_FP);
      }
    });
    const pairs = pairByTag(
      left.map((r) => authorTag(r.bytes, path.length)),
      theirs.map((t) => tagOfHex(t.author, path.length))
    );
    const fix = new Map<string, WireItem>();
    left.forEach((r, k) => {
      const j = pairs.get(k);
      if (j !== undefined && theirs[j].author === r.head.author) return;
      fix.set(r.head.author, this.wire(r));
      const other = j === undefined ? undefined : theirs[j].author;
      if (other !== undefined && !fix.has(other) && !mineBy.has(other))
        fix.set(other, { author: other, seq: 0, fp: ZERO_FP });
    });
    this.pushFinals(path, [...fix.values()].sort(byAuthor));
  }
}
