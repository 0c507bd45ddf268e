// A node's identity: created once, then read back from its store on every start.
import { generateKeys, publicKeyFromSeed } from './ed25519.js';
import { bytesEqual } from './bytes.js';
import { InvalidKeyError } from './errors.js';
import type { LedgerStore } from './storage.js';
import type { IdentityKeys } from './types.js';

export async function loadOrCreateIdentity(store: LedgerStore): Promise<IdentityKeys> {
  const stored = await store.loadIdentity();
  if (stored !== undefined) {
    // A key pair whose halves disagree would sign entries nobody can verify.
    if (!bytesEqual(await publicKeyFromSeed(stored.seed), stored.publicKey)) {
      throw new InvalidKeyError('stored identity is inconsistent: public key does not match seed');
    }
    return stored;
  }
  const keys = await generateKeys();
  await store.saveIdentity(keys);
  return keys;
}
