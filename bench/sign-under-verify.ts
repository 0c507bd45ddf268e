// How long one local signature waits while verifications of received entries are queued (an
// ingest verifies hundreds at once). ed25519.ts bounds the verifications in flight
// (ED25519_MAX_VERIFIES_IN_FLIGHT) so the signature is not queued behind all of them; before that
// bound, one signature behind 2,000 verifications took ~400 ms in Node.
// Run: npx tsx bench/sign-under-verify.ts
import { ed25519Backend, generateKeys, sign, verify } from '../src/lib/core/ed25519.js';

const keys = await generateKeys();
const msg = new Uint8Array(300).fill(1);
const sig = await sign(keys.seed, msg);
await verify(keys.publicKey, msg, sig); // warm-up: key import, backend detection
console.log(`backend ${await ed25519Backend()}, node ${process.version}`);
for (const backlog of [0, 256, 2000]) {
  const pending = Array.from({ length: backlog }, () => verify(keys.publicKey, msg, sig));
  const t = performance.now();
  await sign(keys.seed, msg);
  const signMs = performance.now() - t;
  const ok = (await Promise.all(pending)).every(Boolean);
  const allMs = performance.now() - t;
  console.log(
    `${String(backlog).padStart(5)} verifications queued: one signature ${signMs.toFixed(1)} ms; ` +
      `all verifications done after ${allMs.toFixed(1)} ms (${ok ? 'all valid' : 'SOME INVALID'})`
  );
}
