// What join votes and operator checkpoints sign (PROTOCOL.md §13.3), and their checks.
//   vote       = Ed25519(voter,  JOIN_VOTE_TAG  ‖ networkId ‖ nonce ‖ headsRoot ‖ stateDigest ‖ u64be(entries))
//   checkpoint = Ed25519(signer, CHECKPOINT_TAG ‖ networkId ‖ headsRoot ‖ stateDigest ‖ u64be(entries) ‖ u64be(time))
// The nonce binds a vote to one ask of one joiner (no replay); the network id to one network.
import { concatBytes, fromHex, toHex } from '../bytes.js';
import { publicKeyFromSeed, sign, verify } from '../ed25519.js';
import type { Checkpoint, JoinClaim } from './messages.js';
import { CHECKPOINT_TAG, JOIN_VOTE_TAG } from './constants.js';

const utf8 = new TextEncoder();

function u64(n: number): Uint8Array {
  const out = new Uint8Array(8);
  const view = new DataView(out.buffer);
  view.setUint32(0, Math.floor(n / 2 ** 32));
  view.setUint32(4, n >>> 0);
  return out;
}

/** Bytes a vote signs. Throws InvalidHexError on a malformed root or digest. */
export function voteBytes(networkId: Uint8Array, nonce: Uint8Array, c: JoinClaim): Uint8Array {
  return concatBytes(
    utf8.encode(JOIN_VOTE_TAG),
    networkId,
    nonce,
    fromHex(c.headsRoot),
    fromHex(c.stateDigest),
    u64(c.entries)
  );
}

/** Bytes a checkpoint signs. */
export function checkpointBytes(networkId: Uint8Array, c: JoinClaim & { time: number }): Uint8Array {
  return concatBytes(
    utf8.encode(CHECKPOINT_TAG),
    networkId,
    fromHex(c.headsRoot),
    fromHex(c.stateDigest),
    u64(c.entries),
    u64(c.time)
  );
}

/** Signs a vote for `claim` with the identity seed. */
export function signVote(
  seed: Uint8Array,
  networkId: Uint8Array,
  nonce: Uint8Array,
  c: JoinClaim
): Promise<Uint8Array> {
  return sign(seed, voteBytes(networkId, nonce, c));
}

/** True when `sig` is `voter`'s (hex) vote for `claim` under `nonce`. Never throws. */
export async function voteHolds(
  networkId: Uint8Array,
  nonce: Uint8Array,
  c: JoinClaim,
  voter: string,
  sig: Uint8Array
): Promise<boolean> {
  try {
    return await verify(fromHex(voter), voteBytes(networkId, nonce, c), sig);
  } catch {
    return false;
  }
}

/** An operator's checkpoint of `claim` at `time` (ms), signed with the operator's seed. */
export async function signCheckpoint(
  seed: Uint8Array,
  networkId: Uint8Array,
  c: JoinClaim & { time: number }
): Promise<Checkpoint> {
  const signer = toHex(await publicKeyFromSeed(seed));
  const claim = { headsRoot: c.headsRoot, stateDigest: c.stateDigest, entries: c.entries };
  return { ...claim, time: c.time, signer, sig: await sign(seed, checkpointBytes(networkId, c)) };
}

/**
 * True when `cp` is signed by one of `operators` (raw 32-byte keys, e.g. the genesis list) and
 * its signature verifies for this network. A checkpoint signed by anyone else never counts.
 */
export async function checkpointHolds(
  networkId: Uint8Array,
  cp: Checkpoint,
  operators: readonly Uint8Array[]
): Promise<boolean> {
  if (!operators.some((k) => toHex(k) === cp.signer)) return false;
  try {
    return await verify(fromHex(cp.signer), checkpointBytes(networkId, cp), cp.sig);
  } catch {
    return false;
  }
}

/** The genesis operator keys (hex) as raw keys, the `operators` parameter of the joiner. */
export function operatorKeys(operators: readonly string[]): Uint8Array[] {
  return operators.map((k) => fromHex(k));
}
