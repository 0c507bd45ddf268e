// Merkle comparison of two sets of feed heads: a transport-free state machine (messages in,
// messages out; randomness and clock injected). One Exchange per comparison, on each side.
//
// Flow (PROTOCOL-sync.md §4): the initiator sends `begin` (its stable root and salt); the
// responder answers `reply`: `equal` when the roots match (done: one round trip), otherwise its
// first compare step. Steps then alternate. A step lists nodes:
//   children(path, 16 salted fps)  → the receiver answers each differing child with `items`
//                                     (small subtree), `children` (large) or `final` (peer empty);
//   items(path, all my heads)       → the receiver answers `final`: its differing heads there;
//   final(path, my differing heads) → no answer.
// Every differing node of a level goes in one step, so each half round trip descends a level;
// equal subtrees are never opened, so the cost grows with differences × depth, not with the
// number of feeds. The exchange ends after both sides sent a step marked `end` (nothing queued,
// nothing asked); the output is, per differing author, my head seq and theirs.
import type { FeedHead } from '../types.js';
import { bytesEqual, fromHex } from '../bytes.js';
import type { BeginMsg, CompareMsg, CompareNode, ReplyMsg, WireItem } from './messages.js';
import { exchangeSalt, fingerprint, type HeadsTree } from './merkle.js';
import { SyncProtocolError } from './errors.js';
import {
  MERKLE_LEAF_MAX,
  MERKLE_MAX_DEPTH,
  SYNC_EXCHANGE_TIMEOUT_MS,
  SYNC_FINGERPRINT_BYTES,
  SYNC_MAX_COMPARE_ENTRIES,
  SYNC_MAX_ITEMS_PER_ENTRY,
  SYNC_MAX_STEP_BYTES,
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
}

/** Heads listed per final node (several nodes share a path when there are more). */
const FINAL_CHUNK = 256;
const ZERO_FP = new Uint8Array(SYNC_FINGERPRINT_BYTES);
const HEX = '0123456789abcdef';

function nodeBytes(n: CompareNode): number {
  if (n.k === 'children') return 12 + n.fps.filter(Boolean).length * SYNC_FINGERPRINT_BYTES;
  return 12 + n.items.length * (32 + 9 + SYNC_FINGERPRINT_BYTES);
}

/** The seqs of `d.author` I lack ([from, to], inclusive), or null. A fork asks for the forked seq. */
export function missingRange(d: Difference): { from: number; to: number } | null {
  if (d.fork) return { from: d.mine, to: d.mine };
  return d.theirs > d.mine ? { from: d.mine + 1, to: d.theirs } : null;
}

export class Exchange {
  readonly xid: number;
  readonly initiator: boolean;
  private readonly salt: Uint8Array;
  private readonly queue: CompareNode[] = [];
  private readonly diffs = new Map<string, Difference>();
  private nextIn: number;
  private nextOut: number;
  private sentEnd = false;
  private lastActivity: number;
  /** Steps sent and received (begin and reply included). */
  turnsOut = 0;
  turnsIn = 0;
  done = false;

  private constructor(
    private readonly tree: HeadsTree,
    xid: number,
    initiator: boolean,
    salt: Uint8Array,
    private readonly opts: ExchangeOptions
  ) {
    this.xid = xid;
    this.initiator = initiator;
    this.salt = salt;
    this.nextIn = initiator ? 1 : 2;
    this.nextOut = initiator ? 2 : 3;
    this.lastActivity = opts.now();
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
    if (eager) x.describe('');
    const nodes = x.queue.splice(0);
    x.turnsOut++;
    return { exchange: x, begin: { t: 'begin', xid, salt: own, root: tree.rootHash(), nodes } };
  }

  /**
   * Answers a begin; send the reply. `mySalt` is the salt of my hello to this peer. The exchange
   * is already done when the roots are equal (one round trip).
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
    if (begin.nodes.length === 0) x.describe('');
    for (const n of begin.nodes) x.process(n);
    const { nodes, end } = x.takeTurn();
    return { exchange: x, reply: { t: 'reply', xid: begin.xid, equal: false, nodes, end } };
  }

  /** Whether the peer has been silent longer than the timeout. */
  expired(now: number): boolean {
    return !this.done && now - this.lastActivity > (this.opts.timeoutMs ?? SYNC_EXCHANGE_TIMEOUT_MS);
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
    this.turnsIn++;
    this.nextIn += 2;
    this.lastActivity = this.opts.now();
    for (const n of msg.nodes) this.process(n);
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
    while (this.queue.length > 0 && nodes.length < SYNC_MAX_COMPARE_ENTRIES) {
      const size = nodeBytes(this.queue[0]);
      if (nodes.length > 0 && bytes + size > max) break;
      nodes.push(this.queue.shift()!);
      bytes += size;
    }
    const end = this.queue.length === 0 && nodes.every((n) => n.k === 'final');
    this.sentEnd = end;
    this.turnsOut++;
    return { nodes, end };
  }

