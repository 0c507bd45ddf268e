// A device returns with its store restored from an older copy (a profile backup, a VM snapshot):
// same identity, its own feed shorter than what its peers hold. Writing from it at once would
// sign a seq it already signed in the lost part: its own feed would fork and become void on
// every node. The own-feed check (core/own-feed-check.ts) holds the first write after a long
// absence until a peer's comparison shows nothing later of the own feed, or sync has brought it
// back. Without the check ('unchecked', `it.fails`) the at-once write forks the feed. Found by a
// break-it review (2026-12-04). SEED=n replays.
import { describe, expect, it } from 'vitest';
import { Cluster } from './cluster.js';
import { seeds } from './scenario.js';
import { memoryLocation } from '../helpers/ledger-nodes.js';
import { MemoryDisk } from '../../src/lib/core/memory-store.js';
import { lastAlive, noteAlive, OwnFeedCheck } from '../../src/lib/core/own-feed-check.js';

type When = 'after-sync' | 'at-once' | 'unchecked';

async function restoredWrite(seed: number, when: When): Promise<void> {
  const c = new Cluster({ seed, link: { loss: 0.02, dup: 0.02, latencyMin: 2, latencyMax: 40 }, gossip: true });
  await c.addNode('a', 1);
  await c.addNode('b', 2);
  const disk = new MemoryDisk();
  let r = await c.addNode('r', 3, { location: memoryLocation(disk) });
  c.refreshLinks();
  for (let i = 0; i < 100; i++) await c.write('r', `r${i}`, i);
  await c.settle(60_000);
  await noteAlive(r.tl.ledger.store, c.net.time); // a running node notes this every 15 s
  const backup = disk.copy();
  for (let i = 100; i < 150; i++) await c.write('r', `r${i}`, i);
  await c.settle(60_000);
  await noteAlive(r.tl.ledger.store, c.net.time);
  await c.closeNode('r');
  // Some time later, the old copy is restored and the same identity reopens from it.
  await c.net.run(() => false, c.net.time + 300_000);
  // The engine exists before the check (it needs the reopened ledger): comparisons reach it through this.
  const wired: { check?: OwnFeedCheck } = {};
  r = await c.addNode('r', 3, {
    location: memoryLocation(backup),
    onCompared: (_peer, diffs) => wired.check?.compared(diffs)
  });
  const ownSeq = () => r.tl.ledger.heads().find((h) => h.author === r.tl.ledger.author)?.seq ?? 0;
  const check = new OwnFeedCheck({
    author: r.tl.ledger.author,
    ownSeq,
    lastAliveAt: await lastAlive(r.tl.ledger.store),
    now: () => c.net.time,
    setTimer: (fn, ms) => {
      let live = true;
      c.net.schedule(ms, () => live && fn());
      return () => (live = false);
    }
  });
  wired.check = check;
  r.tl.ledger.onAppend(() => check.advanced());
  c.net.offline.delete('r');
  c.refreshLinks();
  const before = ownSeq();
  expect(check.state, `SEED=${seed}`).toBe('holding');
  if (when === 'after-sync') await c.net.run(() => ownSeq() >= 150, c.net.time + 30_000);
  let err = '';
  let done = false;
  const gate = when === 'unchecked' ? Promise.resolve() : check.ready;
  const write = gate
    .then(() => c.write('r', 'after-restore', 'new'))
    .catch((e: unknown) => void (err = String(e)))
    .finally(() => (done = true));
  await c.net.run(() => done, c.net.time + 30_000);
  await write;
  await c.settle(60_000);
  const a = c.nodes.get('a')!.tl.ledger;
  const line = `SEED=${seed} ${when}: restored head ${before}, check ${check.state}, write error '${err}', r head ${ownSeq()}, void at a: ${a.voidFrom(r.tl.ledger.author)}, a.get(r120)=${a.get('r120')} a.get(after-restore)=${a.get('after-restore')}`;
  console.log(line);
  expect(a.voidFrom(r.tl.ledger.author), line).toBeUndefined();
  expect(a.get('r120'), line).toBe(120);
  expect(a.get('after-restore'), line).toBe('new');
  check.close();
}

describe('a device reopened from an older copy of its store', () => {
  for (const when of ['after-sync', 'at-once', 'unchecked'] as const)
    (when === 'unchecked' ? it.fails : it)(
      `its own later entries come back; a write (${when}) does not fork its feed`,
      async () => {
        for (const seed of seeds(2, 25800)) await restoredWrite(seed, when);
      },
      300_000
    );
});
