// The relay's persistent libp2p identity, so its PeerId (and the multiaddrs browsers dial) survive restarts.
import { mkdir, open, readFile, rename } from 'node:fs/promises';
import { dirname } from 'node:path';
import { generateKeyPair, privateKeyFromProtobuf, privateKeyToProtobuf } from '@libp2p/crypto/keys';
import type { PrivateKey } from '@libp2p/interface';
import { RelayKeyError } from './errors.js';

const MAX_KEY_FILE_BYTES = 4096;

export async function loadOrCreateKey(path: string): Promise<PrivateKey> {
  let bytes: Buffer | undefined;
  try {
    bytes = await readFile(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  if (bytes !== undefined) {
    if (bytes.byteLength > MAX_KEY_FILE_BYTES) throw new RelayKeyError(`key file ${path} is too large`);
    try {
      return privateKeyFromProtobuf(bytes);
    } catch (err) {
      throw new RelayKeyError(
        `${path} is not a libp2p private key (${(err as Error).message}): restore it from a backup; ` +
          'deleting it makes a new key, i.e. a new PeerId every other relay must be given',
        { cause: err }
      );
    }
  }
  const key = await generateKeyPair('Ed25519');
  await mkdir(dirname(path), { recursive: true });
  // Write, fsync, then rename: a crash (or a power cut) never leaves a truncated key behind.
  const tmp = `${path}.tmp-${process.pid}`;
  const file = await open(tmp, 'w', 0o600);
  try {
    await file.writeFile(privateKeyToProtobuf(key));
    await file.sync();
  } finally {
    await file.close();
  }
  await rename(tmp, path);
  return key;
}
