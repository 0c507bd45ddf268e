// relay --archive in process: gossip entries are stored durably in SQLite, served by sync to a
// peer that has nothing, kept across a restart, and the archive catches up by sync from a peer
// it meets after the restart. /api/archive and /metrics show it.
import { spawnSync } from 'node:child_process';
import { afterEach, describe, expect, it } from 'vitest';
import { missingTools } from '../helpers/cli-tools.js';
import { DEFAULTS, parseConfig } from '../../relay/config.js';
import { startRelay, type RunningRelay } from '../../relay/server.js';
import { ArchiveLockedError } from '../../relay/archive/lock.js';
import { relayAddr, tempDir } from '../helpers/relay-fixture.js';
import { waitFor } from '../helpers/relay-client.js';
import { startSyncPeer, type SyncPeer } from '../helpers/sync-peer.js';

const running: Array<{ stop(): Promise<void> }> = [];
afterEach(async () => {
  for (const r of running.splice(0).reverse()) await r.stop();
});

async function archiveRelay(dataDir: string): Promise<RunningRelay> {
  const r = await startRelay({ ...DEFAULTS, port: 0, relayPort: 0, dataDir, staticDir: dataDir, archive: true });
  running.push(r);
  return r;
}

async function peer(keyByte: number): Promise<SyncPeer> {
  const p = await startSyncPeer(keyByte);
  running.push(p);
  return p;
}

const headsOf = (p: SyncPeer) => JSON.stringify(p.tl.ledger.heads());

describe('relay --archive', () => {
  it('stores gossip durably, serves it by sync, survives a restart and catches up from peers', async () => {
    const dataDir = await tempDir();
    let relay = await archiveRelay(dataDir);
    const writer = await peer(1);
    await writer.connect(relayAddr(relay));
    for (let i = 0; i < 30; i++) await writer.tl.ledger.put(`k${i}`, i);
    await waitFor(() => relay.archive!.status().entries === 30, 'the archive storing 30 entries', 15_000);

    const api = (await (await fetch(`${relay.url}/api/archive`)).json()) as { entries: number; feeds: number };
    expect(api).toMatchObject({ entries: 30, feeds: 1 });
    const metrics = await (await fetch(`${relay.url}/metrics`)).text();
    expect(metrics).toMatch(/^tabula_archive_entries 30$/m);
    expect(metrics).toMatch(/^tabula_archive_feeds 1$/m);
    expect(Number(/^tabula_archive_bytes (\d+)$/m.exec(metrics)?.[1])).toBeGreaterThan(0);
    if (missingTools(['promtool']).length === 0) {
      const lint = spawnSync('promtool', ['check', 'metrics'], { input: metrics, encoding: 'utf8' });
      expect(lint.stdout + lint.stderr).toBe('');
    }

    // Every other peer is gone: a newcomer gets the history from the archive, by sync.
    await writer.stop();
    running.splice(running.indexOf(writer), 1);
    const reader = await peer(2);
    await reader.connect(relayAddr(relay));
    await waitFor(() => reader.tl.ledger.stats().entries === 30, 'the reader catching up from the archive', 15_000);
    expect(reader.tl.ledger.get('k29')).toBe(29);

    // A second relay process on the same archive is refused while this one runs.
    await expect(archiveRelay(dataDir)).rejects.toBeInstanceOf(ArchiveLockedError);

    // Restart: the history is still there, and the archive catches up what it missed meanwhile.
    await relay.stop();
    running.splice(running.indexOf(relay), 1);
    for (let i = 0; i < 12; i++) await reader.tl.ledger.put(`r${i}`, i);
    relay = await archiveRelay(dataDir);
    expect(relay.archive!.status().entries).toBe(30);
    await reader.connect(relayAddr(relay));
    await waitFor(() => relay.archive!.status().entries === 42, 'the archive catching up from the reader', 15_000);
    await waitFor(() => relay.archive!.status().headsRoot === reader.engine.status().root, 'equal roots', 15_000);
    expect(relay.archive!.status().feeds).toBe(2);
    expect(headsOf(reader)).toBe(JSON.stringify(relay.archive!.ledger.heads()));
  });

  it('is off by default: /api/archive is 404 and /metrics has no archive gauges', async () => {
    const dataDir = await tempDir();
    const r = await startRelay({ ...DEFAULTS, port: 0, relayPort: 0, dataDir, staticDir: dataDir });
    running.push(r);
    expect(r.archive).toBeUndefined();
    expect((await fetch(`${r.url}/api/archive`)).status).toBe(404);
    expect(await (await fetch(`${r.url}/metrics`)).text()).not.toMatch(/tabula_archive_/);
  });

  it('is turned on by --archive or TABULA_ARCHIVE=1', () => {
    expect(parseConfig([], {}).archive).toBe(false);
    expect(parseConfig(['--archive', '--port', '1'], {})).toMatchObject({ archive: true, port: 1 });
    expect(parseConfig([], { TABULA_ARCHIVE: '1' }).archive).toBe(true);
    expect(parseConfig([], { TABULA_ARCHIVE: '0' }).archive).toBe(false);
    expect(() => parseConfig([], { TABULA_ARCHIVE: 'maybe' })).toThrow(/TABULA_ARCHIVE/);
  });
});
