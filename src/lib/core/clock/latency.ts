// Sync latency correction (pure): an entry's `time` is its author's wall clock, so before it is
// compared with our clock it is moved onto our clock with the best offset we have:
// - the author is a peer we measured: its own offset (author clock − ours), so the sample is
//   exact up to that peer's uncertainty;
// - otherwise the node's offset (median over our peers): we assume the author's clock is close
//   to the network's median clock, which holds when the author's clock is not itself an outlier;
// - no offset at all (no peer measured yet): the raw author time.

/**
 * The origin time of an entry on our clock, ms. `authorTime` is the entry's `time` (author
 * clock); offsets are "their clock − ours" in ms, null when unknown.
 */
export function originOnLocalClock(
  authorTime: number,
  authorOffsetMs: number | null,
  nodeOffsetMs: number | null
): number {
  return authorTime - (authorOffsetMs ?? nodeOffsetMs ?? 0);
}
