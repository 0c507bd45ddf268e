// What a range answer may hold (PROTOCOL.md §11.5): the requested author's entries at
// from, from+1, … (a prefix of the range: a server stops at a hole, its byte cap or its void
// seq), or, for a void feed asked at or past its fork, the fork evidence: one or two entries of
// that author at one seq s <= from. Anything else is refused before ingest, so an answer cannot
// pass off other (already held) entries as the range and hold the range up for a timeout.
import { peekAuthorSeq } from '../entry.js';
import { MalformedEntryError } from '../errors.js';

/** The shape of a range answer: 'chain' (a prefix of the range), 'evidence' (a fork pair), or null (refuse). */
export type AnswerShape = 'chain' | 'evidence' | null;

/**
 * Classifies `entries` (encoded) answering a request for `author` seqs `from..to`. Entries whose
 * prefix does not decode are left to ingest (which refuses and blames them as malformed).
 */
export function answerShape(entries: readonly Uint8Array[], author: string, from: number, to: number): AnswerShape {
  const heads: ({ author: string; seq: number } | null)[] = entries.map(peek);
  if (heads.some((h) => h !== null && h.author !== author)) return null;
  if (heads.every((h, i) => h === null || h.seq === from + i) && entries.length <= to - from + 1) return 'chain';
  const seqs = new Set(heads.map((h) => h?.seq));
  const [seq] = seqs;
  if (entries.length <= 2 && seqs.size === 1 && seq !== undefined && seq <= from) return 'evidence';
  return null;
}

function peek(bytes: Uint8Array): { author: string; seq: number } | null {
  try {
    return peekAuthorSeq(bytes);
  } catch (e) {
    if (e instanceof MalformedEntryError) return null;
    throw e;
  }
}
