// The relay's persistent libp2p identity, so its PeerId (and the multiaddrs browsers dial) survive restarts.
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { generateKeyPair, privateKeyFromProtobuf, privateKeyToProtobuf } from '@libp2p/crypto/keys';
import type { PrivateKey } from '@libp2p/interface';

const MAX_KEY_FILE_BYTES = 4096;

export async function loadOrCreateKey(path: string): Promise<PrivateKey> {
  let bytes: Buffer | undefined;
  try {
    bytes = await readFile(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  if (bytes !== undefined) {
    if (bytes.byteLength > MAX_KEY_FILE_BYTES) throw new Error(`key file ${path} is too large`);
    return privateKeyFromProtobuf(bytes);
  }
  const key = await generateKeyPair('Ed25519');
  await mkdir(dirname(path), { recursive: true });
  // Write then rename: a crash never leaves a truncated key behind.
  const tmp = `${path}.tmp-${process.pid}`;
  await writeFile(tmp, privateKeyToProtobuf(key), { mode: 0o600 });
  await rename(tmp, path);
  return key;
}
