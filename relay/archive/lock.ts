// One process at a time on an archive: a lock file with the holder's PID. A lock left behind by
// a killed process (its PID no longer runs, or it is our PID but not held by us, or the file was
// last written before the host booted: PIDs are reused after a reboot) is taken over. The holder
// touches the file every LOCK_TOUCH_MS, so a live lock is never older than the boot.
import { openSync, readFileSync, rmSync, statSync, utimesSync, writeSync, closeSync } from 'node:fs';
import { uptime } from 'node:os';
import { join } from 'node:path';

export const LOCK_FILE = 'archive.lock';
/** The holder refreshes the lock file's mtime this often, ms. */
export const LOCK_TOUCH_MS = 60_000;

/** Lock files this process holds: one with our PID that is not here is from an earlier process (e.g. PID 1 in a container). */
const held = new Set<string>();

/** Another live process (the running relay, or a CLI import) holds the archive. */
export class ArchiveLockedError extends Error {
  override name = 'ArchiveLockedError';
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** The lock file was last written before this boot of the host (its PID may be another process now). */
function fromEarlierBoot(path: string): boolean {
  try {
    return statSync(path).mtimeMs < Date.now() - uptime() * 1000 - LOCK_TOUCH_MS;
  } catch {
    return false;
  }
}

function tryCreate(path: string): boolean {
  try {
    const fd = openSync(path, 'wx', 0o600);
    writeSync(fd, String(process.pid));
    closeSync(fd);
    return true;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw e;
  }
}

/**
 * Takes `<dir>/archive.lock`; returns its release function. Throws ArchiveLockedError when a
 * live process holds it.
 */
export function lockArchive(dir: string): () => void {
  const path = join(dir, LOCK_FILE);
  for (let attempt = 0; attempt < 2; attempt++) {
    if (tryCreate(path)) {
      held.add(path);
      const touch = setInterval(() => {
        const now = new Date();
        try {
          utimesSync(path, now, now);
        } catch {
          // Removed meanwhile (release): nothing to refresh.
        }
      }, LOCK_TOUCH_MS);
      touch.unref();
      return () => {
        clearInterval(touch);
        held.delete(path);
        rmSync(path, { force: true });
      };
    }
    let holder = NaN;
    try {
      holder = Number(readFileSync(path, 'utf8').slice(0, 16));
    } catch {
      // Removed meanwhile: try again.
    }
    const ours = holder === process.pid;
    const live = !ours && Number.isInteger(holder) && holder > 0 && alive(holder) && !fromEarlierBoot(path);
    if ((ours && held.has(path)) || live) {
      throw new ArchiveLockedError(
        `the archive in ${dir} is in use by process ${holder} (if that is not a relay, delete ${path})`
      );
    }
    rmSync(path, { force: true }); // stale: its process is gone
  }
  throw new ArchiveLockedError(`could not lock the archive in ${dir}`);
}
