import { describe, expect, it } from 'vitest';
import {
  decodeGenesis,
  defaultGenesis,
  encodeGenesis,
  networkId,
  networkTag,
  validateGenesis
} from '../../src/lib/core/genesis.js';
import { concatBytes, fromHex, toHex } from '../../src/lib/core/bytes.js';
import { sha256 } from '../../src/lib/core/hash.js';
import type { Genesis } from '../../src/lib/core/types.js';
import { leb128 } from '../helpers/leb128.js';

const OP_A = 'aa'.repeat(32);
const OP_B = '01'.repeat(32);
const withOps: Genesis = { ...defaultGenesis(), name: 'ops-net', operators: [OP_A, OP_B] };

function expectInvalid(fn: () => unknown, msg?: RegExp): void {
  try {
    fn();
  } catch (e) {
    expect((e as Error).name).toBe('InvalidGenesisError');
    expect((e as { code: string }).code).toBe('invalid-genesis');
    if (msg) expect((e as Error).message).toMatch(msg);
    return;
  }
  throw new Error('expected InvalidGenesisError');
}

describe('genesis encoding', () => {
  it('default genesis is the bundled network', () => {
    expect(defaultGenesis()).toEqual({
      v: 1,
      name: 'tabula-dev',
      createdAt: Date.UTC(2025, 0, 1),
      maxEntryBytes: 65536,
      operators: []
    });
  });

  it('encodes byte by byte as PROTOCOL.md §2 says', () => {
    const g = withOps;
    const name = new TextEncoder().encode(g.name);
    const expected = concatBytes(
      new Uint8Array([1]),
      leb128(name.length),
      name,
      leb128(g.createdAt),
      leb128(g.maxEntryBytes),
      leb128(2),
      fromHex(OP_B), // sorted: 0101.. before aaaa..
      fromHex(OP_A)
    );
    expect(toHex(encodeGenesis(g))).toBe(toHex(expected));
    expect(toHex(networkId(g))).toBe(toHex(sha256(expected)));
  });

  it('pins the default network id (changing it splits the network)', () => {
    expect(toHex(encodeGenesis(defaultGenesis()))).toBe('010a746162756c612d64657680f8a5f9c13280800400');
    expect(toHex(networkId(defaultGenesis()))).toBe('2c542ef7299701f03fc293708298f149d39f2d8a725a575ffb2e438c53e24da5');
    expect(toHex(networkTag(networkId(defaultGenesis())))).toBe('2c542ef7299701f0');
  });

  it('is independent of operator order and round-trips (operators sorted)', () => {
    const reversed = { ...withOps, operators: [...withOps.operators].reverse() };
    expect(toHex(encodeGenesis(reversed))).toBe(toHex(encodeGenesis(withOps)));
    expect(decodeGenesis(encodeGenesis(withOps))).toEqual({ ...withOps, operators: [OP_B, OP_A] });
    expect(decodeGenesis(encodeGenesis(defaultGenesis()))).toEqual(defaultGenesis());
  });

  it('every field changes the network id', () => {
    const base = toHex(networkId(withOps));
    const variants: Genesis[] = [
      { ...withOps, name: 'ops-neu' },
      { ...withOps, createdAt: withOps.createdAt + 1 },
      { ...withOps, maxEntryBytes: withOps.maxEntryBytes + 1 },
      { ...withOps, operators: [OP_A] },
      { ...withOps, operators: [OP_A, '02'.repeat(32)] }
    ];
    const ids = new Set(variants.map((g) => toHex(networkId(g))));
    expect(ids.size).toBe(variants.length);
    expect(ids.has(base)).toBe(false);
  });
});

