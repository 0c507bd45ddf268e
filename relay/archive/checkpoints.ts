// Operator checkpoints (PROTOCOL.md §13.7): an archive whose data directory holds operator.key,
// the seed of one of the genesis operators, signs a checkpoint of the state it serves to joiners
// every `intervalMs` (and on demand: with every join claim whose state is newer than the last
// checkpoint, and through `checkpointNow`). Joiners that get one verify the snapshot on it alone.
// An archive without the key, or with a key the genesis does not list, signs none.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Ledger } from '../../src/lib/core/ledger.js';
import { Checkpointer, checkpointJson } from '../../src/lib/core/join/checkpointer.js';
import type { Checkpoint, JoinClaim } from '../../src/lib/core/join/messages.js';
import type { JoinSource } from '../../src/lib/core/join/server.js';
import { OPERATOR_KEY_FILE } from '../network-genesis.js';

const SEED_BYTES = 32;

/** operator.key exists but is not a 32-byte seed. */
export class OperatorKeyError extends Error {
  override name = 'OperatorKeyError';
}

/** Why an archive does or does not sign checkpoints. */
export type CheckpointRole = 'operator' | 'no-operator-key' | 'not-an-operator';

/** The checkpoint part of /api/archive (and of /metrics). */
export interface ArchiveCheckpointStatus {
  role: CheckpointRole;
  /** The operator key that signs (hex), null unless role is 'operator'. */
  signer: string | null;
  /** Checkpoints signed since start (one per distinct served state). */
  signed: number;
  /** Periodic rounds that failed (e.g. the state could not be read), since start. */
  failures: number;
  /** The newest checkpoint (sig in hex), null before the first. */
  latest: (Omit<Checkpoint, 'sig'> & { sig: string }) | null;
}

/** The seed in `<dataDir>/operator.key`, or undefined when there is none. Throws OperatorKeyError on a bad file. */
export async function readOperatorSeed(dataDir: string): Promise<Uint8Array | undefined> {
  const path = join(dataDir, OPERATOR_KEY_FILE);
  let bytes: Buffer;
  try {
    bytes = await readFile(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
  if (bytes.length !== SEED_BYTES) throw new OperatorKeyError(`${path}: expected a ${SEED_BYTES}-byte key`);
  return new Uint8Array(bytes);
}

export interface ArchiveCheckpointsInit {
  dataDir: string;
  ledger: Ledger;
  /** The genesis operator keys (hex). */
  operators: readonly string[];
  /** Period of the signing round, ms; 0: on demand only. */
  intervalMs: number;
  now?: () => number;
}

export interface ArchiveCheckpoints {
  role: CheckpointRole;
  /** The `checkpoint` option of ledgerJoinSource: the checkpoint of a served claim, or undefined. */
  forClaim(claim: JoinClaim): Promise<Checkpoint | undefined>;
  /** Starts the periodic round over `source` (the archive's join source). */
  start(source: JoinSource): void;
  /** Signs (or reuses) the checkpoint of the state served now; undefined when none can be made. */
  checkpointNow(): Promise<Checkpoint | undefined>;
  status(): ArchiveCheckpointStatus;
  stop(): void;
}

/** Loads operator.key from the data directory and decides the archive's checkpoint role. */
export async function archiveCheckpoints(init: ArchiveCheckpointsInit): Promise<ArchiveCheckpoints> {
  const seed = await readOperatorSeed(init.dataDir);
  const signer =
    seed &&
    (await Checkpointer.create({
      seed,
      networkId: init.ledger.networkId,
      operators: init.operators,
      now: init.now
    }));
  const role: CheckpointRole = signer ? 'operator' : seed ? 'not-an-operator' : 'no-operator-key';
  let source: JoinSource | undefined;
  let timer: ReturnType<typeof setInterval> | undefined;
  let failures = 0;
  const checkpointNow = async (): Promise<Checkpoint | undefined> =>
    signer && source ? ((await source.snapshot())?.checkpoint ?? undefined) : undefined;
  return {
    role,
    // Only a state the archive verified itself (a full replay) is vouched for.
    forClaim: async (claim) =>
      signer && !init.ledger.stats({ digest: false }).unverified ? signer.checkpoint(claim) : undefined,
    start(s) {
      source = s;
      if (!signer || init.intervalMs <= 0) return;
      const round = () => void checkpointNow().catch(() => failures++);
      round();
      timer = setInterval(round, init.intervalMs);
      timer.unref?.();
    },
    checkpointNow,
    status: () => {
      const latest = signer?.latest() ?? null;
      return {
        role,
        signer: signer?.signer ?? null,
        signed: signer?.stats.signed ?? 0,
        failures,
        latest: latest && checkpointJson(latest)
      };
    },
    stop: () => clearInterval(timer)
  };
}
