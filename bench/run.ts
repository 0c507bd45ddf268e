// `npm run bench`: every benchmark, each printing its numbers next to a comparator run in the
// same process (raw createEntry, raw store appends, Yjs alone; for reconciliation a naive
// exchange, a state vector, rateless IBLT and negentropy), so ratios survive a busy machine.
// Then the browser benchmarks (bench/browser/: real Chromium, loopback only; BENCH_BROWSER=0
// skips them), and the results file bench/results/<date>-<commit>.json.
// Never a test. A Node bench that throws (or a row 6 run that does not catch up) is printed as
// NOT RUN, listed under `nodeNotRun` in the results file, and the next benches (unless it is
// still running: bench/node-benches.ts), the browser half and the results file still run; the
// exit status is then 1 at the end (bench/node-benches.ts): non-zero only when a benchmark could
// not run. BENCH_1M=1 (or true) adds the
// n = 1,000,000 reconciliation rows (slow). Row 6 (catch-up bytes, bench/catch-up.ts) runs here,
// in Node, over a real sync session; row 5 (Node, core protocol: cold join at 100k,
// bench/cold-join.ts) too, over the real join protocol; row 5 (browser) runs in Chromium.
import '../src/lib/platform/polyfills.js';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { format } from 'node:util';
import { machine, startCommit, writeResults } from './results.js';
import { benchExitStatus, runNodeBenches, type NodeBench } from './node-benches.js';
import type { CatchUpResult } from './catch-up.js';
import type { ColdJoinResult } from './cold-join.js';

// The Node benches print; keep a copy of what they print for the results file.
const printed: string[] = [];
const log = console.log.bind(console);
console.log = (...args: unknown[]) => {
  printed.push(format(...args));
  log(...args);
};

// The commit measured: recorded now (the browser half inherits it), not when the results are written.
startCommit();
const info = machine();
let catchUp: CatchUpResult[] | undefined;
let coldJoin: ColdJoinResult | undefined;
/** A bench module that runs and prints on import. */
const printingBench = (row: string, title: string, module: string): NodeBench => ({
  row,
  title,
  run: () => import(module).then(() => undefined)
});
const benches: NodeBench[] = [
  printingBench('createEntry', '# createEntry (sign + hash + encode)', './sign.js'),
  printingBench(
    'Gossip message signatures',
    '# gossip message signatures (browser WebCrypto code, key imported once vs per call)',
    './gossip-sign.js'
  ),
  printingBench(
    'Node crypto',
    '# Node crypto (what the relay and Node peers install: libsodium Ed25519 vs node:crypto, node:crypto SHA-256 vs @noble/hashes)',
    './node-crypto.js'
  ),
  printingBench(
    'Node Ledger.ingest',
    '# Node Ledger.ingest of S10-shaped entries (CPU per entry: the crypto installed now vs before 2026-12-02)',
    './node-ingest.js'
  ),
  printingBench('Ledger.put vs its parts', '# Ledger.put vs its parts', './ledger-writes.js'),
  printingBench(
    'Records.list during a catch-up',
    '# Records.list(500) while keys arrive (the key index vs sorting every key)',
    './records-list.js'
  ),
  printingBench(
    'Row 2, reconciliation of feed heads',
    '# Reconciliation of feed heads (Merkle vs naive, state vector, rateless IBLT, negentropy)',
    './reconcile.js'
  ),
  {
    row: 'Row 6, catch-up after missed entries',
    title: '# Catch-up after missed entries (row 6: sync bytes vs the missing entries and vs refetching everything)',
    run: async () => {
      const { runCatchUp, notCaughtUp } = await import('./catch-up.js');
      catchUp = await runCatchUp();
      // Kept (with no ratio) in the results; listed as not run too.
      const stalled = notCaughtUp(catchUp);
      if (stalled.length > 0) throw new Error(stalled.join('; '));
    }
  },
  {
    row: 'Row 5 (Node, core protocol), cold join',
    title:
      '# Row 5 (Node, core protocol): cold join of a light replica (verified join vs replaying every entry, the real join protocol over an in-memory transport; row 5 (browser) runs in Chromium below)',
    run: async () => {
      const { runColdJoin } = await import('./cold-join.js');
      coldJoin = await runColdJoin();
    }
  }
];
// A bench that throws is printed as NOT RUN (under `nodeNotRun` in the results) and the next runs.
const nodeNotRun = await runNodeBenches(benches, (line) => console.log(line));
console.log = log;

// This run's own temporary directory (the Node results handed to the browser half): removed at the end.
const tmp = mkdtempSync(join(tmpdir(), 'tabula-bench-'));
let status = 0;
try {
  const nodeLog = join(tmp, 'node.txt');
  writeFileSync(nodeLog, printed.join('\n') + '\n');
  // Structured Node results, merged into the results file by the browser half (or written below).
  const nodeJson = join(tmp, 'node.json');
  writeFileSync(nodeJson, JSON.stringify({ catchUp, coldJoin, nodeNotRun }));
  if (process.env.BENCH_BROWSER === '0') {
    console.log(
      `\nbench: browser benchmarks skipped (BENCH_BROWSER=0); results in ${writeResults({ machine: info, catchUp, coldJoin, nodeNotRun, nodeOutput: printed.join('\n') })}`
    );
  } else {
    console.log('\n# Browser benchmarks (real Chromium; BENCH_BROWSER=0 skips them)');
    const written = join(tmp, 'written');
    const r = spawnSync('bash', ['bench/browser/run.sh'], {
      stdio: 'inherit',
      env: { ...process.env, BENCH_NODE_LOG: nodeLog, BENCH_NODE_JSON: nodeJson, BENCH_RESULTS_WRITTEN: written }
    });
    status = r.status ?? 1;
    // The browser half died before it wrote the results (no Chromium, no namespace, killed): the
    // Node results are still written, with why the browser part is missing.
    if (!existsSync(written)) {
      const browserFailure = `bench/browser/run.sh ended (${r.status ?? r.signal ?? r.error?.message}) before writing the results`;
      console.log(
        `\nbench: ${browserFailure}; Node results in ${writeResults({ machine: info, catchUp, coldJoin, nodeNotRun, nodeOutput: printed.join('\n'), browserFailure })}`
      );
      status = status === 0 ? 1 : status;
    }
  }
} finally {
  rmSync(tmp, { recursive: true, force: true });
}
if (nodeNotRun.length > 0)
  console.log(
    `bench: Node benches NOT RUN (see above and "nodeNotRun" in the results): ${nodeNotRun.map((f) => f.row).join('; ')}`
  );
status = benchExitStatus(status, nodeNotRun);
if (status !== 0) process.exit(status);