describe('genesis validation', () => {
  const g = defaultGenesis();
  it.each([
    ['empty name', { ...g, name: '' }, /name/],
    ['65-byte name', { ...g, name: 'x'.repeat(65) }, /name/],
    ['multi-byte name over 64 bytes', { ...g, name: 'é'.repeat(33) }, /name/],
    ['control character in name', { ...g, name: 'a\nb' }, /control/],
    ['lone surrogate in name', { ...g, name: 'a\ud800' }, /Unicode/],
    ['version 2', { ...g, v: 2 as unknown as 1 }, /version/],
    ['negative createdAt', { ...g, createdAt: -1 }, /createdAt/],
    ['fractional createdAt', { ...g, createdAt: 1.5 }, /createdAt/],
    ['maxEntryBytes below range', { ...g, maxEntryBytes: 1023 }, /maxEntryBytes/],
    ['maxEntryBytes above range', { ...g, maxEntryBytes: 1024 * 1024 + 1 }, /maxEntryBytes/],
    ['fractional maxEntryBytes', { ...g, maxEntryBytes: 2048.5 }, /maxEntryBytes/],
    ['uppercase operator', { ...g, operators: ['AA'.repeat(32)] }, /operator/],
    ['short operator', { ...g, operators: ['aa'.repeat(31)] }, /operator/],
    ['duplicate operator', { ...g, operators: [OP_A, OP_A] }, /duplicate/],
    [
      'too many operators',
      { ...g, operators: Array.from({ length: 65 }, (_, i) => i.toString(16).padStart(64, '0')) },
      /operators/
    ]
  ])('rejects %s', (_what, bad, msg) => {
    expectInvalid(() => validateGenesis(bad as Genesis), msg);
    expectInvalid(() => encodeGenesis(bad as Genesis), msg);
  });

  it('accepts the range limits', () => {
    expect(() => validateGenesis({ ...g, maxEntryBytes: 1024, name: 'x'.repeat(64) })).not.toThrow();
    expect(() => validateGenesis({ ...g, maxEntryBytes: 1024 * 1024 })).not.toThrow();
  });
});

describe('genesis decoding', () => {
  const good = encodeGenesis(withOps);

  it('refuses oversized input before parsing', () => {
    expectInvalid(() => decodeGenesis(new Uint8Array(5000).fill(0xff)), /larger/);
    expectInvalid(() => decodeGenesis(good, good.length - 1), /larger/);
  });

  it('rejects every truncation and trailing bytes', () => {
    for (let n = 0; n < good.length; n++) expectInvalid(() => decodeGenesis(good.subarray(0, n)));
    expectInvalid(() => decodeGenesis(concatBytes(good, new Uint8Array([0]))), /trailing/);
  });

  it('rejects non-canonical forms: unsorted operators, over-long varint, bad UTF-8, wrong version', () => {
    const name = new TextEncoder().encode('n');
    const body = (ops: string[], created = leb128(5)): Uint8Array =>
      concatBytes(
        new Uint8Array([1, name.length]),
        name,
        created,
        leb128(2048),
        leb128(ops.length),
        ...ops.map(fromHex)
      );
    expect(decodeGenesis(body([OP_B, OP_A])).operators).toEqual([OP_B, OP_A]);
    expectInvalid(() => decodeGenesis(body([OP_A, OP_B])), /canonical/);
    expectInvalid(() => decodeGenesis(body([], new Uint8Array([0x85, 0x00]))), /canonical/);
    expectInvalid(() => decodeGenesis(concatBytes(new Uint8Array([1, 1, 0xff]), leb128(5), leb128(2048), leb128(0))));
    const v2 = body([]);
    v2[0] = 2;
    expectInvalid(() => decodeGenesis(v2), /version/);
  });

  it('rejects any single flipped byte of an encoded genesis, or yields a different network id', () => {
    const id = toHex(networkId(withOps));
    for (let i = 0; i < good.length; i++) {
      const bad = good.slice();
      bad[i] ^= 0x01;
      let decoded: Genesis | undefined;
      try {
        decoded = decodeGenesis(bad);
      } catch (e) {
        expect((e as Error).name).toBe('InvalidGenesisError');
        continue;
      }
      expect(toHex(networkId(decoded))).not.toBe(id);
    }
  });
});
