// Verified join in the seeded simulation (issue 9, point 3): 2/3 of the peers asked, one vote per
// author key, snapshots recomputed from their bytes, operator checkpoints. SEED=n replays a run;
// SIM_SEEDS=n sets how many seeds each scenario runs.
import { describe, expect, it } from 'vitest';
import { joinWorld, honestRecords, type JoinWorld, type PeerSpec } from './join-sim.js';
import { seeds } from './scenario.js';
import { defaultGenesis, networkId } from '../../src/lib/core/genesis.js';
import { headsRoot } from '../../src/lib/core/heads-digest.js';
import { toHex } from '../../src/lib/core/bytes.js';
import { keysFromByte } from '../helpers/ledger-fixtures.js';
import { Checkpointer } from '../../src/lib/core/join/index.js';
import { JOIN_RETRY_MS } from '../../src/lib/core/join/constants.js';
import type { Genesis } from '../../src/lib/core/types.js';
import type { LinkOptions } from './net.js';
import { encodeEntry } from '../../src/lib/core/entry.js';
import { isVoidSeq } from '../../src/lib/core/void.js';
import { clientIdOf, overrideClientIds } from '../../src/lib/core/state/client-id.js';
import { memoryLocation, openLedger } from '../helpers/ledger-nodes.js';
import { makeChain } from '../helpers/ledger-fixtures.js';
import type { HashedEntry } from '../../src/lib/core/types.js';

const OPERATOR = 77;
const STRANGER = 78;

async function operatorGenesis(): Promise<Genesis> {
  const op = toHex((await keysFromByte(OPERATOR)).publicKey);
  return { ...defaultGenesis(), name: 'tabula-join-sim', operators: [op] };
}

async function world(
  seed: number,
  genesis = defaultGenesis(),
  operators: Uint8Array[] = [],
  link?: LinkOptions
): Promise<JoinWorld> {
  const id = networkId(genesis);
  // Checkpoints come from the producing side (Checkpointer, as relay --archive signs them); a
  // stranger's Checkpointer believes its own key is an operator's, the joiner's genesis does not.
  const signers = new Map<number, Promise<Checkpointer | undefined>>();
  const signer = (keyByte: number) => {
    let c = signers.get(keyByte);
    if (c === undefined) {
      c = keysFromByte(keyByte).then((k) =>
        Checkpointer.create({
          seed: k.seed,
          networkId: id,
          operators: [toHex(k.publicKey)],
          now: () => 1_800_000_000_000
        })
      );
      signers.set(keyByte, c);
    }
    return c;
  };
  return joinWorld({
    seed,
    link,
    genesis,
    operators,
    signCheckpoint: async (keyByte, claim) => (await signer(keyByte))!.checkpoint(claim)
  });
}

async function start(w: JoinWorld, peers: PeerSpec[]): Promise<void> {
  for (const p of peers) await w.connect(p);
  w.joiner.start();
}

const settled = (w: JoinWorld) => (): boolean => {
  const s = w.joiner.status().state;
  return s === 'verified' || s === 'unverified' || s === 'waiting';
};

/** The joined ledger holds exactly the honest history's state and heads. */
function expectHonestState(w: JoinWorld, seed: number): void {
  const ref = [...w.replicas.values()][0].ledger;
  expect(JSON.stringify(w.joined.ledger.records()), `SEED=${seed}`).toBe(honestRecords(w));
  expect(headsRoot(w.joined.ledger.heads()), `SEED=${seed}`).toBe(headsRoot(ref.heads()));
  expect(w.joined.ledger.stats().stateDigest, `SEED=${seed}`).toBe(ref.stats().stateDigest);
}

function log(name: string, seed: number, w: JoinWorld): void {
  const s = w.joiner.status();
  console.log(
    `join sim ${name} SEED=${seed}: ${s.state} verified=${s.verified} asked=${s.peersAsked} agreeing=${s.agreeing} ` +
      `bytes=${s.bytes}/${s.totalBytes} entries=${s.entries} rounds=${s.rounds} refused=${s.refused} ` +
      `t=${Math.round(w.net.time)}ms rejections=${JSON.stringify(w.rejections)}`
  );
}

