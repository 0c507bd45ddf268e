// One file of the Origin Private File System, opened for synchronous access (dedicated workers
// only: FileSystemSyncAccessHandle). Used for the own copy (core/own-copy.ts): its writes go to
// a plain file, not through the LevelDB that backs IndexedDB in Chromium.
import type { CopyFile } from '../core/own-copy.js';
import { OPFS_OPEN_RETRY_MS, OPFS_OPEN_WAIT_MS } from '../core/constants.js';

/** The directory of Tabula's files in the origin's private file system. */
export const OPFS_DIR = 'tabula';

/** This browser has no OPFS sync access at all: running without the own copy is all it can do. */
export class OwnCopyUnsupportedError extends Error {
  override name = 'OwnCopyUnsupportedError';
}

/** The own copy's file name for a network (hex id): one per network, as the IndexedDB store. */
export function ownCopyFileName(networkIdHex: string): string {
  return `own-${networkIdHex}.tbc`;
}

interface SyncHandleFile {
  createSyncAccessHandle(): Promise<CopyFile>;
}

/**
 * Opens (creating if needed) `name` in the OPFS directory `tabula/`. A handle still held by the
 * worker of a node that is handing over (a tab closing) is waited for, up to OPFS_OPEN_WAIT_MS
 * (2 s). Throws OwnCopyUnsupportedError when the browser has no OPFS sync access (not in a
 * dedicated worker), else the platform's error (the file stays locked, private mode, I/O).
 */
export async function openOpfsFile(name: string): Promise<CopyFile> {
  const storage = (globalThis.navigator as { storage?: StorageManager } | undefined)?.storage;
  if (storage?.getDirectory === undefined)
    throw new OwnCopyUnsupportedError('this browser has no origin private file system');
  const root = await storage.getDirectory();
  const dir = await root.getDirectoryHandle(OPFS_DIR, { create: true });
  const file = (await dir.getFileHandle(name, { create: true })) as unknown as SyncHandleFile;
  if (typeof file.createSyncAccessHandle !== 'function')
    throw new OwnCopyUnsupportedError('no synchronous file access here (OPFS sync handles need a dedicated worker)');
  const until = Date.now() + OPFS_OPEN_WAIT_MS;
  for (;;) {
    try {
      return await file.createSyncAccessHandle();
    } catch (e) {
      // Another handle is open on the file (the previous node's worker is still ending).
      if ((e as Error)?.name !== 'NoModificationAllowedError' || Date.now() >= until) throw e;
      await new Promise((r) => setTimeout(r, OPFS_OPEN_RETRY_MS));
    }
  }
}
