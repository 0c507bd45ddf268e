// Forked feeds are void from the fork on (PROTOCOL.md §6). When two different valid entries of
// one author share a seq s (fork evidence), every node, whatever it saw first:
// - applies none of that author's entries at seq >= s: its items from the Yjs clock where seq
//   s - 1 ended are one GC range up to MAX_ENTRY_CLOCK (the placeholder), so entries of others
//   that built on a variant still integrate the same way everywhere (Yjs turns an item whose
//   origin or parent is GC into GC);
// - reports the feed's head as the void head (VOID_HEAD_BASE - s, SHA-256(tag, author, s)): equal
//   on every node that knows the fork at s, and above any real head, so a node that has not seen
//   the fork asks for it in the next sync and is answered with the two variants;
// - treats a dependency on seq >= s as present (the placeholder covers whatever it referenced).
// The earliest fork wins: a fork found below a known one moves the void down.
import * as Y from 'yjs';
import * as encoding from 'lib0/encoding';
import type { FeedHead, ForkEvidence } from './types.js';
import { sha256 } from './hash.js';
import { fromHex, toHex } from './bytes.js';
import { MAX_ENTRY_CLOCK, MAX_ENTRY_SEQ, VOID_HEAD_BASE, VOID_HEAD_TAG } from './constants.js';

const TAG = new TextEncoder().encode(VOID_HEAD_TAG);

/** True for the seq of a void head (above every real seq). */
export function isVoidSeq(seq: number): boolean {
  return seq > MAX_ENTRY_SEQ;
}

/** The fork seq `s` of a void head's seq (the inverse of voidHead's seq). */
export function forkSeqOf(voidSeq: number): number {
  return VOID_HEAD_BASE - voidSeq;
}

/** Entries a head covers: its seq, or for a void head the canonical part (s - 1). */
export function coveredEntries(head: FeedHead): number {
  return isVoidSeq(head.seq) ? forkSeqOf(head.seq) - 1 : head.seq;
}

/** True when `head` is exactly the void head of its author at fork seq forkSeqOf(head.seq). */
export function isVoidHead(head: FeedHead): boolean {
  return (
    isVoidSeq(head.seq) && forkSeqOf(head.seq) >= 1 && voidHead(head.author, forkSeqOf(head.seq)).hash === head.hash
  );
}

/** The head every node reports for `author`'s feed once it is void from seq `s` (s >= 1). */
export function voidHead(author: string, s: number): FeedHead {
  const buf = new Uint8Array(TAG.length + 32 + 8);
  buf.set(TAG, 0);
  buf.set(fromHex(author), TAG.length);
  const view = new DataView(buf.buffer);
  view.setUint32(TAG.length + 32, Math.floor(s / 2 ** 32));
  view.setUint32(TAG.length + 36, s >>> 0);
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
 * The heads a node reports (FeedSet.heads) from what its store holds: stored heads, with the
 * feed of every author with fork or collision evidence replaced by its void head at the lowest
 * evidence seq (added when no head is stored). Sorted by author.
 */
export function headsWithVoids(stored: readonly FeedHead[], forks: readonly ForkEvidence[]): FeedHead[] {
  const low = new Map<string, number>();
  for (const ev of forks) low.set(ev.author, Math.min(low.get(ev.author) ?? ev.seq, ev.seq));
  const out = new Map(stored.map((h) => [h.author, { author: h.author, seq: h.seq, hash: h.hash }]));
  for (const [author, s] of low) {
    const bootstrapped = out.get(author);
    // A void head bootstrapped from a light snapshot may be below the evidence's (s higher).
    if (bootstrapped !== undefined && isVoidSeq(bootstrapped.seq) && VOID_HEAD_BASE - bootstrapped.seq < s) continue;
    out.set(author, voidHead(author, s));
  }
  return [...out.values()].sort((a, b) => (a.author < b.author ? -1 : a.author > b.author ? 1 : 0));
}
