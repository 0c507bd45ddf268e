// Red team 10 (lockArchive, relay/archive/lock.ts; README "Where data lives": "a lock left by a
// killed process is taken over"): the lock file holds the holder's PID, and a lock whose PID is
// alive is honoured. After a power cut or a host reboot the archive.lock of the dead relay stays,
// and PIDs start again from 1: the old relay's PID (say 812, under systemd) is often some other
// process of the new boot. The relay then refuses to start with ArchiveLockedError "in use by
// process 812" until someone deletes the file by hand, which the README says is not needed.
//
// Input: `<dir>/archive.lock` holding the PID of a live process that is not a relay (this test's
//   parent process), last written before the host booted (mtime set to before os.uptime()).
// Expected: taken over as stale (no process of this boot wrote it).
// Actual (before the fix): ArchiveLockedError.
// Severity: medium (the always-on replica does not come back after a reboot or a power cut
//   without an operator; no data lost).
// Fixed: a lock file last written before the host booted (more than a minute before) is stale,
//   whatever its PID; the holder touches the file every minute, so a live lock never looks that
//   old, even after the wall clock was set forward.
import { utimes, writeFile } from 'node:fs/promises';
import { uptime } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ArchiveLockedError, LOCK_FILE, lockArchive } from '../../relay/archive/lock.js';
import { tempDir } from '../helpers/relay-fixture.js';

describe('redteam10: archive.lock after a reboot', () => {
  it('takes over a lock written before the host booted, even if its PID is alive now', async () => {
    const dir = await tempDir('tabula-red10-lock-');
    const path = join(dir, LOCK_FILE);
    await writeFile(path, String(process.ppid));
    const beforeBoot = (Date.now() - uptime() * 1000 - 3_600_000) / 1000;
    await utimes(path, beforeBoot, beforeBoot);
    const release = lockArchive(dir);
    release();

    // Still honoured: a lock of a live process written during this boot.
    await writeFile(path, String(process.ppid));
    expect(() => lockArchive(dir)).toThrow(ArchiveLockedError);
  });
});
