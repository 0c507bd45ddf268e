import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { privateKeyFromRaw } from '@libp2p/crypto/keys';
import { peerIdFromPrivateKey } from '@libp2p/peer-id';
import { generateKeys } from '../../src/lib/core/ed25519.js';
import { concatBytes, toHex } from '../../src/lib/core/bytes.js';
import {
  decodeBeacon,
  encodeBeacon,
  MAX_BEACON_BYTES,
  verifyBeacon,
  type BeaconBody
} from '../../src/lib/core/telemetry.js';
import { BeaconTable } from '../../src/lib/core/telemetry-table.js';
import { peerIdOfAuthor } from '../../src/lib/core/peer-id.js';
import { TABULA_VERSION } from '../../src/lib/version.js';

const NET = 'ab'.repeat(32);
const OTHER_NET = 'cd'.repeat(32);
const enc = new TextEncoder();
const dec = new TextDecoder();

function body(author: string, over: Partial<BeaconBody> = {}): BeaconBody {
  return {
    author,
    role: 'full',
    version: '0.1.0',
    peers: 2,
    entries: 17,
    headsRoot: 'ef'.repeat(32),
    lagEntries: null,
    lagMs: null,
    storageUsed: 12345,
    storageQuota: 1e9,
    time: 1_700_000_000_000,
    ...over
  };
}

async function signed(over: Partial<BeaconBody> = {}) {
  const keys = await generateKeys();
  const b = body(toHex(keys.publicKey), over);
  return { keys, body: b, bytes: await encodeBeacon(b, keys.seed, NET) };
}

async function rejection(bytes: Uint8Array, net = NET, now = 1_700_000_000_000): Promise<string> {
  try {
    await verifyBeacon(bytes, net, now);
    return 'accepted';
  } catch (err) {
    return (err as Error).name;
  }
}

describe('telemetry beacons', () => {
  it('round-trips a signed beacon and stays well under the size cap', async () => {
    const { body: b, bytes } = await signed();
    expect(bytes.length).toBeLessThan(MAX_BEACON_BYTES / 2);
    const got = await verifyBeacon(bytes, NET, b.time);
    expect(got).toMatchObject({ ...b, v: 1, network: NET.slice(0, 16) });
  });

  it('rejects another network, a bad signature, a tampered field, a future time, junk and oversize', async () => {
    const { bytes } = await signed();
    expect(await rejection(bytes, OTHER_NET)).toBe('BeaconNetworkError');
    const text = dec.decode(bytes);
    expect(await rejection(enc.encode(text.replace('"entries":17', '"entries":18')))).toBe('BeaconSignatureError');
    const sigAt = text.indexOf('"sig":"') + 7;
    const flipped = text.slice(0, sigAt) + (text[sigAt] === '0' ? '1' : '0') + text.slice(sigAt + 1);
    expect(await rejection(enc.encode(flipped))).toBe('BeaconSignatureError');
    expect(await rejection(bytes, NET, 1_700_000_000_000 - 61_000)).toBe('FutureBeaconError');
    expect(await rejection(enc.encode('{"v":1'))).toBe('MalformedBeaconError');
    expect(await rejection(new Uint8Array([0xff, 0xfe]))).toBe('MalformedBeaconError');
    expect(await rejection(new Uint8Array(MAX_BEACON_BYTES + 1))).toBe('OversizedBeaconError');
  });

  it('accepts exactly one encoding: spacing, key order, number spelling and extra members are malformed', async () => {
    const { bytes } = await signed();
    const text = dec.decode(bytes);
    const obj = JSON.parse(text) as Record<string, unknown>;
    const variants = [
      JSON.stringify(obj, null, 1),
      JSON.stringify({ network: obj.network, ...obj }),
      text.replace('"peers":2', '"peers":2.0'),
      text.replace('"peers":2', '"peers":2e0'),
      text.replace('{"v":1,', '{"v":1,"x":0,'),
      text.replace('"role":"full"', '"role":"archive"'),
      text.replace('"peers":2', '"peers":-2'),
      text.replace('"version":"0.1.0"', `"version":"${'9'.repeat(33)}"`)
    ];
    for (const v of variants) expect(await rejection(enc.encode(v)), v).toBe('MalformedBeaconError');
  });

  it('refuses to sign an out-of-range body', async () => {
    const keys = await generateKeys();
    const author = toHex(keys.publicKey);
    for (const over of [{ peers: 1.5 }, { entries: -1 }, { headsRoot: 'x' }, { storageUsed: NaN }, { time: 0 }]) {
      await expect(encodeBeacon(body(author, over), keys.seed, NET)).rejects.toMatchObject({
        name: 'MalformedBeaconError'
      });
    }
    expect(() => decodeBeacon(enc.encode('[]'))).toThrow(expect.objectContaining({ name: 'MalformedBeaconError' }));
  });

  it('derives the same PeerId from the author key as libp2p', async () => {
    for (let i = 0; i < 8; i++) {
      const keys = await generateKeys();
      const libp2p = peerIdFromPrivateKey(privateKeyFromRaw(concatBytes(keys.seed, keys.publicKey))).toString();
      expect(peerIdOfAuthor(toHex(keys.publicKey))).toBe(libp2p);
    }
  });

  it('the version constant is package.json version', () => {
    const pkg = JSON.parse(readFileSync('package.json', 'utf8')) as { version: string };
    expect(TABULA_VERSION).toBe(pkg.version);
  });
});

describe('BeaconTable', () => {
  it('keeps the latest beacon per node, ignores replays, evicts the least recently heard, expires', async () => {
    let now = 1_000;
    const table = new BeaconTable({ maxNodes: 2, expiryMs: 10_000, now: () => now });
    const a = await signed({ time: 500 });
    const beaconA = await verifyBeacon(a.bytes, NET, now);
    expect(table.add(beaconA)).toBe(true);
    expect(table.add(beaconA)).toBe(false);
    const newer = await verifyBeacon(await encodeBeacon({ ...a.body, time: 600, entries: 20 }, a.keys.seed, NET), NET);
    expect(table.add(newer)).toBe(true);
    expect(table.add(beaconA)).toBe(false);
    expect(table.list()).toHaveLength(1);
    expect(table.list()[0]).toMatchObject({ entries: 20, lastSeen: 1_000, peerId: peerIdOfAuthor(a.body.author) });
    now = 2_000;
    const b = await verifyBeacon((await signed({ time: 700 })).bytes, NET, now);
    table.add(b);
    now = 3_000;
    const c = await verifyBeacon((await signed({ time: 800 })).bytes, NET, now);
    table.add(c);
    expect(
      table
        .list()
        .map((n) => n.author)
        .sort()
    ).toEqual([b.author, c.author].sort());
    now = 12_500;
    expect(table.list().map((n) => n.author)).toEqual([c.author]);
    now = 13_001;
    expect(table.size).toBe(0);
  });
});
