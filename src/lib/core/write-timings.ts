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
  /**
   * Summed over writes: from each write's request until its group's step started (a write's
   * latency is this plus its group's prepare and commit; waitMs undercounts it for big groups).
   */
  writeWaitMs: number;
  /** Summed over groups: applying each write to the document and signing it. */
  prepareMs: number;
  /** Summed over groups: the store's strict transaction(s). */
  commitMs: number;
  /** Longest single group commit in the store. */
  maxCommitMs: number;
  /** Ingest steps (replicated batches) that held the queue, and their summed duration. */
  ingests: number;
  ingestMs: number;
  /** Write groups that ran before replicated ingest steps queued ahead of them (step-queue.ts). */
  overtakes: number;
}

/** Accumulates QueueTimings; `now` is injectable for tests. */
export class QueueClock {
  private readonly t: Omit<QueueTimings, 'overtakes'> = {
    groups: 0,
    writes: 0,
    maxGroup: 0,
    waitMs: 0,
    writeWaitMs: 0,
    prepareMs: 0,
    commitMs: 0,
    maxCommitMs: 0,
    ingests: 0,
    ingestMs: 0
  };

  constructor(readonly now: () => number = () => performance.now()) {}

  /** A group started its step; `requestedAt`: each of its writes' request time, oldest first. */
  groupStarted(requestedAt: readonly number[]): void {
    const now = this.now();
    this.t.groups++;
    this.t.writes += requestedAt.length;
    this.t.maxGroup = Math.max(this.t.maxGroup, requestedAt.length);
    this.t.waitMs += Math.max(0, now - (requestedAt[0] ?? now));
    for (const at of requestedAt) this.t.writeWaitMs += Math.max(0, now - at);
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
  snapshot(): Omit<QueueTimings, 'overtakes'> {
    const r = (x: number) => Math.round(x * 10) / 10;
    const t = this.t;
    return {
      ...t,
      waitMs: r(t.waitMs),
      writeWaitMs: r(t.writeWaitMs),
      prepareMs: r(t.prepareMs),
      commitMs: r(t.commitMs),
      maxCommitMs: r(t.maxCommitMs),
      ingestMs: r(t.ingestMs)
    };
  }
}
