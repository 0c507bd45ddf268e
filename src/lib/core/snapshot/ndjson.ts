// Bounded NDJSON reading: splits a byte stream into '\n'-terminated lines without ever holding
// more than one line (≤ maxLineBytes) plus one chunk, and stops at a total byte cap, so a gzip
// bomb or a line without end fails fast instead of filling memory.
import { CorruptSnapshotError, LedgerError, SnapshotTooLargeError } from '../errors.js';

const NL = 0x0a;

export class LineSplitter {
  private parts: Uint8Array[] = [];
  private pending = 0;

  constructor(private readonly maxLineBytes: number) {}

  /** Calls `onLine` with each completed line, without its '\n'. */
  push(chunk: Uint8Array, onLine: (line: Uint8Array) => void): void {
    let start = 0;
    for (;;) {
      const nl = chunk.indexOf(NL, start);
      const end = nl < 0 ? chunk.length : nl;
      if (this.pending + (end - start) > this.maxLineBytes)
        throw new SnapshotTooLargeError('line-bytes', `snapshot line longer than ${this.maxLineBytes} bytes`);
      if (nl < 0) {
        if (end > start) {
          // Copy: the caller may reuse the chunk's buffer.
          this.parts.push(chunk.slice(start, end));
          this.pending += end - start;
        }
        return;
      }
      onLine(this.take(chunk.subarray(start, nl)));
      start = nl + 1;
    }
  }

  /** At end of input: a non-empty unterminated line means the content was cut. */
  finish(): void {
    if (this.pending > 0) throw new CorruptSnapshotError('snapshot is truncated: last line has no newline');
  }

  private take(tail: Uint8Array): Uint8Array {
    if (this.parts.length === 0) return tail;
    const line = new Uint8Array(this.pending + tail.length);
    let off = 0;
    for (const p of this.parts) {
      line.set(p, off);
      off += p.length;
    }
    line.set(tail, off);
    this.parts = [];
    this.pending = 0;
    return line;
  }
}

export interface ReadLinesLimits {
  maxBytes: number;
  maxLineBytes: number;
}

/**
 * Reads `stream` to its end, calling `onLine` for each line. Stream errors that are not ledger
 * errors (e.g. a gzip format error) become CorruptSnapshotError. On any failure the stream is
 * cancelled, which also stops whatever feeds it.
 */
export async function readLines(
  stream: ReadableStream<Uint8Array>,
  limits: ReadLinesLimits,
  onLine: (line: Uint8Array) => void
): Promise<void> {
  const reader = stream.getReader();
  const splitter = new LineSplitter(limits.maxLineBytes);
  let total = 0;
  try {
    for (;;) {
      let step: ReadableStreamReadResult<Uint8Array>;
      try {
        step = await reader.read();
      } catch (e) {
        if (e instanceof LedgerError) throw e;
        throw new CorruptSnapshotError(`cannot read snapshot: ${(e as Error)?.message ?? String(e)}`, { cause: e });
      }
      if (step.done) break;
      total += step.value.length;
      if (total > limits.maxBytes)
        throw new SnapshotTooLargeError('decompressed-bytes', `snapshot content exceeds ${limits.maxBytes} bytes`);
      splitter.push(step.value, onLine);
    }
    splitter.finish();
  } catch (e) {
    reader.cancel(e).catch(() => {});
    throw e;
  } finally {
    reader.releaseLock();
  }
}
