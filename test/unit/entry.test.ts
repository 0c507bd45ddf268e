import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  MIN_ENTRY_BYTES,
  createEntry,
  decodeEntry,
  encodeEntry,
  hashEntry,
  openEntry,
  signingBytes,
  verifyEntry
} from '../../src/lib/core/entry.js';
import { defaultGenesis, networkId } from '../../src/lib/core/genesis.js';
import { forceEd25519Backend, sign } from '../../src/lib/core/ed25519.js';
import { concatBytes, fromHex, toHex } from '../../src/lib/core/bytes.js';
import * as lib0Encoding from 'lib0/encoding';
import { mulberry32 } from '../helpers/fake-feed.js';
import { sha256 } from '../../src/lib/core/hash.js';
import { ENTRY_SIGNING_TAG, MAX_ENTRY_CLOCK, MAX_ENTRY_SEQ, MAX_ENTRY_TIME } from '../../src/lib/core/constants.js';
import type { Entry, Genesis, HashedEntry, IdentityKeys } from '../../src/lib/core/types.js';
import { keysFromByte, makeChain, yUpdate, yUpdateAt } from '../helpers/ledger-fixtures.js';
import { clientIdOf } from '../../src/lib/core/state/client-id.js';
import { leb128 } from '../helpers/leb128.js';

const genesis = defaultGenesis();
const netId = networkId(genesis);
const otherGenesis: Genesis = { ...genesis, name: 'another-net' };
const otherId = networkId(otherGenesis);

let keys: IdentityKeys;
let chain: HashedEntry[]; // seq 1 and seq 2 of one author

beforeAll(async () => {
  keys = await keysFromByte(3);
  chain = await makeChain(keys, 2, netId);
});
afterEach(() => forceEd25519Backend(undefined));

/** Runs fn and returns the thrown error's name (fails if nothing was thrown). */
async function rejection(fn: () => unknown): Promise<string> {
  try {
    await fn();
  } catch (e) {
    expect((e as { code?: unknown }).code).toEqual(expect.any(String));
    return (e as Error).name;
  }
  throw new Error('expected a rejection');
}

async function signed(fields: Partial<Entry>, id = netId): Promise<Entry> {
  const base = { ...chain[1].entry, ...fields };
  const { sig: _sig, ...unsigned } = base;
  return { ...unsigned, sig: await sign(keys.seed, signingBytes(unsigned, id)) };
}

