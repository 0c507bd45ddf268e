// An in-memory stand-in for an OPFS FileSystemSyncAccessHandle (unit tests of the own copy only:
// the e2e tests use real OPFS in Chromium). `space` bounds the size, for short writes.
import type { CopyFile } from '../../src/lib/core/own-copy.js';

export class MemoryCopyFile implements CopyFile {
  bytes = new Uint8Array(0);
  flushes = 0;
  closed = false;

  constructor(public space = Infinity) {}

  getSize(): number {
    return this.bytes.length;
  }

  read(buffer: Uint8Array, { at }: { at: number }): number {
    const part = this.bytes.subarray(at, at + buffer.length);
    buffer.set(part);
    return part.length;
  }

  write(buffer: Uint8Array, { at }: { at: number }): number {
    const n = Math.max(0, Math.min(buffer.length, this.space - at));
    if (at + n > this.bytes.length) {
      const grown = new Uint8Array(at + n);
      grown.set(this.bytes);
      this.bytes = grown;
    }
    this.bytes.set(buffer.subarray(0, n), at);
    return n;
  }

  truncate(size: number): void {
    const next = new Uint8Array(size);
    next.set(this.bytes.subarray(0, size));
    this.bytes = next;
  }

  flush(): void {
    this.flushes++;
  }

  close(): void {
    this.closed = true;
  }

  /** The same bytes behind a new handle (a restart). */
  reopen(): MemoryCopyFile {
    const f = new MemoryCopyFile(this.space);
    f.bytes = this.bytes.slice();
    return f;
  }
}

/**
 * An opener of `file()` that fails as a locked OPFS file (NoModificationAllowedError) while
 * `s.locked`; `s.attempts` counts the calls, `s.opened` is the last file opened.
 */
export function lockableOpen(file: () => MemoryCopyFile) {
  const s: { locked: boolean; attempts: number; opened?: MemoryCopyFile } = { locked: true, attempts: 0 };
  const open = async () => {
    s.attempts++;
    if (s.locked) throw new Error('NoModificationAllowedError: the file is locked by another tab');
    return (s.opened = file());
  };
  return { s, open };
}