describe('join simulation', () => {
  it('3 honest peers: verified by quorum, progress reported, the ledger is not marked unverified', async () => {
    for (const seed of seeds(2, 9100)) {
      const w = await world(seed);
      await start(w, [
        { id: 'h1', key: 1 },
        { id: 'h2', key: 2 },
        { id: 'h3', key: 3 }
      ]);
      const progress: number[] = [];
      const watch = (): void => {
        progress.push(w.joiner.status().bytes);
        if (!settled(w)()) w.net.schedule(20, watch);
      };
      w.net.schedule(0, watch);
      expect(await w.run(settled(w), 60_000), `SEED=${seed}`).toBe(true);
      log('3 honest', seed, w);
      const s = w.joiner.status();
      expect(s, `SEED=${seed}`).toMatchObject({
        state: 'verified',
        verified: true,
        loaded: true,
        peersAsked: 3,
        agreeing: 3
      });
      expect(s.bytes, `SEED=${seed}`).toBe(s.totalBytes);
      expect(s.entries, `SEED=${seed}`).toBe(24);
      // Progress was visible part-way (1 KiB chunks).
      expect(
        progress.some((b) => b > 0 && b < s.totalBytes),
        `SEED=${seed}`
      ).toBe(true);
      expect(w.installs.map((v) => v.by)).toEqual(['quorum']);
      expect(w.joined.ledger.stats().unverified, `SEED=${seed}`).toBe(false);
      expect(w.rejections, `SEED=${seed}`).toEqual([]);
      // Each step's time is marked (virtual clock), in order; verified at install.
      const m = s.marks;
      const steps = [m.askedAt, m.agreedAt, m.downloadedAt, m.checkedAt, m.installedAt];
      expect(
        steps.every((t) => typeof t === 'number'),
        `SEED=${seed}`
      ).toBe(true);
      expect(
        [...(steps as number[])].sort((a, b) => a - b),
        `SEED=${seed}`
      ).toEqual(steps);
      expect(m.downloadedAt! - m.agreedAt!, `SEED=${seed}`).toBeGreaterThan(0); // chunks cross the network
      expect(m.verifiedAt, `SEED=${seed}`).toBe(m.installedAt);
      expectHonestState(w, seed);
    }
  }, 120_000);

  it('replicas holding void feeds (a fork, a clientID collision) serve a join: verified by quorum, the same heads and state', async () => {
    const genesis = defaultGenesis();
    const [ka, kb] = await Promise.all([keysFromByte(61), keysFromByte(62)]);
    const b = toHex(kb.publicKey);
    const restore = overrideClientIds((author, real) => (author === b ? clientIdOf(toHex(ka.publicKey)) : real));
    try {
      const extra: HashedEntry[] = [];
      const wrote = async (byte: number, n: number): Promise<HashedEntry[]> => {
        const l = await openLedger(memoryLocation(), byte, { genesis });
        for (let i = 0; i < n; i++) await l.ledger.put(`v${byte}-${i}`, i);
        await l.ledger.close();
        return l.log;
      };
      const f = await wrote(60, 3);
      const [alt] = await makeChain(await keysFromByte(60), 1, networkId(genesis), f[0], 'alt');
      extra.push(...f, alt, ...(await wrote(61, 2)), ...(await wrote(62, 2)));
      for (const seed of seeds(2, 9900)) {
        const w = await joinWorld({ seed, genesis, operators: [], extra });
        await start(w, [
          { id: 'h1', key: 1 },
          { id: 'h2', key: 2 },
          { id: 'h3', key: 3 }
        ]);
        expect(await w.run(settled(w), 60_000), `SEED=${seed}`).toBe(true);
        log('void feeds', seed, w);
        expect(w.joiner.status(), `SEED=${seed}`).toMatchObject({ state: 'verified', verified: true, agreeing: 3 });
        expect(w.rejections, `SEED=${seed}`).toEqual([]);
        expect(w.joined.ledger.heads().filter((h) => isVoidSeq(h.seq)).length, `SEED=${seed}`).toBe(3);
        expectHonestState(w, seed);
      }
    } finally {
      restore();
    }
  }, 120_000);

  it('after the join the node writes on top of the loaded heads and honest replicas accept its entries; lossy links still verify', async () => {
    for (const seed of seeds(2, 9600)) {
      const w = await world(seed, defaultGenesis(), [], { loss: 0.1, dup: 0.1, latencyMin: 5, latencyMax: 120 });
      await start(w, [
        { id: 'h1', key: 1 },
        { id: 'h2', key: 2 },
        { id: 'h3', key: 3 },
        { id: 'h4', key: 4 }
      ]);
      expect(await w.run(() => w.joiner.status().verified, 120_000), `SEED=${seed}`).toBe(true);
      log('lossy', seed, w);
      expectHonestState(w, seed);
      // Overwriting another author's record depends on its head: lamport and clock come from the
      // head entries the snapshot carried, and an honest replica checks them (PROTOCOL.md §5.3).
      const h = await w.joined.ledger.put('w0-k1', 'edited after join');
      expect(h.entry.deps.length, `SEED=${seed}`).toBe(1);
      const ref = [...w.replicas.values()][0].ledger;
      const report = await ref.ingest([encodeEntry(h.entry)]);
      expect(report.added, `SEED=${seed}: ${JSON.stringify(report.rejected)}`).toBe(1);
      expect(ref.get('w0-k1')).toBe('edited after join');
    }
  }, 180_000);

  it('1 lying peer of 3 is outvoted (forged state), and a peer baiting with the honest claim is caught by the bytes', async () => {
    for (const seed of seeds(2, 9200)) {
      // The liar scores best, so it is asked first and would serve first.
      const w = await world(seed);
      await start(w, [
        { id: 'liar', key: 11, lie: { kind: 'forge', deleteKey: 'w0-k1' }, score: 1 },
        { id: 'h1', key: 1 },
        { id: 'h2', key: 2 }
      ]);
      expect(await w.run(settled(w), 60_000), `SEED=${seed}`).toBe(true);
      log('1 forger of 3', seed, w);
      expect(w.joiner.status(), `SEED=${seed}`).toMatchObject({ state: 'verified', peersAsked: 3, agreeing: 2 });
      expectHonestState(w, seed);

      const b = await world(seed);
      await start(b, [
        { id: 'bait', key: 12, lie: { kind: 'bait', deleteKey: 'w1-k2' }, score: 1 },
        { id: 'h1', key: 1 },
        { id: 'h2', key: 2 }
      ]);
      expect(await b.run(settled(b), 60_000), `SEED=${seed}`).toBe(true);
      log('1 bait of 3', seed, b);
      expect(b.joiner.status(), `SEED=${seed}`).toMatchObject({ state: 'verified', agreeing: 3 });
      expect(b.rejections, `SEED=${seed}`).toEqual([{ peer: 'bait', code: 'join-mismatch' }]);
      expectHonestState(b, seed);
    }
  }, 120_000);

  it('2 lying peers of 3: refused, the node stays unverified and tries other peers', async () => {
    for (const seed of seeds(2, 9300)) {
      const liars: PeerSpec[] = [
        { id: 'liar1', key: 11, lie: { kind: 'forge', deleteKey: 'w0-k1' }, score: 2 },
        { id: 'liar2', key: 12, lie: { kind: 'forge', deleteKey: 'w2-k3' }, score: 2 },
        { id: 'h1', key: 1, score: 1 }
      ];
      // Alone with them: refused, nothing installed, waiting for other peers.
      const w = await world(seed);
      await start(w, liars);
      expect(await w.run(settled(w), 60_000), `SEED=${seed}`).toBe(true);
      log('2 liars of 3, nobody else', seed, w);
      expect(w.joiner.status(), `SEED=${seed}`).toMatchObject({
        state: 'waiting',
        verified: false,
        loaded: false,
        peersAsked: 3,
        agreeing: 1,
        refused: 1
      });
      expect(w.installs).toEqual([]);
      expect(w.joined.ledger.heads()).toEqual([]);
      // Other peers appear: the next round asks them (not the ones refused) and verifies.
      for (const id of ['h4', 'h5', 'h6']) await w.connect({ id, key: Number(id.slice(1)) });
      expect(await w.run(() => w.joiner.status().state === 'verified', 60_000), `SEED=${seed}`).toBe(true);
      log('2 liars of 3, then 3 honest', seed, w);
      expect(w.joiner.status(), `SEED=${seed}`).toMatchObject({ peersAsked: 3, agreeing: 3, refused: 1 });
      expectHonestState(w, seed);

      // With other peers already connected, the node moves on to them at once.
      const m = await world(seed);
      await start(m, [...liars, { id: 'h4', key: 4 }, { id: 'h5', key: 5 }, { id: 'h6', key: 6 }]);
      expect(await m.run(() => m.joiner.status().state === 'verified', 60_000), `SEED=${seed}`).toBe(true);
      log('2 liars of 3 among 6', seed, m);
      expect(m.joiner.status(), `SEED=${seed}`).toMatchObject({ refused: 1, rounds: 2 });
      expect(m.installs.map((v) => v.by)).toEqual(['quorum']);
      expectHonestState(m, seed);
    }
  }, 180_000);

  it('votes count once per author key: two connections of one key plus an honest peer are refused', async () => {
    for (const seed of seeds(2, 9400)) {
      const w = await world(seed);
      const lie = { kind: 'forge', deleteKey: 'w1-k0' } as const;
      await start(w, [
        { id: 'sybil-a', key: 13, lie, score: 2 },
        { id: 'sybil-b', key: 13, lie, score: 2 },
        { id: 'h1', key: 1, score: 1 }
      ]);
      expect(await w.run(settled(w), 60_000), `SEED=${seed}`).toBe(true);
      log('sybil', seed, w);
      expect(w.joiner.status(), `SEED=${seed}`).toMatchObject({
        state: 'waiting',
        loaded: false,
        agreeing: 1,
        refused: 1
      });
      expect(w.installs).toEqual([]);
    }
  }, 120_000);

  it('an operator checkpoint verifies a snapshot alone; a checkpoint signed by a non-operator does not', async () => {
    const genesis = await operatorGenesis();
    const operators = [(await keysFromByte(OPERATOR)).publicKey];
    for (const seed of seeds(2, 9500)) {
      // One peer (not itself an operator) serving a state the operator checkpointed.
      const w = await world(seed, genesis, operators);
      await start(w, [{ id: 'h1', key: 1, checkpointBy: OPERATOR }]);
      expect(await w.run(settled(w), 60_000), `SEED=${seed}`).toBe(true);
      log('operator checkpoint', seed, w);
      expect(w.joiner.status(), `SEED=${seed}`).toMatchObject({ state: 'verified', verified: true, peersAsked: 1 });
      expect(w.installs.map((v) => v.by)).toEqual(['checkpoint']);
      expect(w.joined.ledger.stats().unverified).toBe(false);
      expectHonestState(w, seed);

      // The operator's checkpoint also wins against two lying peers asked first.
      const l = await world(seed, genesis, operators);
      await start(l, [
        { id: 'liar1', key: 11, lie: { kind: 'forge', deleteKey: 'w0-k1' }, score: 2 },
        { id: 'liar2', key: 12, lie: { kind: 'forge', deleteKey: 'w0-k1' }, score: 2 },
        { id: 'op', key: OPERATOR, checkpointBy: OPERATOR, score: 1 }
      ]);
      expect(await l.run(settled(l), 60_000), `SEED=${seed}`).toBe(true);
      log('operator checkpoint vs 2 colluding liars', seed, l);
      expect(l.installs.map((v) => v.by)).toEqual(['checkpoint']);
      expectHonestState(l, seed);

      // A non-operator's checkpoint counts for nothing: one peer gives an unverified state...
      const n = await world(seed, genesis, operators);
      await start(n, [{ id: 'h1', key: 1, checkpointBy: STRANGER }]);
      expect(await n.run(settled(n), 60_000), `SEED=${seed}`).toBe(true);
      log('non-operator checkpoint', seed, n);
      expect(n.joiner.status(), `SEED=${seed}`).toMatchObject({ state: 'unverified', verified: false, loaded: true });
      expect(n.joiner.status().marks.installedAt, `SEED=${seed}`).not.toBeNull();
      expect(n.joiner.status().marks.verifiedAt, `SEED=${seed}`).toBeNull();
      expect(n.installs.map((v) => v.by)).toEqual(['few-peers']);
      expect(n.joined.ledger.stats().unverified).toBe(true);
      expectHonestState(n, seed);
      // ...re-verified once more peers appear.
      await n.connect({ id: 'h2', key: 2 });
      await n.connect({ id: 'h3', key: 3 });
      expect(await n.run(() => n.joiner.status().verified, 60_000), `SEED=${seed}`).toBe(true);
      log('re-verified with 3 peers', seed, n);
      expect(n.reverified.map((v) => [v.by, v.agreeing])).toEqual([['quorum', 3]]);
      const marks = n.joiner.status().marks;
      expect(marks.verifiedAt!, `SEED=${seed}`).toBeGreaterThan(marks.installedAt!);
      await n.joined.ledger.markVerified(); // waits for the queued clear
      expect(n.joined.ledger.stats().unverified).toBe(false);
    }
  }, 180_000);
  it('peers that link while the snapshot downloads re-verify an unverified install soon, not a retry period later', async () => {
    for (const seed of seeds(2, 9650)) {
      const w = await world(seed);
      await start(w, [{ id: 'h1', key: 1 }]);
      expect(await w.run(() => w.joiner.status().state === 'fetching', 30_000), `SEED=${seed}`).toBe(true);
      await w.connect({ id: 'h2', key: 2 }); // while the download is in flight
      await w.connect({ id: 'h3', key: 3 });
      expect(await w.run(() => w.joiner.status().verified, 60_000), `SEED=${seed}`).toBe(true);
      log('re-verified with peers that linked during the download', seed, w);
      expect(w.installs.map((v) => v.by)).toEqual(['few-peers']);
      expect(w.reverified.map((v) => [v.by, v.agreeing])).toEqual([['quorum', 3]]);
      const { installedAt, verifiedAt } = w.joiner.status().marks;
      // Before: the re-verification waited for JOIN_RETRY_MS (30 s) after the install.
      expect(verifiedAt! - installedAt!, `SEED=${seed}`).toBeLessThan(JOIN_RETRY_MS / 2);
    }
  }, 120_000);
  it('peers holding nothing abstain: all empty or unavailable ends in "nothing"; an empty peer does not block a join from a full one', async () => {
    for (const seed of seeds(2, 9700)) {
      const w = await world(seed);
      await start(w, [
        { id: 'e1', key: 31, holds: 'empty' },
        { id: 'u1', key: 1, holds: 'unavailable' }
      ]);
      expect(await w.run(() => w.joiner.status().state === 'nothing', 30_000), `SEED=${seed}`).toBe(true);
      log('empty + unavailable', seed, w);
      expect(w.joiner.status(), `SEED=${seed}`).toMatchObject({ state: 'nothing', loaded: false, peersAsked: 2 });
      expect(w.installs, `SEED=${seed}`).toEqual([]);
      expect(w.rejections, `SEED=${seed}`).toEqual([]);
      // Bounded: decided within the round trip, not after a timeout or retry.
      expect(w.net.time, `SEED=${seed}`).toBeLessThan(2_000);

      const v = await world(seed + 1);
      await start(v, [
        { id: 'h1', key: 1 },
        { id: 'e1', key: 31, holds: 'empty' }
      ]);
      expect(await v.run(settled(v), 30_000), `SEED=${seed}`).toBe(true);
      log('full + empty', seed, v);
      // The empty peer is not counted: 1 of 1 holding a state, so installed unverified (few peers).
      expect(v.joiner.status(), `SEED=${seed}`).toMatchObject({ state: 'unverified', loaded: true, agreeing: 1 });
      expect(
        v.installs.map((x) => x.by),
        `SEED=${seed}`
      ).toEqual(['few-peers']);
      expectHonestState(v, seed);
    }
  }, 120_000);

  it('abstentions never raise a verdict: 2 honest peers and 1 empty peer install unverified, not by quorum', async () => {
    for (const seed of seeds(2, 9800)) {
      const w = await world(seed);
      await start(w, [
        { id: 'h1', key: 1 },
        { id: 'h2', key: 2 },
        { id: 'e1', key: 31, holds: 'empty' }
      ]);
      expect(await w.run(settled(w), 30_000), `SEED=${seed}`).toBe(true);
      log('2 honest + empty', seed, w);
      expect(
        w.installs.map((x) => x.by),
        `SEED=${seed}`
      ).toEqual(['few-peers']);
      expect(w.joined.ledger.stats().unverified, `SEED=${seed}`).toBe(true);
    }
  }, 120_000);
});
