// Defaults of peer scoring and bans (src/lib/core/peers/score.ts), with why each value is what it
// is. None of these is on the wire: changing one changes only how this node judges its peers.

/**
 * Weight of each new outcome in the score's exponential moving average (EMA). 0.2 means the last
 * ~5 answers dominate: a peer that turns bad drops below a consistently useful one within two or
 * three bad answers, yet one timeout does not undo a long useful record.
 */
export const PEER_SCORE_ALPHA = 0.2;

/**
 * What each outcome is worth in the EMA, in [-1, 1]. `useful`: the answer brought entries or an
 * exchange finished; `empty`: a well-formed answer that brought nothing (normal when in step);
 * `late`: an answer that arrived after its request had timed out; `timeout`: no answer in time;
 * `invalid`: data that failed verification (also a ban when its code is a ban offence).
 */
export const PEER_OUTCOME_VALUES = {
  useful: 1,
  empty: 0,
  late: -0.5,
  timeout: -1,
  invalid: -1
} as const;

/**
 * RTT term: score -= PEER_RTT_WEIGHT × min(1, rtt / PEER_RTT_SCALE_MS). 1 s (the gap-fill default
 * for an unmeasured peer) costs the full 0.25, a 20 ms LAN peer 0.005: RTT breaks ties between
 * equally useful peers but never outweighs usefulness (one useful answer moves the EMA by 0.2).
 */
export const PEER_RTT_WEIGHT = 0.25;
export const PEER_RTT_SCALE_MS = 1_000;

/**
 * Peers remembered at most (least recently seen dropped first, banned ones last). 1024 covers
 * every peer a tab meets in a session (connections are capped at 64) while bounding what a
 * peer-id-minting attacker can make us hold (~100 bytes each).
 */
export const PEER_BOOK_MAX = 1_024;

/**
 * First ban, ms. A minute cuts a misbehaving peer off at once (disconnect + gater) while a
 * peer that was wrong by mistake (an old version, another network's tab) is back soon.
 */
export const BAN_BASE_MS = 60_000;
/** Each further offence multiplies the ban by this factor (1, 2, 4, 8 ... minutes). */
export const BAN_FACTOR = 2;
/** Longest ban, ms (1 h): repeat offenders stay out, yet nothing is banned forever on one node's word. */
export const BAN_MAX_MS = 60 * 60_000;
/**
 * An offence is forgotten after this long without another (ms, 6 h): the next ban starts at
 * BAN_BASE_MS again. Peer ids are cheap, so longer memory mostly costs memory.
 */
export const BAN_FORGET_MS = 6 * 60 * 60_000;
/** Bans listed by status() at most (the most recent first). */
export const BAN_STATUS_MAX = 100;

/**
 * Bans (and remembered repeat offences) saved across reloads at most, the most recent first. 256
 * records of ~200 bytes keep the saved list under ~64 KiB however many peer ids an attacker mints.
 */
export const BAN_PERSIST_MAX = 256;
/** Longest peer id and ban reason accepted from a saved list (longer records are dropped). */
export const BAN_PERSIST_MAX_PEER_CHARS = 128;
export const BAN_PERSIST_MAX_REASON_CHARS = 64;
/** New bans are saved this long after the first of a burst (one write per burst), ms. */
export const BAN_SAVE_DELAY_MS = 1_000;
