// Gossip message signatures as a browser node makes them: @libp2p/crypto's WebCrypto Ed25519 code
// (the module browsers load), patched to import each key once (patches/@libp2p+crypto+*.patch),
// next to the unpatched behaviour run in the same process: importKey on every sign and verify.
// gossipsub (StrictSign) signs each published message and verifies each received one.
// Run: npx tsx bench/gossip-sign.ts [count]
import * as ed from '../node_modules/@libp2p/crypto/dist/src/keys/ed25519/index.browser.js';

const count = Number(process.argv[2] ?? 3000);
const subtle = globalThis.crypto.subtle;
const { privateKey, publicKey } = ed.generateKey();
const msg = new Uint8Array(400).fill(7); // a gossip frame holding one small entry
const b64url = (b: Uint8Array) => Buffer.from(b).toString('base64url');

/** The unpatched library: a JWK import per signature and a raw import per verification. */
async function signImporting(): Promise<Uint8Array> {
  const jwk = { crv: 'Ed25519', kty: 'OKP', x: b64url(privateKey.subarray(32)), d: b64url(privateKey.subarray(0, 32)) };
  const key = await subtle.importKey('jwk', { ...jwk, ext: true, key_ops: ['sign'] }, { name: 'Ed25519' }, true, [
    'sign'
  ]);
  return new Uint8Array(await subtle.sign({ name: 'Ed25519' }, key, msg));
}

async function verifyImporting(sig: Uint8Array): Promise<boolean> {
  const key = await subtle.importKey('raw', new Uint8Array(publicKey), { name: 'Ed25519' }, false, ['verify']);
  return subtle.verify({ name: 'Ed25519' }, key, sig, msg);
}

async function rate(fn: () => Promise<unknown>): Promise<number> {
  for (let i = 0; i < 200; i++) await fn(); // warm-up
  const t0 = performance.now();
  for (let i = 0; i < count; i++) await fn();
  return (count / (performance.now() - t0)) * 1000;
}

const sig = await ed.hashAndSign(privateKey, msg);
if (!(await ed.hashAndVerify(new Uint8Array(publicKey), sig, msg)) || !(await verifyImporting(sig)))
  throw new Error('gossip-sign bench: a signature did not verify');
const rows = [
  ['sign', await rate(() => ed.hashAndSign(privateKey, msg)), await rate(signImporting)],
  // A received message carries its author's key in fresh bytes: cached by value.
  [
    'verify',
    await rate(() => ed.hashAndVerify(new Uint8Array(publicKey), sig, msg)),
    await rate(() => verifyImporting(sig))
  ]
] as const;
for (const [what, cached, importing] of rows)
  console.log(
    `gossip ${what}: ${Math.round(cached)}/s with the key imported once vs ${Math.round(importing)}/s importing it each time = ${(cached / importing).toFixed(2)}×`
  );