describe('entry encoding', () => {
  it('lays out bytes as PROTOCOL.md §3 says', () => {
    const e = chain[1].entry;
    const expected = concatBytes(
      new Uint8Array([2]),
      netId.subarray(0, 8),
      e.author,
      leb128(e.seq),
      e.prev,
      leb128(e.lamport),
      leb128(e.time),
      leb128(e.clock),
      leb128(e.deps.length),
      leb128(e.payload.length),
      e.payload,
      e.sig
    );
    expect(expected[0]).toBe(2);
    expect(toHex(encodeEntry(e))).toBe(toHex(expected));
    expect(toHex(hashEntry(e))).toBe(toHex(sha256(expected)));
    expect(toHex(chain[1].hash)).toBe(toHex(sha256(expected)));
    expect(toHex(e.prev)).toBe(toHex(chain[0].hash));
  });

  it('signing bytes are tag, full network id, then the encoding minus the signature', () => {
    const e = chain[1].entry;
    const enc = encodeEntry(e);
    const expected = concatBytes(new TextEncoder().encode(ENTRY_SIGNING_TAG), netId, enc.subarray(0, enc.length - 64));
    expect(toHex(signingBytes(e, netId))).toBe(toHex(expected));
    expect(ENTRY_SIGNING_TAG).toBe('tabula/entry/v1\0');
  });

  it('writes the bytes of a lib0 encoder, varints of every width included (seeded)', () => {
    // The codec writes into one preallocated buffer; lib0's growing encoder is the reference.
    const seed = 20261203;
    const rand = mulberry32(seed);
    const widths = [0, 1, 127, 128, 16_383, 16_384, 2 ** 31 - 1, 2 ** 31, 2 ** 32, 2 ** 35 + 7, 2 ** 52 - 1];
    const pick = (max: number) => {
      const w = widths.filter((x) => x <= max);
      return rand() < 0.5 ? w[Math.floor(rand() * w.length)] : Math.floor(rand() * Math.min(max, 2 ** 40));
    };
    const byte = () => Math.floor(rand() * 256);
    for (let i = 0; i < 120; i++) {
      const seq = Math.max(1, pick(MAX_ENTRY_SEQ));
      const deps = Array.from({ length: Math.floor(rand() * 4) }, () => toHex(Uint8Array.from({ length: 32 }, byte)))
        .sort()
        .filter((a, j, all) => a !== all[j - 1] && a !== toHex(keys.publicKey))
        .map((author) => ({ author, seq: Math.max(1, pick(MAX_ENTRY_SEQ)) }));
      const e: Entry = {
        network: netId.subarray(0, 8),
        author: keys.publicKey,
        seq,
        prev: seq === 1 ? new Uint8Array(32) : Uint8Array.from({ length: 32 }, () => 1 + (byte() % 255)),
        lamport: seq + pick(MAX_ENTRY_SEQ - seq),
        time: pick(MAX_ENTRY_TIME),
        clock: pick(MAX_ENTRY_CLOCK),
        deps,
        payload: Uint8Array.from({ length: [0, 1, 127, 128, 300, 17_000][i % 6] }, byte),
        sig: Uint8Array.from({ length: 64 }, byte)
      };
      const enc = lib0Encoding.createEncoder();
      lib0Encoding.writeUint8(enc, 2);
      for (const b of [e.network, e.author]) lib0Encoding.writeUint8Array(enc, b);
      lib0Encoding.writeVarUint(enc, e.seq);
      lib0Encoding.writeUint8Array(enc, e.prev);
      for (const n of [e.lamport, e.time, e.clock, e.deps.length]) lib0Encoding.writeVarUint(enc, n);
      for (const d of e.deps) {
        lib0Encoding.writeUint8Array(enc, fromHex(d.author));
        lib0Encoding.writeVarUint(enc, d.seq);
      }
      lib0Encoding.writeVarUint8Array(enc, e.payload);
      const unsigned = lib0Encoding.toUint8Array(enc);
      const want = concatBytes(unsigned, e.sig);
      expect(toHex(encodeEntry(e)), `seed ${seed}, entry ${i}`).toBe(toHex(want));
      const tag = new TextEncoder().encode(ENTRY_SIGNING_TAG);
      expect(toHex(signingBytes(e, netId)), `seed ${seed}, entry ${i}`).toBe(toHex(concatBytes(tag, netId, unsigned)));
      expect(decodeEntry(want, 1 << 20).entry, `seed ${seed}, entry ${i}`).toEqual({
        ...e,
        network: e.network.slice()
      });
    }
  });

  it('round-trips, and decoded fields do not alias the input', () => {
    const bytes = encodeEntry(chain[1].entry);
    const d = decodeEntry(bytes, genesis.maxEntryBytes);
    expect(d.entry).toEqual(chain[1].entry);
    expect(toHex(d.hash)).toBe(toHex(chain[1].hash));
    bytes.fill(0);
    expect(d.entry).toEqual(chain[1].entry);
  });

  it('the same fields always give the same bytes (Ed25519 is deterministic)', async () => {
    const again = await makeChain(keys, 2, netId);
    expect(toHex(again[1].hash)).toBe(toHex(chain[1].hash));
  });

  it('createEntry refuses malformed fields', async () => {
    const ok = { keys, seq: 2, prev: chain[0].hash, lamport: 2, time: 1, payload: yUpdate('a', 1) };
    for (const bad of [
      { seq: 0 },
      { seq: 2.5 },
      { seq: Number.MAX_SAFE_INTEGER + 1 },
      { lamport: 1 }, // < seq
      { time: -1 },
      { time: 0.5 },
      { prev: new Uint8Array(31) },
      { prev: new Uint8Array(32) }, // zero prev is only for seq 1
      { seq: 1, lamport: 1 }, // seq 1 needs zero prev
      { keys: { ...keys, publicKey: keys.publicKey.subarray(1) } }
    ]) {
      expect(await rejection(() => createEntry({ ...ok, ...bad }, netId))).toBe('MalformedEntryError');
    }
  });
});

