// The part of sodium-native (libsodium bindings, https://github.com/holepunchto/sodium-native)
// that src/lib/platform/node-ed25519.ts uses (loaded with require, so named exports only).
// Output arguments are written to in place, as in libsodium.
declare module 'sodium-native' {
  /** Derives the 32-byte public key and 64-byte secret key (seed || public key) from a 32-byte seed. */
  export function crypto_sign_seed_keypair(pk: Uint8Array, sk: Uint8Array, seed: Uint8Array): void;
  /** Writes the 64-byte Ed25519 signature of m under the 64-byte secret key sk into sig. */
  export function crypto_sign_detached(sig: Uint8Array, m: Uint8Array, sk: Uint8Array): void;
  /** True when sig is a valid Ed25519 signature of m under the 32-byte public key pk. */
  export function crypto_sign_verify_detached(sig: Uint8Array, m: Uint8Array, pk: Uint8Array): boolean;
}