  private fp(hash: Uint8Array): Uint8Array {
    return fingerprint(this.salt, hash);
  }

  private wire(h: FeedHead): WireItem {
    return { author: h.author, seq: h.seq, fp: this.fp(fromHex(h.hash)) };
  }

  private record(author: string, mine: FeedHead | undefined, theirSeq: number, theirFp: Uint8Array): void {
    if (!mine && theirSeq === 0) return;
    if (mine && mine.seq === theirSeq && bytesEqual(this.fp(fromHex(mine.hash)), theirFp)) {
      this.diffs.delete(author);
      return;
    }
    const m = mine?.seq ?? 0;
    this.diffs.set(author, { author, mine: m, theirs: theirSeq, fork: theirSeq > 0 && m === theirSeq });
  }

  /** My subtree at `path` differs from theirs: list it when small, else open it. */
  private describe(path: string): void {
    const info = this.tree.node(path);
    if (info.count <= MERKLE_LEAF_MAX || path.length >= MERKLE_MAX_DEPTH) {
      const items = this.tree
        .itemsUnder(path)
        .slice(0, SYNC_MAX_ITEMS_PER_ENTRY)
        .map((h) => this.wire(h));
      this.queue.push({ k: 'items', path, items });
    } else {
      const fps = this.tree.childHashes(path).map((h) => (h ? this.fp(h) : undefined));
      this.queue.push({ k: 'children', path, fps });
    }
  }

  /** The peer holds nothing under `path`: every head of mine there is a difference; tell them. */
  private theyLackAll(path: string): void {
    const mine = this.tree.itemsUnder(path);
    for (const h of mine) this.record(h.author, h, 0, ZERO_FP);
    for (let i = 0; i < mine.length; i += FINAL_CHUNK)
      this.queue.push({ k: 'final', path, items: mine.slice(i, i + FINAL_CHUNK).map((h) => this.wire(h)) });
  }

  private process(n: CompareNode): void {
    if (n.k === 'children') return this.onChildren(n.path, n.fps);
    if (n.k === 'items') return this.onItems(n.path, n.items);
    for (const it of n.items) this.record(it.author, this.tree.get(it.author), it.seq, it.fp);
  }

  private onChildren(path: string, theirs: (Uint8Array | undefined)[]): void {
    const mine = this.tree.childHashes(path);
    for (let c = 0; c < mine.length; c++) {
      const p = path + HEX[c];
      const t = theirs[c];
      const m = mine[c];
      if (!t && !m) continue;
      if (t && m && bytesEqual(this.fp(m), t)) continue;
      if (!t) this.theyLackAll(p);
      else this.describe(p);
    }
  }

  private onItems(path: string, theirs: WireItem[]): void {
    const mine = this.tree.itemsUnder(path);
    const theirBy = new Map(theirs.map((it) => [it.author, it]));
    const out: WireItem[] = [];
    for (const h of mine) {
      const t = theirBy.get(h.author);
      theirBy.delete(h.author);
      const w = this.wire(h);
      if (t && t.seq === h.seq && bytesEqual(t.fp, w.fp)) continue;
      this.record(h.author, h, t?.seq ?? 0, t?.fp ?? ZERO_FP);
      out.push(w);
    }
    for (const t of theirBy.values()) {
      if (t.seq === 0) continue;
      this.record(t.author, undefined, t.seq, t.fp);
      out.push({ author: t.author, seq: 0, fp: ZERO_FP });
    }
    out.sort((a, b) => (a.author < b.author ? -1 : 1));
    for (let i = 0; i < out.length; i += FINAL_CHUNK)
      this.queue.push({ k: 'final', path, items: out.slice(i, i + FINAL_CHUNK) });
  }
}