describe('test vector (PROTOCOL.md §8)', () => {
  it('seed 03..03, seq 1, default network, records k1 = "v1"', async () => {
    const k = await keysFromByte(3);
    expect(toHex(k.publicKey)).toBe('ed4928c628d1c2c6eae90338905995612959273a5c63f93636c14614ac8737d1');
    const client = clientIdOf(toHex(k.publicKey));
    expect(client).toBe(6682935805229686);
    const payload = yUpdateAt('k1', 'v1', client, 0);
    expect(toHex(payload)).toBe('0101f6f4e8f583c3ef0b002801077265636f726473026b31017702763100');
    const time = Date.UTC(2025, 0, 1);
    const h = await createEntry(
      { keys: k, seq: 1, prev: new Uint8Array(32), lamport: 1, time, clock: 1, payload },
      netId
    );
    expect(toHex(encodeEntry(h.entry))).toBe(
      '022c542ef7299701f0ed4928c628d1c2c6eae90338905995612959273a5c63f93636c14614ac8737d1' +
        '01' +
        '0000000000000000000000000000000000000000000000000000000000000000' +
        '01' +
        '80f8a5f9c132' +
        '01' +
        '00' +
        '1e' +
        '0101f6f4e8f583c3ef0b002801077265636f726473026b31017702763100' +
        '333a400866256b4c54dd38bfa1737a4e52fd7c9d89a7a8c5fca077f7d1bd1991' +
        '8d4ea3d68777eaa8e1d0e62583f8514ae9400f346a746fc4b1d2c111c8a2be02'
    );
    expect(toHex(h.hash)).toBe('d7c9232214723a5b660cdacb246566cd203633f1adb3c6c7046293001e9759bc');
    await expect(verifyEntry(h.entry, netId, genesis)).resolves.toBeUndefined();
  });
});

describe('entry decoding rejects', () => {
  const enc = (): Uint8Array => encodeEntry(chain[1].entry);

  it('oversized input before parsing (OversizedEntryError, not malformed)', async () => {
    expect(await rejection(() => decodeEntry(new Uint8Array(70_000).fill(0xff), 65536))).toBe('OversizedEntryError');
    expect(await rejection(() => decodeEntry(enc(), enc().length - 1))).toBe('OversizedEntryError');
    expect(decodeEntry(enc(), enc().length).entry.seq).toBe(2);
  });

  it('every truncation and trailing bytes', async () => {
    const bytes = enc();
    for (let n = 0; n < bytes.length; n++)
      expect(await rejection(() => decodeEntry(bytes.subarray(0, n), 65536))).toBe('MalformedEntryError');
    expect(await rejection(() => decodeEntry(concatBytes(bytes, new Uint8Array([0])), 65536))).toBe(
      'MalformedEntryError'
    );
    expect(MIN_ENTRY_BYTES).toBe(143);
  });

  it('unknown format byte, over-long varints, integers beyond 2^53, overrunning payload length', async () => {
    const e = chain[1].entry;
    const build = (seq: Uint8Array, payloadLen = leb128(e.payload.length), format = 2): Uint8Array =>
      concatBytes(
        new Uint8Array([format]),
        e.network,
        e.author,
        seq,
        e.prev,
        leb128(e.lamport),
        leb128(e.time),
        leb128(e.clock),
        leb128(0),
        payloadLen,
        e.payload,
        e.sig
      );
    expect(decodeEntry(build(leb128(2)), 65536).entry.seq).toBe(2);
    expect(await rejection(() => decodeEntry(build(leb128(2), undefined, 1), 65536))).toBe('MalformedEntryError');
    expect(await rejection(() => decodeEntry(build(leb128(2), undefined, 3), 65536))).toBe('MalformedEntryError');
    expect(await rejection(() => decodeEntry(build(new Uint8Array([0x82, 0x00])), 65536))).toBe('MalformedEntryError');
    const huge = new Uint8Array([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f]);
    expect(await rejection(() => decodeEntry(build(huge), 65536))).toBe('MalformedEntryError');
    expect(await rejection(() => decodeEntry(build(leb128(2), leb128(60_000)), 65536))).toBe('MalformedEntryError');
  });
});

