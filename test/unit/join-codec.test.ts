// Join protocol codec, snapshot body, votes, checkpoints and tally (src/lib/core/join), with a
// fast-check fuzz of the decoders: any bytes give a message that re-encodes to exactly those
// bytes, or a typed error. SEED=n replays the fuzz; the seed is printed.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  decodeJoinMessage,
  decodeJoinSnapshot,
  encodeJoinMessage,
  encodeJoinSnapshot,
  signCheckpoint,
  signVote,
  checkpointHolds,
  voteHolds,
  tally,
  quorumOf,
  verifyJoinSnapshot,
  ledgerJoinSource,
  Joiner,
  installJoinSnapshot,
  JOIN_CHUNK_BYTES,
  JOIN_MAX_MESSAGE_BYTES,
  type JoinMsg
} from '../../src/lib/core/join/index.js';
import { defaultGenesis, networkId } from '../../src/lib/core/genesis.js';
import { toHex } from '../../src/lib/core/bytes.js';
import { keysFromByte } from '../helpers/ledger-fixtures.js';
import { memoryLocation, openLedger } from '../helpers/ledger-nodes.js';
import { assertByteFlipsRefused } from '../helpers/join-mutation.js';

const SEED = process.env.SEED !== undefined ? Number(process.env.SEED) : Date.now() % 2 ** 31;
const RUNS = Number(process.env.FUZZ_RUNS ?? 3000);
const TYPED = new Set(['JoinMalformedError', 'JoinOversizedError']);
const hex = (b: number): string => toHex(new Uint8Array(32).fill(b));
const bytes = (n: number, b: number): Uint8Array => new Uint8Array(n).fill(b);

const samples: JoinMsg[] = [
  { t: 'ask', version: 1, network: bytes(32, 1), nonce: bytes(16, 2) },
  {
    t: 'claim',
    nonce: bytes(16, 3),
    headsRoot: hex(4),
    stateDigest: hex(5),
    entries: 100_000,
    feeds: 12,
    size: 1_234_567,
    voter: hex(6),
    sig: bytes(64, 7),
    checkpoint: null
  },
  {
    t: 'claim',
    nonce: bytes(16, 3),
    headsRoot: hex(4),
    stateDigest: hex(5),
    entries: 0,
    feeds: 0,
    size: 2,
    voter: hex(6),
    sig: bytes(64, 7),
    checkpoint: { signer: hex(8), time: 1_800_000_000_000, sig: bytes(64, 9) }
  },
  { t: 'get', rid: 7, root: hex(4), offset: 65536, maxBytes: 65536 },
  { t: 'chunk', rid: 7, total: 100, offset: 0, bytes: bytes(100, 0xab) },
  { t: 'error', rid: 0, code: 'join-unavailable', message: 'no snapshot to serve' }
];

function expectTyped(fn: () => unknown): void {
  try {
    fn();
  } catch (e) {
    expect(TYPED.has((e as Error).name), `${(e as Error).name}: ${(e as Error).message}`).toBe(true);
  }
}

