// Operator checkpoints, producing side (src/lib/core/join/checkpointer.ts, PROTOCOL.md §13.7):
// only a genesis operator's seed makes a Checkpointer; its checkpoints verify with the genesis
// operator keys alone; any other signer, or any changed field, is refused.
import { describe, expect, it } from 'vitest';
import { toHex } from '../../src/lib/core/bytes.js';
import { defaultGenesis, networkId } from '../../src/lib/core/genesis.js';
import { Checkpointer, checkpointHolds, checkpointJson, signCheckpoint } from '../../src/lib/core/join/index.js';
import { checkpointBytes } from '../../src/lib/core/join/signing.js';
import { keysFromByte } from '../helpers/ledger-fixtures.js';

const hex = (b: number): string => toHex(new Uint8Array(32).fill(b));
const id = networkId(defaultGenesis());
const claim = { headsRoot: hex(1), stateDigest: hex(2), entries: 30 };

describe('Checkpointer', () => {
  it('exists only for a genesis operator seed; signs once per claim; time never goes back', async () => {
    const op = await keysFromByte(40);
    const other = await keysFromByte(41);
    const operators = [toHex(op.publicKey)];
    expect(await Checkpointer.create({ seed: other.seed, networkId: id, operators })).toBeUndefined();
    expect(await Checkpointer.create({ seed: op.seed, networkId: id, operators: [] })).toBeUndefined();

    let t = 5_000;
    const cp = (await Checkpointer.create({ seed: op.seed, networkId: id, operators, now: () => t }))!;
    expect(cp.signer).toBe(operators[0]);
    expect(cp.latest()).toBeNull();
    const [a, b] = await Promise.all([cp.checkpoint(claim), cp.checkpoint(claim)]);
    expect(a).toBe(b);
    expect(cp.stats).toEqual({ signed: 1, reused: 1 });
    expect(a).toMatchObject({ ...claim, time: 5_000, signer: operators[0] });
    t = 1_000; // the clock stepped back: the next checkpoint is still not older
    const c = await cp.checkpoint({ ...claim, entries: 31 });
    expect(c.time).toBe(5_000);
    expect(cp.latest()).toBe(c);
    expect(cp.stats.signed).toBe(2);
    expect(checkpointJson(c).sig).toMatch(/^[0-9a-f]{128}$/);
  });

  it('its checkpoints verify with the genesis operators only; a tampered one is refused', async () => {
    const op = await keysFromByte(40);
    const stranger = await keysFromByte(42);
    const genesisOps = [op.publicKey];
    const mine = (await Checkpointer.create({ seed: op.seed, networkId: id, operators: [toHex(op.publicKey)] }))!;
    const cp = await mine.checkpoint(claim);
    expect(await checkpointHolds(id, cp, genesisOps)).toBe(true);

    // A Checkpointer that believes the stranger is an operator: its checkpoints are not operator checkpoints.
    const theirs = (await Checkpointer.create({
      seed: stranger.seed,
      networkId: id,
      operators: [toHex(stranger.publicKey)]
    }))!;
    const fake = await theirs.checkpoint(claim);
    expect(await checkpointHolds(id, fake, genesisOps)).toBe(false);
    // Claiming the operator as signer does not help: the signature is the stranger's.
    expect(await checkpointHolds(id, { ...fake, signer: cp.signer }, genesisOps)).toBe(false);

    const flipped = new Uint8Array(cp.sig);
    flipped[10] ^= 1;
    for (const t of [
      { ...cp, sig: flipped },
      { ...cp, entries: cp.entries + 1 },
      { ...cp, headsRoot: hex(9) },
      { ...cp, stateDigest: hex(9) },
      { ...cp, time: cp.time + 1 }
    ]) {
      expect(await checkpointHolds(id, t, genesisOps)).toBe(false);
    }
    expect(await checkpointHolds(new Uint8Array(32).fill(3), cp, genesisOps)).toBe(false);
  });

  it('matches the test vector of PROTOCOL.md §13.7 (signed bytes and signature)', async () => {
    const seed = new Uint8Array(32).fill(1);
    const c = { headsRoot: '11'.repeat(32), stateDigest: '22'.repeat(32), entries: 300, time: 1_767_225_600_000 };
    const bytes = checkpointBytes(id, c);
    expect(bytes.length).toBe(133);
    expect(toHex(bytes)).toBe(
      '746162756c612f636865636b706f696e742f763100' +
        '2c542ef7299701f03fc293708298f149d39f2d8a725a575ffb2e438c53e24da5' +
        '11'.repeat(32) +
        '22'.repeat(32) +
        '000000000000012c' +
        '0000019b76daa800'
    );
    const cp = await signCheckpoint(seed, id, c);
    expect(cp.signer).toBe('8a88e3dd7409f195fd52db2d3cba5d72ca6709bf1d94121bf3748801b40f6f5c');
    expect(toHex(cp.sig)).toBe(
      'f173012b5d6dd8d0e39ad6cc69f4b745ca7faafcef45c5c2c50fd76abfae49ea' +
        '4dc9800c4f51d26902f7a9a64d3a518571ac3a0ce7b10cf5db6dc3a73e970405'
    );
  });
});
