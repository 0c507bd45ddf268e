// `npm run bench`: every benchmark, each printing its numbers next to a comparator run in the
// same process (raw createEntry, raw store appends, Yjs alone; for reconciliation a naive
// exchange, a state vector, rateless IBLT and negentropy), so ratios survive a busy machine.
// Never a test: exits non-zero only when a benchmark could not run. BENCH_1M=1 adds the
// n = 1,000,000 reconciliation rows (slow).
import '../src/lib/platform/polyfills.js';

console.log('# createEntry (sign + hash + encode)');
await import('./sign.js');
console.log('\n# Ledger.put vs its parts');
await import('./ledger-writes.js');
console.log('\n# Reconciliation of feed heads (Merkle vs naive, state vector, rateless IBLT, negentropy)');
await import('./reconcile.js');
