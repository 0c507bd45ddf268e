// How long a peer has had to answer, for the timeouts of range requests (gap-fill.ts) and of
// Merkle exchange steps (reconcile.ts): the time since the request or step was sent, less the
// time this node spent meanwhile ingesting that peer's earlier answers to our requests
// (PeerSession.busyMs), behind which the answer waits in the peer's ordered stream. Serving the
// peer's own requests is not left out: a peer streaming them could stretch every timeout to the
// cap (test/sim/busy-break5.test.ts).
// The pause is capped (GAP_REQUEST_MAX_PAUSE_MS), so a peer that never answers still times out.
import { GAP_REQUEST_MAX_PAUSE_MS } from './constants.js';

/** A moment to time a peer's answer from: when, and the peer's busyMs counter then. */
export interface PeerWaitMark {
  at: number;
  busyAt: number;
}

/** The mark for now (`busyMs`: this node's handling time of the peer's messages so far; none: 0). */
export function markPeerWait(now: number, busyMs: number | undefined): PeerWaitMark {
  return { at: now, busyAt: busyMs ?? 0 };
}

/** Ms the peer has had to answer since `mark` (`busyMs`: the counter now; undefined: not counted). */
export function peerWaitedMs(mark: PeerWaitMark, now: number, busyMs: number | undefined): number {
  const paused = busyMs === undefined ? 0 : busyMs - mark.busyAt;
  return now - mark.at - Math.min(GAP_REQUEST_MAX_PAUSE_MS, Math.max(0, paused));
}