describe('join codec', () => {
  it('round-trips every message type; refuses trailing bytes, truncation, unknown types and oversize', () => {
    for (const m of samples) {
      const b = encodeJoinMessage(m);
      expect(decodeJoinMessage(b)).toEqual(m);
      expect(encodeJoinMessage(decodeJoinMessage(b))).toEqual(b);
      const trailing = new Uint8Array([...b, 0]);
      expect(() => decodeJoinMessage(trailing)).toThrow(expect.objectContaining({ name: 'JoinMalformedError' }));
      expect(() => decodeJoinMessage(b.subarray(0, b.length - 1))).toThrow(
        expect.objectContaining({ name: 'JoinMalformedError' })
      );
    }
    expect(() => decodeJoinMessage(new Uint8Array([9]))).toThrow(expect.objectContaining({ code: 'join-malformed' }));
    expect(() => decodeJoinMessage(new Uint8Array(JOIN_MAX_MESSAGE_BYTES + 1))).toThrow(
      expect.objectContaining({ code: 'join-oversized' })
    );
    const big = { t: 'chunk', rid: 1, total: 1, offset: 0, bytes: new Uint8Array(JOIN_CHUNK_BYTES + 1) } as const;
    expect(() => encodeJoinMessage(big)).toThrow(expect.objectContaining({ name: 'JoinMalformedError' }));
    // A claim with unknown flag bits is refused.
    const claim = encodeJoinMessage(samples[1]);
    claim[claim.length - 1] = 2;
    expect(() => decodeJoinMessage(claim)).toThrow(expect.objectContaining({ name: 'JoinMalformedError' }));
  });

  it(`fuzz: random and mutated bytes decode canonically or fail with a typed error (SEED=${SEED})`, () => {
    console.log(`join codec fuzz SEED=${SEED} runs=${RUNS}`);
    const encoded = samples.map(encodeJoinMessage);
    const mutated = fc
      .tuple(
        fc.constantFrom(...encoded),
        fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 6 }),
        fc.nat(8)
      )
      .map(([b, edits, cut]) => {
        const out = new Uint8Array(b);
        for (const [i, v] of edits) out[i % out.length] = v;
        return cut === 0 ? out.subarray(0, Math.max(0, out.length - 3)) : out;
      });
    const input = fc.oneof(fc.uint8Array({ maxLength: 400 }), mutated);
    fc.assert(
      fc.property(input, (b) => {
        let m: JoinMsg | undefined;
        expectTyped(() => (m = decodeJoinMessage(b)));
        if (m !== undefined) expect(encodeJoinMessage(m)).toEqual(b);
        expectTyped(() => decodeJoinSnapshot(b, 65536));
      }),
      { seed: SEED, numRuns: RUNS }
    );
  });
});

