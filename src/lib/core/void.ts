// Forked feeds are void from the fork on (PROTOCOL.md §6). When two different valid entries of
// one author share a seq s (fork evidence), every node, whatever it saw first:
// - applies none of that author's entries at seq >= s: its items from the Yjs clock where seq
//   s - 1 ended are one GC range up to MAX_ENTRY_CLOCK (the placeholder), so entries of others
//   that built on a variant still integrate the same way everywhere (Yjs turns an item whose
//   origin or parent is GC into GC);
// - reports the feed's head as the void head (VOID_HEAD_BASE - s, SHA-256(tag, author, s, k, h_k)),
//   k the highest canonical seq (<= s - 1) it holds: above any real head, so a node that has not
//   seen the fork asks for it in the next sync and is answered with the two variants, and bound to
//   the canonical part held, so two nodes holding different parts of 1..s-1 differ, and sync
//   brings the one holding less up to the other (equal heads mean equal state);
// - treats a dependency on seq >= s as present (the placeholder covers whatever it referenced).
// The earliest fork wins: a fork found below a known one moves the void down.
import * as Y from 'yjs';
import * as encoding from 'lib0/encoding';
import type { FeedHead, ForkEvidence } from './types.js';
import { sha256 } from './hash.js';
import { fromHex, toHex } from './bytes.js';
import { MAX_ENTRY_CLOCK, MAX_ENTRY_SEQ, VOID_HEAD_BASE, VOID_HEAD_TAG } from './constants.js';

const TAG = new TextEncoder().encode(VOID_HEAD_TAG);
const ZERO_HASH = new Uint8Array(32);

/**
 * The canonical top of a void feed as a node holds it: the highest seq k <= s - 1 of the feed
 * whose entry (or, for a light replica, verified head entry/header) it holds, and that entry's
 * hash (hex); k = 0 and no hash when it holds none.
 */
export interface VoidTop {
  seq: number;
  hash: string | undefined;
}

/** True for the seq of a void head (above every real seq). */
export function isVoidSeq(seq: number): boolean {
  return seq > MAX_ENTRY_SEQ;
}

/** The fork seq `s` of a void head's seq (the inverse of voidHead's seq). */
export function forkSeqOf(voidSeq: number): number {
  return VOID_HEAD_BASE - voidSeq;
}

/**
 * Entries a head covers: its seq; for a void head the canonical top `k` the node holds when
 * known (a local head), else the upper bound s - 1 (a remote void head: its k is unknown).
 */
export function coveredEntries(head: FeedHead, k?: number): number {
  if (!isVoidSeq(head.seq)) return head.seq;
  return k ?? forkSeqOf(head.seq) - 1;
}

/** True when `head` has the shape of a void head: a void seq with a fork seq s >= 1. */
export function isVoidShape(head: FeedHead): boolean {
  return isVoidSeq(head.seq) && forkSeqOf(head.seq) >= 1;
}

/** True when `head` is exactly the void head of its author at its fork seq with canonical top `top`. */
export function isVoidHeadOf(head: FeedHead, top: VoidTop): boolean {
  return isVoidShape(head) && voidHead(head.author, forkSeqOf(head.seq), top).hash === head.hash;
}

/**
 * The head a node reports for `author`'s feed once it is void from seq `s` (s >= 1), holding the
 * canonical part up to `top` (k <= s - 1; default none): seq VOID_HEAD_BASE - s and
 * hash SHA-256(VOID_HEAD_TAG || author (32) || s (u64 BE) || k (u64 BE) || hash of entry k, or
 * 32 zero bytes when k = 0). Throws RangeError when k >= s or a hash is missing for k >= 1.
 */
export function voidHead(author: string, s: number, top: VoidTop = { seq: 0, hash: undefined }): FeedHead {
  const k = top.seq;
  if (!Number.isSafeInteger(k) || k < 0 || k >= s) throw new RangeError(`void top ${k} is not below the fork ${s}`);
  if (k > 0 && top.hash === undefined) throw new RangeError('a void top k >= 1 needs its entry hash');
  const buf = new Uint8Array(TAG.length + 32 + 8 + 8 + 32);
  buf.set(TAG, 0);
  buf.set(fromHex(author), TAG.length);
  const view = new DataView(buf.buffer);
  const o = TAG.length + 32;
  view.setUint32(o, Math.floor(s / 2 ** 32));
  view.setUint32(o + 4, s >>> 0);
  view.setUint32(o + 8, Math.floor(k / 2 ** 32));
  view.setUint32(o + 12, k >>> 0);
  buf.set(k === 0 ? ZERO_HASH : fromHex(top.hash!), o + 16);
  return { author, seq: VOID_HEAD_BASE - s, hash: toHex(sha256(buf)) };
}

/**
 * A Yjs update holding one GC struct for `client` over [fromClock, MAX_ENTRY_CLOCK): the void
 * part of a forked author's clock space. Built with Yjs's own encoder (update format v1).
 */
export function voidPlaceholder(client: number, fromClock: number): Uint8Array {
  const enc = new Y.UpdateEncoderV1();
  const raw = enc.restEncoder;
  encoding.writeVarUint(raw, 1); // one client
  encoding.writeVarUint(raw, 1); // one struct
  enc.writeClient(client);
  encoding.writeVarUint(raw, fromClock);
  enc.writeInfo(0); // GC
  enc.writeLen(MAX_ENTRY_CLOCK - fromClock);
  encoding.writeVarUint(raw, 0); // empty delete set
  return enc.toUint8Array();
}

/**
 * The heads a node reports (FeedSet.heads) from what a full store holds: stored heads, with the
 * feed of every author with fork or collision evidence replaced by its void head at the lowest
 * evidence seq s, bound to the canonical top the store holds (the stored head when it is below s,
 * else entry s - 1, read with `hashAt`; a void head stored by a light bootstrap is kept when its
 * fork is not above the evidence's). Sorted by author; `entries`: what they cover (void: k);
 * `tops`: the canonical top of each void head computed here.
 */
export async function headsWithVoids(
  stored: readonly FeedHead[],
  forks: readonly ForkEvidence[],
  hashAt: (author: string, seq: number) => Promise<string | undefined>
): Promise<{ heads: FeedHead[]; entries: number; tops: Map<string, VoidTop> }> {
  const low = new Map<string, number>();
  for (const ev of forks) low.set(ev.author, Math.min(low.get(ev.author) ?? ev.seq, ev.seq));
  const out = new Map(stored.map((h) => [h.author, { author: h.author, seq: h.seq, hash: h.hash }]));
  const covered = new Map(stored.map((h) => [h.author, coveredEntries(h)]));
  const tops = new Map<string, VoidTop>();
  for (const [author, s] of low) {
    const head = out.get(author);
    if (head !== undefined && isVoidSeq(head.seq) && forkSeqOf(head.seq) <= s) continue;
    let top: VoidTop = { seq: 0, hash: undefined };
    if (head !== undefined && !isVoidSeq(head.seq) && head.seq < s) top = { seq: head.seq, hash: head.hash };
    else if (head !== undefined && !isVoidSeq(head.seq) && s > 1) {
      const hash = await hashAt(author, s - 1);
      if (hash !== undefined) top = { seq: s - 1, hash };
    }
    out.set(author, voidHead(author, s, top));
    covered.set(author, top.seq);
    tops.set(author, top);
  }
  const heads = [...out.values()].sort((a, b) => (a.author < b.author ? -1 : a.author > b.author ? 1 : 0));
  return { heads, entries: [...covered.values()].reduce((n, x) => n + x, 0), tops };
}
