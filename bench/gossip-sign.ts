// Gossip message signatures as a browser node makes them: @libp2p/crypto's WebCrypto Ed25519 code
// (the module browsers load), patched to import each key once (patches/@libp2p+crypto+*.patch),
// next to the unpatched behaviour run in the same process: importKey on every sign and verify.
// gossipsub (StrictSign) signs each published message and verifies each received one. Then the
// same for the Node code (the relay, Node nodes): node:crypto KeyObjects built once (patched) vs
// createPrivateKey / createPublicKey from a JWK on every call (unpatched).
// Run: npx tsx bench/gossip-sign.ts [count]
import { createPrivateKey, createPublicKey, sign as nodeSign, verify as nodeVerify } from 'node:crypto';
import * as ed from '../node_modules/@libp2p/crypto/dist/src/keys/ed25519/index.browser.js';
import * as edNode from '../node_modules/@libp2p/crypto/dist/src/keys/ed25519/index.js';

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

async function verifyImporting(sig: Uint8Array<ArrayBuffer>): Promise<boolean> {
  const key = await subtle.importKey('raw', new Uint8Array(publicKey), { name: 'Ed25519' }, false, ['verify']);
  return subtle.verify({ name: 'Ed25519' }, key, sig, msg);
}

/**
 * Rates of `a` and `b` (calls/s), measured in alternating blocks so a busy machine slows both
 * alike; each is the median over the blocks.
 */
async function rates(a: () => Promise<unknown>, b: () => Promise<unknown>): Promise<[number, number]> {
  const blocks = 10;
  const per = Math.max(1, Math.round(count / blocks));
  const time = async (fn: () => Promise<unknown>) => {
    const t0 = performance.now();
    for (let i = 0; i < per; i++) await fn();
    return (per / (performance.now() - t0)) * 1000;
  };
  for (let i = 0; i < 200; i++) await Promise.all([a(), b()]); // warm-up
  const ra: number[] = [];
  const rb: number[] = [];
  for (let k = 0; k < blocks; k++) {
    ra.push(await time(a));
    rb.push(await time(b));
  }
  const median = (xs: number[]) => xs.sort((x, y) => x - y)[Math.floor(xs.length / 2)];
  return [median(ra), median(rb)];
}

const sig = new Uint8Array(await ed.hashAndSign(privateKey, msg));
if (!(await ed.hashAndVerify(new Uint8Array(publicKey), sig, msg)) || !(await verifyImporting(sig)))
  throw new Error('gossip-sign bench: a signature did not verify');
const rows = [
  ['sign', ...(await rates(() => ed.hashAndSign(privateKey, msg), signImporting))],
  // A received message carries its author's key in fresh bytes: cached by value.
  [
    'verify',
    ...(await rates(
      () => ed.hashAndVerify(new Uint8Array(publicKey), sig, msg),
      () => verifyImporting(sig)
    ))
  ]
] as const;
for (const [what, cached, importing] of rows)
  console.log(
    `gossip ${what}: ${Math.round(cached)}/s with the key imported once vs ${Math.round(importing)}/s importing it each time = ${(cached / importing).toFixed(2)}×`
  );

// Node code: the unpatched library built a KeyObject from a JWK on every call.
function nodeSignCreating(): Uint8Array {
  const jwk = { crv: 'Ed25519', kty: 'OKP', x: b64url(privateKey.subarray(32)), d: b64url(privateKey.subarray(0, 32)) };
  return nodeSign(null, msg, createPrivateKey({ format: 'jwk', key: jwk }));
}
function nodeVerifyCreating(s: Uint8Array): boolean {
  const key = createPublicKey({ format: 'jwk', key: { crv: 'Ed25519', kty: 'OKP', x: b64url(publicKey) } });
  return nodeVerify(null, msg, key, s);
}
const nodeSig = edNode.hashAndSign(privateKey, msg);
if (!edNode.hashAndVerify(new Uint8Array(publicKey), nodeSig, msg) || !nodeVerifyCreating(nodeSig))
  throw new Error('gossip-sign bench: a Node signature did not verify');
const nodeRows = [
  [
    'sign',
    ...(await rates(
      async () => edNode.hashAndSign(privateKey, msg),
      async () => nodeSignCreating()
    ))
  ],
  [
    'verify',
    ...(await rates(
      async () => edNode.hashAndVerify(new Uint8Array(publicKey), nodeSig, msg),
      async () => nodeVerifyCreating(nodeSig)
    ))
  ]
] as const;
for (const [what, cached, creating] of nodeRows)
  console.log(
    `gossip ${what} (Node code): ${Math.round(cached)}/s with the KeyObject built once vs ${Math.round(creating)}/s building it each time = ${(cached / creating).toFixed(2)}×`
  );
