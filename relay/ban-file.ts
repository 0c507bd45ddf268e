// The relay's bans across restarts: `<data-dir>/peer-bans.json`, `{ v: 1, bans: [...] }` as
// core/peers/ban-persist.ts saves it (bounded to BAN_PERSIST_MAX records), written atomically
// (temporary file, then rename; mode 0600). A missing, oversized or unparsable file loads as
// nothing: the relay starts with no bans rather than not at all.
import { readFile, rename, stat, writeFile } from 'node:fs/promises';
import type { BanStore } from '../src/lib/core/peers/ban-persist.js';

export const BANS_FILE = 'peer-bans.json';
/** Largest bans file read, bytes (BAN_PERSIST_MAX records fit in well under half of it). */
export const BANS_FILE_MAX_BYTES = 256 * 1024;

/** A BanStore over the file at `path`. */
export function fileBanStore(path: string): BanStore {
  return {
    async load() {
      try {
        if ((await stat(path)).size > BANS_FILE_MAX_BYTES) return undefined;
        return JSON.parse(await readFile(path, 'utf8')) as unknown;
      } catch {
        return undefined;
      }
    },
    async save(saved) {
      const tmp = `${path}.tmp-${process.pid}`;
      await writeFile(tmp, `${JSON.stringify(saved)}\n`, { mode: 0o600 });
      await rename(tmp, path);
    }
  };
}
