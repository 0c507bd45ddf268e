// Red team 10 (relay/server.ts wiring of RunningArchive.status into relay/metrics.ts and
// relay/http.ts; issue 10 "/metrics shows ..."): the archive's status() walks every feed (Ledger
// heads(): all authors, sorted) and stats two files, and nothing reuses it. /metrics calls it
// once per archive gauge (12 with checkpoints), /api/archive once per request, both
// unauthenticated. Anyone can add feeds (one signed seq-1 entry of a fresh key each, accepted at
// 300/s per peer), so the cost of one scrape grows without bound and a burst of requests blocks
// the event loop that serves gossip and sync.
//
// Input: an archive relay; one GET /metrics, then 20 GET /api/archive one after another; the
//   ledger's heads() is counted (the O(feeds) part).
// Expected: one scrape computes the status at most once, and a burst of requests reuses it
//   (here: fewer than 10 computations for the 20 requests).
// Actual (before the fix): 12 heads() walks per /metrics scrape, 20 for the 20 requests.
//   Measured (scratch script, loaded machine, an archive relay holding 9,000 one-entry feeds):
//   one status() 41–44 ms, so one /metrics scrape computed ~0.5 s before the fix; after it one
//   scrape took 42–148 ms and one /api/archive 37–94 ms (HTTP and prom-client included).
// Severity: medium (CPU exhaustion of the archive relay's event loop from plain HTTP once the
//   archive holds many feeds; the feeds themselves are cheap to create).
// Fixed: server.ts hands /metrics and /api/archive a status reused for ARCHIVE_STATUS_REUSE_MS
//   (1 s, relay/archive/constants.ts); counts may lag by that much, never run ahead of commits.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { DEFAULTS } from '../../relay/config.js';
import { startRelay, type RunningRelay } from '../../relay/server.js';
import { tempDir } from '../helpers/relay-fixture.js';

const running: RunningRelay[] = [];
afterEach(async () => {
  for (const r of running.splice(0)) await r.stop();
});

describe('redteam10: cost of the archive status over HTTP', () => {
  it('computes the status at most once per /metrics scrape and reuses it over a burst of /api/archive', async () => {
    const dataDir = await tempDir('tabula-red10-status-');
    const r = await startRelay({ ...DEFAULTS, port: 0, relayPort: 0, dataDir, staticDir: dataDir, archive: true });
    running.push(r);
    const heads = vi.spyOn(r.archive!.ledger, 'heads');

    heads.mockClear();
    const metrics = await (await fetch(`${r.url}/metrics`)).text();
    expect(metrics).toMatch(/^tabula_archive_entries 0$/m);
    expect(heads.mock.calls.length).toBeLessThanOrEqual(1);

    heads.mockClear();
    for (let i = 0; i < 20; i++) expect((await fetch(`${r.url}/api/archive`)).status).toBe(200);
    expect(heads.mock.calls.length).toBeLessThan(10);
  }, 30_000);
});
