// Tag pairing of a compact item listing (PROTOCOL.md §11.4): after exact matches are removed, an
// unmatched listed head and an unmatched head of the answering side are taken to be the same
// author when their 2-byte author tag is unique among the unmatched heads of each side. Both
// sides run this same function on the same inputs (the lister replays the answerer's pairing),
// so the lister can correct every wrong or missing pairing exactly.

/**
 * Pairs `listed` tags with `own` tags: index into listed → index into own, for each tag that
 * occurs exactly once in each list. O(listed + own).
 */
export function pairByTag(listed: readonly number[], own: readonly number[]): Map<number, number> {
  const listedAt = uniqueIndex(listed);
  const ownAt = uniqueIndex(own);
  const pairs = new Map<number, number>();
  for (const [tag, i] of listedAt) {
    const j = ownAt.get(tag);
    if (i >= 0 && j !== undefined && j >= 0) pairs.set(i, j);
  }
  return pairs;
}

/** tag → its index when it occurs once, -1 when it repeats. */
function uniqueIndex(tags: readonly number[]): Map<number, number> {
  const at = new Map<number, number>();
  tags.forEach((t, i) => at.set(t, at.has(t) ? -1 : i));
  return at;
}
