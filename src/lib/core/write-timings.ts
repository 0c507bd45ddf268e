// Wall-clock accounting of the ledger's work queue (pure bookkeeping): where the time between a
// local write's request and its acknowledgement goes (waiting for the queue, applying and signing,
// the store's strict commit) and how much of the queue ingest holds. Cheap (a few additions per
// group and per ingest); read through Ledger.stats().queue, e.g. by a soak that must explain why
// acknowledgements lag.

/** Totals since the ledger opened; every duration in ms (performance.now()). */
export interface QueueTimings {
  /** Local write groups committed (or refused), and the writes they held. */
  groups: number;
  writes: number;
  /** Largest group. */
  maxGroup: number;
  /** Summed over groups: from the first write's request until the group's step started. */
  waitMs: number;
  /** Summed over groups: applying each write to the document and signing it. */
  prepareMs: number;
  /** Summed over groups: the store's strict transaction(s). */
  commitMs: number;
  /** Longest single group commit in the store. */
  maxCommitMs: number;
  /** Ingest steps (replicated batches) that held the queue, and their summed duration. */
  ingests: number;
  ingestMs: number;
}

/** Accumulates QueueTimings; `now` is injectable for tests. */
export class QueueClock {
  private readonly t: QueueTimings = {
    groups: 0,
    writes: 0,
    maxGroup: 0,
    waitMs: 0,
    prepareMs: 0,
    commitMs: 0,
    maxCommitMs: 0,
    ingests: 0,
    ingestMs: 0
  };

  constructor(readonly now: () => number = () => performance.now()) {}

  /** A group of `size` writes started its step; `requestedAt`: its first write's request time. */
  groupStarted(size: number, requestedAt: number): void {
    this.t.groups++;
    this.t.writes += size;
    this.t.maxGroup = Math.max(this.t.maxGroup, size);
    this.t.waitMs += Math.max(0, this.now() - requestedAt);
  }

  prepared(ms: number): void {
    this.t.prepareMs += ms;
  }

  committed(ms: number): void {
    this.t.commitMs += ms;
    this.t.maxCommitMs = Math.max(this.t.maxCommitMs, ms);
  }

  ingested(ms: number): void {
    this.t.ingests++;
    this.t.ingestMs += ms;
  }

  /** A copy, durations rounded to 0.1 ms. */
  snapshot(): QueueTimings {
    const r = (x: number) => Math.round(x * 10) / 10;
    const t = this.t;
    return {
      ...t,
      waitMs: r(t.waitMs),
      prepareMs: r(t.prepareMs),
      commitMs: r(t.commitMs),
      maxCommitMs: r(t.maxCommitMs),
      ingestMs: r(t.ingestMs)
    };
  }
}