describe('join snapshot body, votes and tally', () => {
  it('a served snapshot verifies against its claim; a changed byte fails with JoinMismatchError only', async () => {
    const genesis = defaultGenesis();
    const tl = await openLedger(memoryLocation(), 5);
    for (let i = 0; i < 5; i++) await tl.ledger.put(`k${i}`, i);
    const snap = (await ledgerJoinSource(tl.ledger).snapshot())!;
    const ctx = { networkId: tl.ledger.networkId, genesis };
    const ok = await verifyJoinSnapshot(snap.body, snap.claim, ctx);
    expect(ok.entries).toBe(5);
    expect(ok.heads).toEqual(tl.ledger.heads());
    expect(decodeJoinSnapshot(encodeJoinSnapshot(decodeJoinSnapshot(snap.body, 65536)), 65536)).toEqual(
      decodeJoinSnapshot(snap.body, 65536)
    );
    // Every claim field is checked against the bytes.
    for (const claim of [
      { ...snap.claim, entries: 6 },
      { ...snap.claim, headsRoot: hex(1) },
      { ...snap.claim, stateDigest: hex(2) }
    ]) {
      await expect(verifyJoinSnapshot(snap.body, claim, ctx)).rejects.toMatchObject({ name: 'JoinMismatchError' });
    }
    console.log(`join snapshot mutation SEED=${SEED}`);
    await assertByteFlipsRefused(snap.body, snap.claim, ctx, SEED);
  });

  it('votes are bound to the nonce and the network; checkpoints count only when an operator signed them', async () => {
    const id = networkId(defaultGenesis());
    const other = new Uint8Array(32).fill(9);
    const k = await keysFromByte(1);
    const voter = toHex(k.publicKey);
    const claim = { headsRoot: hex(1), stateDigest: hex(2), entries: 3 };
    const nonce = bytes(16, 4);
    const sig = await signVote(k.seed, id, nonce, claim);
    expect(await voteHolds(id, nonce, claim, voter, sig)).toBe(true);
    expect(await voteHolds(id, bytes(16, 5), claim, voter, sig)).toBe(false);
    expect(await voteHolds(other, nonce, claim, voter, sig)).toBe(false);
    expect(await voteHolds(id, nonce, { ...claim, entries: 4 }, voter, sig)).toBe(false);
    expect(await voteHolds(id, nonce, claim, hex(7), sig)).toBe(false);

    const op = await keysFromByte(2);
    const cp = await signCheckpoint(op.seed, id, { ...claim, time: 1000 });
    expect(await checkpointHolds(id, cp, [op.publicKey])).toBe(true);
    expect(await checkpointHolds(id, cp, [k.publicKey])).toBe(false); // signer not an operator
    expect(await checkpointHolds(id, cp, [])).toBe(false);
    expect(await checkpointHolds(other, cp, [op.publicKey])).toBe(false);
    expect(await checkpointHolds(id, { ...cp, time: 1001 }, [op.publicKey])).toBe(false);
    const forged = { ...(await signCheckpoint(k.seed, id, { ...claim, time: 1000 })), signer: cp.signer };
    expect(await checkpointHolds(id, forged, [op.publicKey])).toBe(false);
  });

  it('tally: 2/3 of the peers asked, one vote per key, an equivocating key counts for nothing', () => {
    expect([1, 2, 3, 4, 5, 6].map(quorumOf)).toEqual([1, 2, 2, 3, 4, 4]);
    const A = { headsRoot: hex(1), stateDigest: hex(2), entries: 1 };
    const B = { ...A, stateDigest: hex(3) };
    const v = (peer: string, voter: string, claim = A) => ({ peer, voter, claim, size: 10 });
    expect(tally(3, [v('p1', 'k1'), v('p2', 'k2')])).toMatchObject({ quorum: true, best: { voters: 2 } });
    expect(tally(3, [v('p1', 'k1'), v('p2', 'k1'), v('p3', 'k3', B)])).toMatchObject({
      quorum: false,
      best: { voters: 1 }
    });
    // k1 votes A through p1 and B through p2: neither counts it.
    const eq = tally(3, [v('p1', 'k1'), v('p2', 'k1', B), v('p3', 'k3')]);
    expect(eq).toMatchObject({ quorum: false, best: { voters: 1 } });
    expect(tally(3, [])).toMatchObject({ quorum: false, best: null });
  });
});

describe('joiner faults', () => {
  it('a malformed message and a vote signed by another key than the peer are rejected, never thrown', async () => {
    const genesis = defaultGenesis();
    const id = networkId(genesis);
    const sent: { to: string; m: JoinMsg }[] = [];
    const rejected: string[] = [];
    let t = 0;
    const j = new Joiner({
      networkId: id,
      genesis,
      operators: [],
      send: (to, b) => sent.push({ to, m: decodeJoinMessage(b) }),
      now: () => t,
      randomBytes: (n) => bytes(n, 1),
      install: async () => undefined,
      voterOf: (p) => (p === 'p' ? hex(9) : undefined),
      onPeerRejected: (p, e) => rejected.push(`${p}:${e.code}`)
    });
    j.addPeer('p');
    j.start();
    expect(sent.map((s) => s.m.t)).toEqual(['ask']);
    await j.receive('p', new Uint8Array([2, 1, 2, 3]));
    const k = await keysFromByte(1);
    const claim = { headsRoot: hex(1), stateDigest: hex(2), entries: 3 };
    const nonce = (sent[0].m as { nonce: Uint8Array }).nonce;
    const sig = await signVote(k.seed, id, nonce, claim);
    const msg = { t: 'claim', nonce, ...claim, feeds: 1, size: 10, voter: toHex(k.publicKey), sig, checkpoint: null };
    await j.receive('p', encodeJoinMessage(msg as JoinMsg));
    expect(rejected).toEqual(['p:join-malformed', 'p:join-bad-vote']);
    expect(j.status()).toMatchObject({ state: 'waiting', loaded: false, refused: 1, agreeing: 0 });
    // A claimed size no body can have is refused (a download of it could never complete).
    j.addPeer('q');
    t = 1000; // past JOIN_GATHER_MS: the new peer is asked
    j.tick();
    const ask = sent.find((x) => x.to === 'q')!.m as { nonce: Uint8Array };
    const sig2 = await signVote(k.seed, id, ask.nonce, claim);
    const tiny = { ...msg, nonce: ask.nonce, sig: sig2, size: 2 };
    await j.receive('q', encodeJoinMessage(tiny as JoinMsg));
    expect(rejected).toEqual(['p:join-malformed', 'p:join-bad-vote', 'q:join-protocol']);
    expect(j.status()).toMatchObject({ state: 'waiting', loaded: false, refused: 2 });
  });
});

