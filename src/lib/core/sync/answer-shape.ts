// What a range answer may hold (PROTOCOL.md §11.5): the requested author's entries at
// from, from+1, … (a prefix of the range: a server stops at a hole, its byte cap or its void
// seq), that prefix followed by the fork pair at the seq after it (a server of a void feed whose
// answer reaches its fork, protocol version 4), or, for a void feed, its evidence alone: one or
// two entries, the first by that author, the second by that author at the same seq s (a fork,
// §6.1; one entry alone: s <= from) or by another key with the author's clientID (a clientID
// collision, §6.2). Anything else is refused before ingest, so an answer cannot pass off other
// entries as the range. Evidence that adds nothing counts as an empty answer (gap-fill.ts).
import { peekAuthorSeq } from '../entry.js';
import { MalformedEntryError } from '../errors.js';
import { clientIdOf } from '../state/client-id.js';

/**
 * The shape of a range answer: 'chain' (a prefix of the range), 'evidence' (a fork pair alone),
 * 'chain-evidence' (a prefix of the range, then the fork pair at the next seq), or null (refuse).
 */
export type AnswerShape = 'chain' | 'evidence' | 'chain-evidence' | null;

/**
 * Classifies an answer to a request for `author` seqs `from..to`, given its entries' prefixes
 * (`peek` of each, in order). Entries whose prefix does not decode (null) are left to ingest
 * (which refuses and blames them as malformed).
 */
export function answerShape(
  heads: readonly (EntryPrefix | null)[],
  author: string,
  from: number,
  to: number
): AnswerShape {
  const mine = heads.every((h) => h === null || h.author === author);
  const inOrder = (h: EntryPrefix | null, i: number): boolean => h === null || h.seq === from + i;
  if (mine && heads.every(inOrder) && heads.length <= to - from + 1) return 'chain';
  if (mine && isChainThenPair(heads, from, to, inOrder)) return 'chain-evidence';
  const [first, second] = heads;
  if (heads.length > 2 || first === null || first.author !== author || second === null) return null;
  // A fork: the author's entry at a seq s <= from (asked at or past the fork), or its two entries
  // at one seq s, anywhere (a server that holds nothing at `from` below its fork sends them).
  if (second === undefined) return first.seq <= from ? 'evidence' : null;
  if (second.author === author) return second.seq === first.seq ? 'evidence' : null;
  // A clientID collision: another key with the author's clientID (§6.2).
  return clientIdOf(second.author) === clientIdOf(author) ? 'evidence' : null;
}

/**
 * c >= 1 entries at from..from+c-1 (prefixes that do not parse are left to ingest), then two
 * entries at seq from+c <= to (both must parse: they are the fork pair).
 */
function isChainThenPair(
  heads: readonly (EntryPrefix | null)[],
  from: number,
  to: number,
  inOrder: (h: EntryPrefix | null, i: number) => boolean
): boolean {
  const c = heads.length - 2;
  if (c < 1) return false;
  const [x, y] = [heads[c], heads[c + 1]];
  if (x === null || y === null || x.seq !== from + c || y.seq !== x.seq || x.seq > to) return false;
  return heads.slice(0, c).every(inOrder);
}

/** What peek reads of an entry: author, seq and prev hash (hex). */
export interface EntryPrefix {
  author: string;
  seq: number;
  prev: string;
}

/** The prefix of entry bytes (entry.ts peekAuthorSeq), or null when it does not parse. */
export function peek(bytes: Uint8Array): EntryPrefix | null {
  try {
    return peekAuthorSeq(bytes);
  } catch (e) {
    if (e instanceof MalformedEntryError) return null;
    throw e;
  }
}
