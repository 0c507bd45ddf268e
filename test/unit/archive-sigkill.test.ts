// A SIGKILL loses no acknowledged entry. "Acknowledged" = shown by the archive's /api/archive:
// its counts come from the ledger's feeds, which move only after the SQLite transaction
// committed (synchronous=FULL). A peer streams entries over gossip; the relay process is killed
// with SIGKILL mid-stream; after a restart every entry acknowledged before the kill is there,
// and an export of the archive verifies (signatures, chains) in a fresh ledger.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { toHex } from '../../src/lib/core/bytes.js';
import { importLedgerSnapshot } from '../../src/lib/core/ledger-snapshots.js';
import { exportArchive } from '../../relay/archive/backup.js';
import type { ArchiveStatus } from '../../relay/archive/archive.js';
import { genesis, memoryLocation, openLedger } from '../helpers/ledger-nodes.js';
import { tempDir } from '../helpers/relay-fixture.js';
import { spawnRelay, type RelayProcess } from '../helpers/relay-process.js';
import { startSyncPeer, type SyncPeer } from '../helpers/sync-peer.js';

const WRITES = 300;
/** Kill once at least this many entries are acknowledged. */
const KILL_AFTER = 100;

const cleanup: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const f of cleanup.splice(0).reverse()) await f().catch(() => undefined);
});

async function status(relay: RelayProcess): Promise<ArchiveStatus> {
  return (await (await fetch(`${relay.url}/api/archive`)).json()) as ArchiveStatus;
}

function track(relay: RelayProcess): void {
  cleanup.push(async () => {
    if (relay.child.exitCode === null && relay.child.signalCode === null) relay.child.kill('SIGKILL');
    await relay.exited;
  });
}

describe('relay --archive under SIGKILL', () => {
  it('keeps every acknowledged entry, and its chains verify after the restart', async () => {
    const dataDir = await tempDir();
    const args = ['--archive', '--data-dir', dataDir, '--static-dir', dataDir];
    const first = await spawnRelay(args);
    track(first);
    const writer: SyncPeer = await startSyncPeer(1);
    cleanup.push(() => writer.stop());
    await writer.connect(first.addr);

    // Write in the background, a little slower than the gossip rate limit allows.
    let writing = true;
    const writes = (async () => {
      for (let i = 0; i < WRITES && writing; i++) {
        await writer.tl.ledger.put(`k${i}`, i);
        await new Promise((r) => setTimeout(r, 4));
      }
    })();
    let acked = 0;
    while (acked < KILL_AFTER) {
      acked = Math.max(acked, (await status(first)).entries);
      await new Promise((r) => setTimeout(r, 10));
    }
    process.kill(first.pid, 'SIGKILL');
    expect(await first.exited).toBe('SIGKILL');
    writing = false;
    await writes;
    console.log(`SIGKILL after ${acked} acknowledged entries (writer had ${writer.tl.log.length})`);

    const t0 = Date.now();
    const second = await spawnRelay(args);
    track(second);
    const after = await status(second);
    console.log(
      `restart: ${Date.now() - t0} ms to listening, ledger open ${after.openMs} ms, ${after.entries} entries`
    );
    expect(after.entries).toBeGreaterThanOrEqual(acked);
    const author = toHex(writer.tl.keys.publicKey);
    const head = after.heads.find((h) => h.author === author)!;
    expect(head.hash).toBe(toHex(writer.tl.log[head.seq - 1].hash));

    // An export of the restarted archive verifies in a fresh ledger: every signature and chain.
    const file = join(dataDir, 'after-kill.snapshot.gz');
    const exp = await exportArchive(dataDir, file, genesis);
    expect(exp.entries).toBe(after.entries);
    const fresh = await openLedger(memoryLocation(), 9);
    const report = await importLedgerSnapshot(fresh.ledger, await readFile(file));
    expect(report).toMatchObject({ added: after.entries, rejected: 0 });
    expect(fresh.ledger.get(`k${after.entries - 1}`)).toBe(after.entries - 1);

    // And it catches up the rest from the writer by sync.
    await writer.connect(second.addr);
    const want = writer.tl.log.length;
    const end = Date.now() + 20_000;
    while ((await status(second)).entries < want && Date.now() < end) await new Promise((r) => setTimeout(r, 50));
    expect((await status(second)).entries).toBe(want);
    second.child.kill('SIGTERM');
    expect(await second.exited).toBe(0);
  }, 120_000);
});