describe('verifyEntry rejects, one typed error per cause', () => {
  it('accepts a good entry with both backends', async () => {
    for (const b of ['webcrypto', 'noble'] as const) {
      forceEd25519Backend(b);
      await expect(verifyEntry(chain[1].entry, netId, genesis)).resolves.toBeUndefined();
      await expect(openEntry(encodeEntry(chain[0].entry), netId, genesis)).resolves.toEqual(chain[0]);
    }
  });

  it('WrongNetworkError: an entry of another network, detected before the signature', async () => {
    const foreign = await signed({ network: otherId.slice(0, 8) }, otherId);
    const err = await rejection(() => verifyEntry(foreign, netId, genesis));
    expect(err).toBe('WrongNetworkError');
    // Same network tag but signed for another id (tag collision): the signature still fails.
    const collided = await signed({}, otherId);
    expect(await rejection(() => verifyEntry(collided, netId, genesis))).toBe('BadSignatureError');
  });

  it('BadSignatureError: changed field, foreign key, zeroed signature', async () => {
    const changed = { ...chain[1].entry, time: chain[1].entry.time + 1 };
    expect(await rejection(() => verifyEntry(changed, netId, genesis))).toBe('BadSignatureError');
    const other = await keysFromByte(4);
    const stolen = { ...chain[1].entry, author: other.publicKey };
    expect(await rejection(() => verifyEntry(stolen, netId, genesis))).toBe('BadSignatureError');
    const zero = { ...chain[1].entry, sig: new Uint8Array(64) };
    expect(await rejection(() => verifyEntry(zero, netId, genesis))).toBe('BadSignatureError');
  });

  it('OversizedEntryError: larger than genesis.maxEntryBytes', async () => {
    const big = await signed({ payload: yUpdateAt('big', 'x'.repeat(1100), clientIdOf(toHex(keys.publicKey)), 1) });
    const small: Genesis = { ...genesis, maxEntryBytes: 1024 };
    expect(await rejection(() => verifyEntry(big, netId, small))).toBe('OversizedEntryError');
    expect(await rejection(() => openEntry(encodeEntry(big), netId, small))).toBe('OversizedEntryError');
    await expect(verifyEntry(big, netId, genesis)).resolves.toBeUndefined();
  });

  it('MalformedEntryError: wrong field lengths or non-integer numbers in an entry object', async () => {
    const e = chain[1].entry;
    for (const bad of [
      { sig: e.sig.subarray(1) },
      { author: new Uint8Array(33) },
      { network: new Uint8Array(32) },
      { seq: 1.5 },
      { lamport: NaN },
      { payload: 'x' as unknown as Uint8Array }
    ]) {
      expect(await rejection(() => verifyEntry({ ...e, ...bad }, netId, genesis))).toBe('MalformedEntryError');
    }
  });

  it('MalformedPayloadError: validly signed bytes that are not a Yjs update', async () => {
    for (const payload of [new Uint8Array(0), new Uint8Array([0xff, 0xff, 0xff]), new Uint8Array([5, 1, 2])]) {
      const bad = await signed({ payload });
      expect(await rejection(() => verifyEntry(bad, netId, genesis))).toBe('MalformedPayloadError');
    }
  });

  it('an injected payload validator replaces the Yjs check', async () => {
    const raw = await signed({ payload: new Uint8Array([0xff]) });
    await expect(verifyEntry(raw, netId, genesis, { validatePayload: () => {} })).resolves.toBeUndefined();
  });

  it('errors carry stable codes', async () => {
    const mod = await import('../../src/lib/core/errors.js');
    expect(
      [
        new mod.WrongNetworkError(),
        new mod.BadSignatureError(),
        new mod.BrokenChainError(),
        new mod.OversizedEntryError(),
        new mod.MalformedEntryError(),
        new mod.MalformedPayloadError()
      ].map((e) => [e.name, e.code, e instanceof Error])
    ).toEqual([
      ['WrongNetworkError', 'wrong-network', true],
      ['BadSignatureError', 'bad-signature', true],
      ['BrokenChainError', 'broken-chain', true],
      ['OversizedEntryError', 'oversized-entry', true],
      ['MalformedEntryError', 'malformed-entry', true],
      ['MalformedPayloadError', 'malformed-payload', true]
    ]);
  });
});

describe('single-byte corruption', () => {
  // Every byte position of both sample entries, several masks, both Ed25519 backends.
  for (const backend of ['webcrypto', 'noble'] as const) {
    it(`flipping any byte makes decode or verification fail (${backend})`, async () => {
      forceEd25519Backend(backend);
      const causes = new Map<string, number>();
      for (const h of chain) {
        const good = encodeEntry(h.entry);
        for (let i = 0; i < good.length; i++) {
          for (const mask of [0x01, 0x80, 0xff]) {
            const bad = good.slice();
            bad[i] ^= mask;
            const name = await rejection(() => openEntry(bad, netId, genesis));
            causes.set(name, (causes.get(name) ?? 0) + 1);
          }
        }
      }
      expect([...causes.keys()].sort()).toEqual(['BadSignatureError', 'MalformedEntryError', 'WrongNetworkError']);
    });
  }
});
