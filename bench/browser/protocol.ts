// Messages between the bench page and its worker, and the sample shape both sides share.

/** One measured variant: per-sample durations (ms) and how many items each sample covered. */
export interface Series {
  /** Variant label, e.g. "tabula Ledger.put" or "raw IndexedDB put". */
  name: string;
  /** Duration of each sample in milliseconds. */
  ms: number[];
  /** Items (writes, entries) per sample. */
  perSample: number;
}

/** What a bench function in the worker returns: the variants in the order they ran, plus notes. */
export interface BenchOutput {
  series: Series[];
  notes: string[];
}

export interface BenchRequest {
  id: number;
  bench: string;
  params: Record<string, number>;
}

export type BenchResponse = { id: number; ok: true; out: BenchOutput } | { id: number; ok: false; error: string };
