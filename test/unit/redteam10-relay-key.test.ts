// Red team 10 (loadOrCreateKey, relay/key.ts; README "Running a network" → "Keys"): the relay's
// identity is `<data-dir>/relay.key`. A damaged key file (a bad restore, a truncated copy, a file
// that is not a libp2p key) stopped the relay with the protobuf decoder's own words: "Error:
// invalid wire type 7 at offset 7" and a stack through protons-runtime, naming neither the file
// nor what to do. Found by following the README by hand.
//
// Input: a data directory whose relay.key holds 10 bytes that are not a libp2p private key; also
//   an empty relay.key.
// Expected: startRelay rejects with a typed error (RelayKeyError) whose message names the file.
// Actual (before the fix): the decoder's RangeError (these bytes) or plain Error ("invalid wire
//   type 7 at offset 7", 10 random bytes by hand), no file named.
// Severity: low (operator diagnosis; the relay does refuse to start, and never replaces the key).
// Fixed: loadOrCreateKey wraps the decode in RelayKeyError naming the path and saying that a new
//   key means a new PeerId (so the operator restores the file rather than deleting it blindly).
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DEFAULTS } from '../../relay/config.js';
import { startRelay } from '../../relay/server.js';
import { tempDir } from '../helpers/relay-fixture.js';

async function startError(bytes: Uint8Array): Promise<Error> {
  const dataDir = await tempDir('tabula-red10-key-');
  await writeFile(join(dataDir, 'relay.key'), bytes);
  const started = startRelay({ ...DEFAULTS, port: 0, relayPort: 0, dataDir, staticDir: dataDir });
  return started.then(
    async (r) => {
      await r.stop();
      return new Error('started');
    },
    (e: Error) => e
  );
}

describe('redteam10: a damaged relay.key', () => {
  it('stops the relay with an error naming the key file', async () => {
    for (const bytes of [Uint8Array.of(1, 2, 3, 4, 5, 6, 7, 0xff, 0xfe, 0xfd), new Uint8Array(0)]) {
      const e = await startError(bytes);
      expect(e.name).toBe('RelayKeyError');
      expect(e.message).toMatch(/relay\.key/);
    }
  }, 30_000);
});
