// Memory stores whose calls can be held open, to look at a ledger between an await and the next.
import { MemoryDisk, MemoryLedgerStore } from '../../src/lib/core/memory-store.js';
import type { FeedHead, HashedEntry } from '../../src/lib/core/types.js';

/** A gate: hold() closes it (and arms `started`), letGo() opens it. */
class Gate {
  private gate: Promise<void> | null = null;
  private release: (() => void) | null = null;
  private onStart: () => void = () => undefined;
  /** Resolves once a call reached the gate after the last hold(). */
  started: Promise<void> = Promise.resolve();

  hold(): void {
    this.gate = new Promise((r) => (this.release = r));
    this.started = new Promise((r) => (this.onStart = r));
  }

  letGo(): void {
    this.release?.();
    this.gate = null;
  }

  async pass(): Promise<void> {
    if (this.gate === null) return;
    this.onStart();
    await this.gate;
  }
}

/** A memory store whose `ingest` (a batch being written) waits at `gate`. */
export class GatedIngestStore extends MemoryLedgerStore {
  readonly gate = new Gate();
  constructor() {
    super({ disk: new MemoryDisk() });
  }
  override async ingest(entries: HashedEntry[]): ReturnType<MemoryLedgerStore['ingest']> {
    await this.gate.pass();
    return super.ingest(entries);
  }
}

/** A memory store whose `heads` (read by a FeedSet resync) waits at `gate`. */
export class GatedHeadsStore extends MemoryLedgerStore {
  readonly gate = new Gate();
  constructor() {
    super({ disk: new MemoryDisk() });
  }
  override async heads(): Promise<FeedHead[]> {
    await this.gate.pass();
    return super.heads();
  }
}
