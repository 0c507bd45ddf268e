// The relay's bans survive a restart (relay/ban-file.ts, <data-dir>/peer-bans.json): a banned
// peer is still banned (and counted in /metrics) after the relay restarts on the same data dir;
// a ban that ended while the relay was down is gone; a garbage file is ignored.
import { readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { DEFAULTS } from '../../relay/config.js';
import { startRelay, type RunningRelay } from '../../relay/server.js';
import { BANS_FILE } from '../../relay/ban-file.js';
import { BAN_BASE_MS } from '../../src/lib/core/peers/constants.js';
import { relayAddr, tempDir } from '../helpers/relay-fixture.js';
import { createRelayClient, dialRelay, type ClientNode } from '../helpers/relay-client.js';
import { generateKeyPairFromSeed } from '@libp2p/crypto/keys';
import { peerIdFromPrivateKey } from '@libp2p/peer-id';

const running: RunningRelay[] = [];
afterEach(async () => {
  for (const r of running.splice(0)) await r.stop();
});

async function relay(dataDir: string): Promise<RunningRelay> {
  const r = await startRelay({ ...DEFAULTS, port: 0, relayPort: 0, dataDir, staticDir: dataDir });
  running.push(r);
  return r;
}

const hostileKey = await generateKeyPairFromSeed('Ed25519', new Uint8Array(32).fill(3));
const HOSTILE = peerIdFromPrivateKey(hostileKey).toString();
const clients: ClientNode[] = [];
afterEach(async () => {
  for (const c of clients.splice(0)) await c.stop();
});

describe('relay bans across restarts', () => {
  it('a ban is saved in the data dir and in force after a restart', async () => {
    const dir = await tempDir();
    const r1 = await relay(dir);
    expect(r1.guards.bans.offence(HOSTILE, 'bad-signature')).toMatchObject({ offences: 1 });
    await r1.stop();
    running.splice(0);
    expect((await stat(join(dir, BANS_FILE))).mode & 0o777).toBe(0o600);
    const saved = JSON.parse(await readFile(join(dir, BANS_FILE), 'utf8')) as { v: number; bans: { peer: string }[] };
    expect(saved).toMatchObject({ v: 1, bans: [{ peer: HOSTILE, reason: 'bad-signature' }] });

    const r2 = await relay(dir);
    expect(r2.guards.bans.isBanned(HOSTILE)).toBe(true);
    expect(r2.guards.bans.active()).toMatchObject([{ peer: HOSTILE, offences: 1 }]);
    const metrics = await (await fetch(`${r2.url}/metrics`)).text();
    expect(metrics).toMatch(/^tabula_relay_banned_peers 1$/m);
    // The banned peer's connections are refused by the gater; another peer connects.
    const hostile = await createRelayClient({ reserve: false, privateKey: hostileKey });
    clients.push(hostile);
    await dialRelay(hostile, relayAddr(r2)).catch(() => undefined);
    await vi.waitFor(() => expect(r2.guards.bans.gate.refused).toBeGreaterThan(0), { timeout: 10_000 });
    await vi.waitFor(() => expect(hostile.getConnections()).toHaveLength(0), { timeout: 10_000 });
    const honest = await createRelayClient({ reserve: false });
    clients.push(honest);
    await dialRelay(honest, relayAddr(r2));
  }, 30_000);

  it('a ban that ended while the relay was down is gone; a garbage file is ignored', async () => {
    const dir = await tempDir();
    const t = Date.now() - BAN_BASE_MS - 5_000;
    const ended = {
      peer: HOSTILE,
      reason: 'bad-signature',
      since: t,
      until: t + BAN_BASE_MS,
      offences: 1,
      lastOffenceAt: t
    };
    await writeFile(join(dir, BANS_FILE), JSON.stringify({ v: 1, bans: [ended] }));
    const r1 = await relay(dir);
    expect(r1.guards.bans.isBanned(HOSTILE)).toBe(false);
    expect(r1.guards.bans.active()).toEqual([]);
    await r1.stop();
    running.splice(0);

    await writeFile(join(dir, BANS_FILE), '{not json');
    const r2 = await relay(dir);
    expect(r2.guards.bans.active()).toEqual([]);
  }, 30_000);
});
