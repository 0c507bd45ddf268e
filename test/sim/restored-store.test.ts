// A device returns with its store restored from an older copy (a profile backup, a VM snapshot):
// same identity, its own feed shorter than what its peers hold. Waiting for sync, it takes its
// own later entries back and writes after them. Writing at once signs a seq it already signed
// in the lost part: its own feed forks and becomes void on every node (README "Not yet"; the
// case is `it.fails` until a node checks its own head against its peers' before writing).
// Found by a break-it review (2026-12-04). SEED=n replays.
import { describe, expect, it } from 'vitest';
import { Cluster } from './cluster.js';
import { seeds } from './scenario.js';
import { memoryLocation } from '../helpers/ledger-nodes.js';
import { MemoryDisk } from '../../src/lib/core/memory-store.js';

describe('a device reopened from an older copy of its store', () => {
  for (const when of ['after-sync', 'at-once'] as const)
    (when === 'at-once' ? it.fails : it)(
      `its own later entries come back; a write (${when}) does not fork its feed`,
      async () => {
        for (const seed of seeds(2, 25800)) {
          const c = new Cluster({ seed, link: { loss: 0.02, dup: 0.02, latencyMin: 2, latencyMax: 40 }, gossip: true });
          await c.addNode('a', 1);
          await c.addNode('b', 2);
          const disk = new MemoryDisk();
          await c.addNode('r', 3, { location: memoryLocation(disk) });
          c.refreshLinks();
          for (let i = 0; i < 100; i++) await c.write('r', `r${i}`, i);
          await c.settle(60_000);
          const backup = disk.copy();
          for (let i = 100; i < 150; i++) await c.write('r', `r${i}`, i);
          await c.settle(60_000);
          await c.closeNode('r');
          // Restore the old copy and reopen the same identity from it.
          const restoredLoc = memoryLocation(backup);
          const r = await c.addNode('r', 3, { location: restoredLoc });
          c.net.offline.delete('r');
          c.refreshLinks();
          const own = () => r.tl.ledger.heads().find((h) => h.author === r.tl.ledger.author)?.seq ?? 0;
          const before = own();
          if (when === 'after-sync') await c.net.run(() => own() >= 150, c.net.time + 30_000);
          const afterSync = own();
          let err = '';
          try {
            await c.write('r', 'after-restore', 'new');
          } catch (e) {
            err = String(e);
          }
          await c.settle(60_000);
          const a = c.nodes.get('a')!.tl.ledger;
          const line = `SEED=${seed} ${when}: restored head ${before}, after sync wait ${afterSync}, write error '${err}', r head ${own()}, void at a: ${a.voidFrom(r.tl.ledger.author)}, void at r: ${r.tl.ledger.voidFrom(r.tl.ledger.author)}, a.get(r120)=${a.get('r120')} a.get(after-restore)=${a.get('after-restore')}`;
          console.log(line);
          expect(a.voidFrom(r.tl.ledger.author), line).toBeUndefined();
          expect(a.get('r120'), line).toBe(120);
        }
      },
      300_000
    );
});
