// The synchronous crypto the relay and Node peers install, each next to what it replaced, run in
// the same process, in alternating blocks so a busy machine slows both alike:
// - Ed25519 (src/lib/platform/node-ed25519.ts): libsodium through sodium-native vs node:crypto
//   (OpenSSL 3, nodeEd25519Impls.openssl: the fallback, as installed before). Each verification is
//   of another entry-sized message and signature under one of 8 keys (a node verifies many
//   entries of few authors); both cache their keys.
// - SHA-256 (src/lib/platform/node-sha256.ts): node:crypto vs @noble/hashes (the core's default)
//   over entry-sized messages.
// Run: npx tsx bench/node-crypto.ts [count]
import { sha256 as nobleSha256 } from '@noble/hashes/sha2.js';
import { publicKeyFromSeed } from '../src/lib/core/ed25519.js';
import { nodeEd25519Impls, nodeSign, nodeVerify } from '../src/lib/platform/node-ed25519.js';
import { nodeSha256 } from '../src/lib/platform/node-sha256.js';

const count = Number(process.argv[2] ?? 4000);
const AUTHORS = 8;
const MSG_BYTES = 300; // an entry's signed bytes with a small payload
/** The fallback (node:crypto, keys cached as before 2026-12-02), the comparator. */
const openssl = nodeEd25519Impls.openssl;

const seeds = Array.from({ length: AUTHORS }, () => crypto.getRandomValues(new Uint8Array(32)));
const pubs = await Promise.all(seeds.map((s) => publicKeyFromSeed(s)));
const msgs = Array.from({ length: count }, () => crypto.getRandomValues(new Uint8Array(MSG_BYTES)));
const sigs = msgs.map((m, i) => nodeSign(seeds[i % AUTHORS], m));
for (let i = 0; i < count; i++) {
  const a = i % AUTHORS;
  if (!nodeVerify(pubs[a], msgs[i], sigs[i]) || !openssl.verify(pubs[a], msgs[i], sigs[i]))
    throw new Error('node-crypto bench: a signature did not verify');
  if (i < 50 && Buffer.compare(sigs[i], openssl.sign(seeds[a], msgs[i])) !== 0)
    throw new Error('node-crypto bench: libsodium and OpenSSL signatures differ');
  if (i < 50 && Buffer.compare(nodeSha256(msgs[i]), nobleSha256(msgs[i])) !== 0)
    throw new Error('node-crypto bench: the SHA-256 digests differ');
}

/** Rate (calls/s) of `a` and `b` over all messages, median of alternating blocks. */
function rates(a: (i: number) => unknown, b: (i: number) => unknown): [number, number] {
  const blocks = 10;
  const per = Math.max(1, Math.floor(count / blocks));
  const time = (fn: (i: number) => unknown, from: number) => {
    const t0 = performance.now();
    for (let i = from; i < from + per; i++) fn(i);
    return (per / (performance.now() - t0)) * 1000;
  };
  const ra: number[] = [];
  const rb: number[] = [];
  for (let k = 0; k < blocks; k++) {
    ra.push(time(a, k * per));
    rb.push(time(b, k * per));
  }
  const median = (xs: number[]) => xs.sort((x, y) => x - y)[Math.floor(xs.length / 2)];
  return [median(ra), median(rb)];
}

const rows = [
  [
    'sign',
    ...rates(
      (i) => nodeSign(seeds[i % AUTHORS], msgs[i]),
      (i) => openssl.sign(seeds[i % AUTHORS], msgs[i])
    )
  ],
  [
    'verify',
    ...rates(
      (i) => nodeVerify(pubs[i % AUTHORS], msgs[i], sigs[i]),
      (i) => openssl.verify(pubs[i % AUTHORS], msgs[i], sigs[i])
    )
  ]
] as const;
const line = (what: string, ours: number, theirs: number, oursName: string, theirsName: string) =>
  console.log(
    `Node ${what}: ${Math.round(ours)}/s ${oursName} (installed) vs ${Math.round(theirs)}/s ${theirsName} = ${(ours / theirs).toFixed(2)}× (${(1e6 / ours).toFixed(1)} vs ${(1e6 / theirs).toFixed(1)} µs)`
  );
for (const [what, ours, openssl] of rows) line(`Ed25519 ${what}`, ours, openssl, 'libsodium', 'node:crypto (OpenSSL)');
const [native, noble] = rates(
  (i) => nodeSha256(msgs[i]),
  (i) => nobleSha256(msgs[i])
);
line(`SHA-256 of ${MSG_BYTES} bytes`, native, noble, 'node:crypto', '@noble/hashes');

// A compaction's state digest (5 MB): the installed SHA-256 synchronously (what
// canonicalDigestAsync does once it is installed) vs WebCrypto's digest, awaited (before).
const STATE_BYTES = 5 * 1024 * 1024;
const state = new Uint8Array(STATE_BYTES).map((_, i) => (i * 31) % 251);
const digestRuns = 20;
const timeMs = async (fn: () => unknown): Promise<number> => {
  const t0 = performance.now();
  for (let i = 0; i < digestRuns; i++) await fn();
  return (performance.now() - t0) / digestRuns;
};
let syncMs = 0;
let webMs = 0;
for (let k = 0; k < 3; k++) {
  syncMs += await timeMs(() => nodeSha256(state));
  webMs += await timeMs(() => crypto.subtle.digest('SHA-256', state));
}
console.log(
  `Node SHA-256 of a 5 MB state: ${(syncMs / 3).toFixed(2)} ms node:crypto (installed, synchronous) vs ${(webMs / 3).toFixed(2)} ms WebCrypto (awaited) = ${(webMs / syncMs).toFixed(2)}×`
);