describe('install', () => {
  it('an unverified install survives a restart; markVerified clears the mark durably', async () => {
    const writer = await openLedger(memoryLocation(), 5);
    for (let i = 0; i < 3; i++) await writer.ledger.put(`k${i}`, i);
    const snap = (await ledgerJoinSource(writer.ledger).snapshot())!;
    const ctx = { networkId: writer.ledger.networkId, genesis: defaultGenesis() };
    const verified = await verifyJoinSnapshot(snap.body, snap.claim, ctx);
    const loc = memoryLocation();
    const a = await openLedger(loc, 99);
    const verdict = {
      verified: false,
      by: 'few-peers',
      asked: 1,
      agreeing: 1,
      claim: snap.claim,
      checkpoint: null
    } as const;
    await installJoinSnapshot(a.ledger, verified, verdict);
    expect(a.ledger.stats().unverified).toBe(true);
    expect(a.ledger.records()).toEqual(writer.ledger.records());
    await a.ledger.close();
    const b = await openLedger(loc, 99);
    expect(b.ledger.stats().unverified).toBe(true);
    await b.ledger.markVerified();
    expect(b.ledger.stats().unverified).toBe(false);
    await b.ledger.close();
    const c = await openLedger(loc, 99);
    expect(c.ledger.stats().unverified).toBe(false);
    expect(c.ledger.records()).toEqual(writer.ledger.records());
    // A second install into a ledger that holds data is refused.
    await expect(installJoinSnapshot(c.ledger, verified, { ...verdict, verified: true })).rejects.toMatchObject({
      name: 'LightSnapshotRefusedError'
    });
  });
});

describe('ledger join source', () => {
  it('rebuilds at most once per rebuildMs, one build at a time; refuses to serve without head entries', async () => {
    const tl = await openLedger(memoryLocation(), 5);
    await tl.ledger.put('a', 1);
    let t = 0;
    const source = ledgerJoinSource(tl.ledger, { now: () => t, rebuildMs: 1000 });
    const [x, y] = await Promise.all([source.snapshot(), source.snapshot()]);
    expect(x).toBe(y);
    await tl.ledger.put('b', 2);
    t = 500;
    expect((await source.snapshot())!.claim).toEqual(x!.claim);
    t = 1500;
    const z = (await source.snapshot())!;
    expect(z.claim.entries).toBe(2);
    expect(z.claim.headsRoot).not.toBe(x!.claim.headsRoot);

    // A light replica bootstrapped from a snapshot holds no head entries: nothing to serve.
    const verified = await verifyJoinSnapshot(z.body, z.claim, {
      networkId: tl.ledger.networkId,
      genesis: defaultGenesis()
    });
    const light = await openLedger(memoryLocation(), 98);
    const verdict = { verified: true, by: 'quorum', asked: 3, agreeing: 3, claim: z.claim, checkpoint: null } as const;
    await installJoinSnapshot(light.ledger, verified, verdict);
    expect(await ledgerJoinSource(light.ledger).snapshot()).toBeUndefined();
  });
});
