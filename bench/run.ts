// `npm run bench`: every benchmark, each printing its numbers next to a comparator run in the
// same process (raw createEntry, raw store appends, Yjs alone), so ratios survive a busy machine.
import '../src/lib/platform/polyfills.js';

console.log('# createEntry (sign + hash + encode)');
await import('./sign.js');
console.log('\n# Ledger.put vs its parts');
await import('./ledger-writes.js');
