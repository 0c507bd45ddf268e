// The producing side of operator checkpoints (PROTOCOL.md §13.3, §13.7): a node holding a genesis
// operator's seed signs the (headsRoot, stateDigest, entries) of the state it serves, at `time`.
// One signature per distinct claim: asking again for the same claim returns the same checkpoint,
// so joiners asking often cost nothing, and `time` never goes backwards (newest wins at joiners).
import { toHex } from '../bytes.js';
import { publicKeyFromSeed } from '../ed25519.js';
import type { Checkpoint, JoinClaim } from './messages.js';
import { signCheckpoint } from './signing.js';
import { claimKey } from './tally.js';

/** Counters of a Checkpointer (relay /metrics, /api/archive). */
export interface CheckpointerStats {
  /** Checkpoints signed (one per distinct claim). */
  signed: number;
  /** Requests answered with the checkpoint already signed for that claim. */
  reused: number;
}

export interface CheckpointerOptions {
  /** The operator's 32-byte Ed25519 seed. */
  seed: Uint8Array;
  /** Network id (SHA-256 of the genesis encoding), 32 bytes. */
  networkId: Uint8Array;
  /** The genesis operator keys (64 hex each). */
  operators: readonly string[];
  /** Clock, ms since the epoch; default Date.now. */
  now?: () => number;
}

/** Signs operator checkpoints; build with `Checkpointer.create` (undefined unless the seed is an operator's). */
export class Checkpointer {
  readonly stats: CheckpointerStats = { signed: 0, reused: 0 };
  private last: Checkpoint | null = null;
  private signing: Promise<unknown> = Promise.resolve();

  private constructor(
    private readonly seed: Uint8Array,
    private readonly networkId: Uint8Array,
    /** The operator key that signs (hex). */
    readonly signer: string,
    private readonly now: () => number
  ) {}

  /**
   * A checkpointer for `o.seed`, or undefined when its public key is not one of `o.operators`
   * (such a checkpoint would count for nothing at joiners, so none is produced).
   */
  static async create(o: CheckpointerOptions): Promise<Checkpointer | undefined> {
    const signer = toHex(await publicKeyFromSeed(o.seed));
    if (!o.operators.some((k) => k.toLowerCase() === signer)) return undefined;
    return new Checkpointer(o.seed, o.networkId, signer, o.now ?? Date.now);
  }

  /** The newest checkpoint signed, or null before the first. */
  latest(): Checkpoint | null {
    return this.last;
  }

  /**
   * The checkpoint of `claim`: the one already signed when the claim is the latest's, else a new
   * signature at max(now, latest time). Calls are serialised, so concurrent asks sign once.
   */
  checkpoint(claim: JoinClaim): Promise<Checkpoint> {
    const run = this.signing.then(() => this.sign(claim));
    this.signing = run.catch(() => undefined);
    return run;
  }

  private async sign(claim: JoinClaim): Promise<Checkpoint> {
    if (this.last !== null && claimKey(this.last) === claimKey(claim)) {
      this.stats.reused++;
      return this.last;
    }
    const time = Math.max(this.now(), this.last?.time ?? 0);
    const c = { headsRoot: claim.headsRoot, stateDigest: claim.stateDigest, entries: claim.entries, time };
    this.last = await signCheckpoint(this.seed, this.networkId, c);
    this.stats.signed++;
    return this.last;
  }
}

/** A checkpoint as JSON (hex signature), e.g. for /api/archive. */
export function checkpointJson(cp: Checkpoint): Omit<Checkpoint, 'sig'> & { sig: string } {
  return { ...cp, sig: toHex(cp.sig) };
}
