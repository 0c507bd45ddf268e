import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { decodeSyncMessage, encodeSyncMessage } from '../../src/lib/core/sync/codec.js';
import type { SyncMsg } from '../../src/lib/core/sync/messages.js';
import {
  SYNC_CHILD_FP_BYTES,
  SYNC_HEAD_FP_BYTES,
  SYNC_MAX_MESSAGE_BYTES,
  SYNC_PROTOCOL_VERSION
} from '../../src/lib/core/sync/constants.js';
import { mulberry32, randomBytes } from '../helpers/fake-feed.js';
import { toHex } from '../../src/lib/core/bytes.js';

const rand = mulberry32(99);
const b = (n: number) => randomBytes(n, rand);
const author = (prefix = '') => (prefix + toHex(b(32))).slice(0, 64);
/** A head fingerprint (items, answer, final) and a child fingerprint (children). */
const fp = () => b(SYNC_HEAD_FP_BYTES);
const cfp = () => b(SYNC_CHILD_FP_BYTES);

const samples: SyncMsg[] = [
  {
    t: 'hello',
    version: SYNC_PROTOCOL_VERSION,
    network: b(32),
    role: 'full',
    root: b(32),
    feeds: 12,
    entries: 3456,
    coverage: [],
    salt: b(16)
  },
  {
    t: 'hello',
    version: SYNC_PROTOCOL_VERSION,
    network: b(32),
    role: 'light',
    root: b(32),
    feeds: 0,
    entries: 0,
    coverage: [
      { author: author(), from: 2 ** 40 },
      { author: author(), from: 7 }
    ],
    salt: b(16)
  },
  { t: 'begin', xid: 5, salt: b(16), root: b(32), nodes: [] },
  {
    t: 'begin',
    xid: 6,
    salt: b(16),
    root: b(32),
    nodes: [{ k: 'items', path: '', items: [{ tag: 0x1234, seq: 1, fp: fp() }] }]
  },
  { t: 'reply', xid: 5, equal: true, nodes: [], end: true },
  {
    t: 'reply',
    xid: 2 ** 31,
    equal: false,
    end: false,
    nodes: [{ k: 'children', path: '', fps: Array.from({ length: 16 }, (_, i) => (i % 3 ? cfp() : undefined)) }]
  },
  {
    t: 'compare',
    xid: 5,
    step: 4,
    end: false,
    nodes: [
      { k: 'children', path: 'abc', fps: Array.from({ length: 16 }, () => cfp()) },
      {
        k: 'items',
        path: 'ab',
        items: [
          { tag: 0x0001, seq: 3, fp: Uint8Array.of(1, 2, 3, 4) },
          { tag: 0x0001, seq: 3, fp: Uint8Array.of(1, 2, 3, 5) },
          { tag: 0xffff, seq: 2 ** 40, fp: fp() }
        ]
      },
      {
        k: 'answer',
        path: 'abc',
        unmatched: [true, false, false, true, false, false, false, false, true],
        items: [
          { author: 'abc1' + '0'.repeat(60), seq: 3, fp: fp() },
          { author: 'abc2' + '0'.repeat(60), seq: 0, fp: new Uint8Array(SYNC_HEAD_FP_BYTES) }
        ]
      },
      { k: 'answer', path: '0', unmatched: [], items: [] },
      {
        k: 'final',
        path: '0123456789abcdef',
        items: [{ author: '0123456789abcdef' + '1'.repeat(48), seq: 9, fp: fp() }]
      },
      { k: 'items', path: '', items: [] }
    ]
  },
  { t: 'get', rid: 77, author: author(), from: 1, to: 2 ** 53 - 1, maxBytes: 65536 },
  { t: 'entries', rid: 77, entries: [b(200), b(0), b(1000)] },
  { t: 'error', rid: 0, xid: 3, code: 'sync-wrong-network', message: 'peer is on another network ü' }
];

const isTyped = (e: unknown) =>
  e instanceof Error && (e.name === 'SyncMalformedError' || e.name === 'SyncOversizedError');

