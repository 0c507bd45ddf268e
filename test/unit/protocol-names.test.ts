// PROTOCOL.md §2.5 must spell out every protocol id and pubsub topic the code builds (issue 7,
// point 8: a third-party node can interoperate only with the exact names). Each name is built
// by the code for a real network id, its `<net16>` part is put back as the placeholder, and the
// result must appear in PROTOCOL.md between backquotes, as must the limits quoted there.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { networkNames, shortNetworkId } from '../../src/lib/core/topics.js';
import { SYNC_PROTOCOL_ID, SYNC_PROTOCOL_VERSION } from '../../src/lib/core/sync/constants.js';
import { encodeSyncMessage } from '../../src/lib/core/sync/codec.js';
import { TIME_PROTOCOL_ID } from '../../src/lib/core/clock/constants.js';
import { JOIN_PROTOCOL_ID } from '../../src/lib/core/join/constants.js';
import { MAX_ECHO_BYTES } from '../../src/lib/worker/echo.js';
import { BEACON_SIGNING_TAG, MAX_BEACON_BYTES } from '../../src/lib/core/telemetry.js';

const protocolMd = readFileSync(new URL('../../PROTOCOL.md', import.meta.url), 'utf8');
const NETWORK_ID = 'ab'.repeat(32);

function names(): string[] {
  const net16 = shortNetworkId(NETWORK_ID);
  const built = [
    ...Object.values(networkNames(NETWORK_ID)),
    SYNC_PROTOCOL_ID(net16),
    TIME_PROTOCOL_ID(net16),
    JOIN_PROTOCOL_ID(net16)
  ];
  return built.map((n) => n.split(net16).join('<net16>'));
}

describe('PROTOCOL.md names every protocol id and pubsub topic', () => {
  it('each name the code builds is spelled out in backquotes', () => {
    const list = names();
    expect(list).toHaveLength(7);
    for (const n of list) expect(protocolMd, n).toContain('`' + n + '`');
  });

  it('the §2.5 table quotes the echo and beacon limits and the beacon tag as the code has them', () => {
    const table = protocolMd.slice(protocolMd.indexOf('### 2.5'), protocolMd.indexOf('## 3. Entry encoding'));
    expect(table).toContain(MAX_ECHO_BYTES.toLocaleString('en-US') + ' bytes');
    expect(table).toContain(MAX_BEACON_BYTES.toLocaleString('en-US') + ' bytes');
    expect(table).toContain('"' + BEACON_SIGNING_TAG.replace('\u0000', '\\0') + '"');
  });
});

describe('PROTOCOL.md §11.3: the hello, byte by byte', () => {
  it('type 1, version as a one-byte varint, network, role, root, feeds, entries, coverage, salt', () => {
    const network = new Uint8Array(32).fill(0xaa);
    const root = new Uint8Array(32).fill(0xbb);
    const salt = new Uint8Array(16).fill(0xcc);
    const bytes = encodeSyncMessage({
      t: 'hello',
      version: SYNC_PROTOCOL_VERSION,
      network,
      role: 'light',
      root,
      feeds: 300,
      entries: 5,
      coverage: [],
      salt
    });
    const expected = [1, SYNC_PROTOCOL_VERSION, ...network, 1, ...root, 0xac, 0x02, 5, 0, ...salt];
    expect([...bytes]).toEqual(expected);
    expect(protocolMd).toContain(
      '| 1    | hello   | `version` (varint, ' + SYNC_PROTOCOL_VERSION + '), `network` (32),'
    );
  });
});
