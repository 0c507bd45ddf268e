// Throughput of createEntry (Ed25519 signing + SHA-256 + canonical encoding) in Node.
// Run: npx tsx bench/sign.ts [count]
import { createEntry } from '../src/lib/core/entry.js';
import { generateKeys, ed25519Backend, forceEd25519Backend } from '../src/lib/core/ed25519.js';
import { defaultGenesis, networkId } from '../src/lib/core/genesis.js';
import type { HashedEntry } from '../src/lib/core/types.js';

const count = Number(process.argv[2] ?? 2000);
// ED25519_BACKEND=noble measures the pure-JS fallback.
const pinned = process.env.ED25519_BACKEND;
if (pinned === 'noble' || pinned === 'webcrypto') forceEd25519Backend(pinned);
const id = networkId(defaultGenesis());
const keys = await generateKeys();
const payload = new Uint8Array(100).fill(0xab);

async function run(n: number): Promise<number> {
  let prev: Uint8Array = new Uint8Array(32);
  const start = performance.now();
  for (let seq = 1; seq <= n; seq++) {
    const h: HashedEntry = await createEntry({ keys, seq, prev, lamport: seq, time: Date.now(), payload }, id);
    prev = h.hash;
  }
  return performance.now() - start;
}

await run(200); // warm-up: JIT, key import, backend detection
const ms = await run(count);
console.log(
  `createEntry: ${count} entries of ${payload.length}-byte payload in ${ms.toFixed(0)} ms = ` +
    `${Math.round((count / ms) * 1000)} entries/s (backend: ${await ed25519Backend()}, node ${process.version})`
);