describe('sync codec', () => {
  it('round-trips every message type', () => {
    for (const m of samples) {
      const bytes = encodeSyncMessage(m);
      expect(decodeSyncMessage(bytes)).toEqual(m);
      expect(encodeSyncMessage(decodeSyncMessage(bytes))).toEqual(bytes);
    }
  });

  it('refuses every truncation and every extension with SyncMalformedError', () => {
    for (const m of samples) {
      const bytes = encodeSyncMessage(m);
      for (let n = 0; n < bytes.length; n++) {
        expect(() => decodeSyncMessage(bytes.subarray(0, n)), `${m.t} cut at ${n}`).toThrow(
          expect.objectContaining({ name: 'SyncMalformedError' })
        );
      }
      const longer = new Uint8Array(bytes.length + 1);
      longer.set(bytes);
      expect(() => decodeSyncMessage(longer)).toThrow(expect.objectContaining({ name: 'SyncMalformedError' }));
    }
  });

  it('refuses oversized input before parsing, with SyncOversizedError', () => {
    const big = new Uint8Array(SYNC_MAX_MESSAGE_BYTES + 1);
    expect(() => decodeSyncMessage(big)).toThrow(expect.objectContaining({ name: 'SyncOversizedError' }));
    expect(() => decodeSyncMessage(encodeSyncMessage(samples[0]), 10)).toThrow(
      expect.objectContaining({ name: 'SyncOversizedError' })
    );
    const huge: SyncMsg = { t: 'entries', rid: 1, entries: [new Uint8Array(SYNC_MAX_MESSAGE_BYTES)] };
    expect(() => encodeSyncMessage(huge)).toThrow(expect.objectContaining({ name: 'SyncOversizedError' }));
  });

  it('refuses counts over their bounds, unknown tags, over-long varints and unsorted items', () => {
    // entries count 5000 (> 4096) with no bytes behind it
    expect(() => decodeSyncMessage(Uint8Array.of(6, 1, 0x88, 0x27))).toThrow(
      expect.objectContaining({ name: 'SyncMalformedError' })
    );
    expect(() => decodeSyncMessage(Uint8Array.of(99))).toThrow(expect.objectContaining({ name: 'SyncMalformedError' }));
    // compare with xid written as an over-long varint (0x80 0x00)
    expect(() => decodeSyncMessage(Uint8Array.of(4, 0x80, 0x00, 2, 0, 0))).toThrow(
      expect.objectContaining({ name: 'SyncMalformedError' })
    );
    const items = encodeSyncMessage({
      t: 'compare',
      xid: 1,
      step: 2,
      end: true,
      nodes: [
        {
          k: 'final',
          path: '',
          items: [
            { author: 'ff'.repeat(32), seq: 1, fp: fp() },
            { author: '00'.repeat(32), seq: 1, fp: fp() }
          ]
        }
      ]
    });
    expect(() => decodeSyncMessage(items)).toThrow(expect.objectContaining({ name: 'SyncMalformedError' }));
    const outside = encodeSyncMessage({
      t: 'compare',
      xid: 1,
      step: 2,
      end: true,
      nodes: [{ k: 'final', path: 'ab', items: [{ author: 'cd'.repeat(32), seq: 1, fp: fp() }] }]
    });
    expect(() => decodeSyncMessage(outside)).toThrow(expect.objectContaining({ name: 'SyncMalformedError' }));
  });

  it('refuses to encode out-of-shape fields', () => {
    expect(() => encodeSyncMessage({ ...(samples[2] as Extract<SyncMsg, { t: 'begin' }>), salt: b(3) })).toThrow(
      expect.objectContaining({ name: 'SyncMalformedError' })
    );
    expect(() => encodeSyncMessage({ t: 'get', rid: -1, author: author(), from: 1, to: 1, maxBytes: 1 })).toThrow(
      expect.objectContaining({ name: 'SyncMalformedError' })
    );
  });

  it('random bytes and random mutations only ever fail with typed errors', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), (bytes) => {
        try {
          const m = decodeSyncMessage(bytes);
          expect(encodeSyncMessage(m)).toEqual(bytes);
        } catch (e) {
          expect(isTyped(e)).toBe(true);
        }
      }),
      { numRuns: 2000 }
    );
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: samples.length - 1 }),
        fc.nat(),
        fc.integer({ min: 0, max: 255 }),
        (i, pos, v) => {
          const bytes = encodeSyncMessage(samples[i]).slice();
          bytes[pos % bytes.length] = v;
          try {
            decodeSyncMessage(bytes);
          } catch (e) {
            expect(isTyped(e)).toBe(true);
          }
        }
      ),
      { numRuns: 2000 }
    );
  });
});
