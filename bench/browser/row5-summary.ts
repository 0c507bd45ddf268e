// Row 5 (browser)'s figures and table from what bench/browser/row5.ts measured: pure, so the rules
// below are unit-tested (test/unit/bench-failures.test.ts).
//
// A ratio or a "met" is printed only for work that completed: if the comparator (the replaying
// full replica) did not catch up within its deadline, its time is not a replay time, so the ratio
// is "—" and "≥ 10×" is "not measured"; if any counted join never showed the state, the median
// and p99 are "—" (a failed join has no time to rank), the ratio is "—" and "< 1.5 s" is "missed".
// Each such reason is listed in `failures` (the results file) and the row is recorded as failed.
import { quantile } from './stats.js';

export const TARGET_MS = 1500;
export const TARGET_RATIO = 10;

export interface Row5Join {
  /** From page open (ms); null: not reached. networkStartMs: the worker's node started its network (page loaded, worker and store open). */
  networkStartMs: number | null;
  relayLinkMs: number | null;
  firstDirectLinkMs: number | null;
  askedMs: number | null;
  agreedMs: number | null;
  downloadedMs: number | null;
  checkedMs: number | null;
  installedMs: number | null;
  visibleMs: number | null;
  verifiedMs: number | null;
  entries: number;
  snapshotBytes: number;
  peersAsked: number;
  agreeing: number;
  state: string;
  role: string;
  profiled: boolean;
}

/** The comparator: a fresh full replica replaying every entry. `sameRoot`: its heads root became the writer's before the joins (else the joins had 2 keys at that state). */
export interface Row5Replay {
  ms: number;
  caughtUp: boolean;
  entries: number;
  sameRoot: boolean;
}

/** Page open → state visible over the counted joins; NaN (null in the results file) when any failed. */
export interface Row5Visible {
  median: number;
  p99: number;
  samples: number;
  /** Counted joins that never showed the state. */
  failed: number;
}

export interface Row5Result {
  entries: number;
  fillMs: number;
  archiveCaughtUpMs: number;
  replay: Row5Replay;
  joins: Row5Join[];
  visible: Row5Visible;
  /** Replay time ÷ median join time; NaN (null in the results file) unless both were measured. */
  ratio: number;
  /** Why a figure of this row was not measured; empty when all were. */
  failures: string[];
  profileFile?: string;
  profileTop?: string[];
  /** The profiled worker's CPU while profiled: busy (not idle) ms of the window's ms. */
  profileBusyMs?: number;
  profileWindowMs?: number;
}

const s1 = (ms: number | null) => (ms === null || !Number.isFinite(ms) ? '—' : `${(ms / 1000).toFixed(2)} s`);

/** The figures of the counted (not profiled) joins against the replay, and why any is not measured. */
export function summariseRow5(
  joins: readonly Row5Join[],
  replay: Row5Replay,
  entries: number
): Pick<Row5Result, 'visible' | 'ratio' | 'failures'> {
  const counted = joins.filter((j) => !j.profiled);
  const times = counted.map((j) => j.visibleMs).filter((v): v is number => v !== null && Number.isFinite(v));
  const failed = counted.length - times.length;
  const failures: string[] = [];
  if (!replay.caughtUp)
    failures.push(
      `the replaying device did not catch up (${replay.entries}/${entries} entries after ${s1(replay.ms)}): no replay time, no ratio`
    );
  if (failed > 0) failures.push(`${failed} of ${counted.length} joins never showed the state: no median, p99 or ratio`);
  if (counted.length === 0) failures.push('no join was counted');
  const measured = failed === 0 && counted.length > 0;
  const median = measured ? quantile(times, 0.5) : NaN;
  return {
    visible: { median, p99: measured ? quantile(times, 0.99) : NaN, samples: counted.length, failed },
    ratio: replay.caughtUp && measured ? replay.ms / median : NaN,
    failures
  };
}

/** The target cells: "met" only for a figure that was measured and meets it. */
export function row5Targets(r: Pick<Row5Result, 'visible' | 'ratio'>): string {
  const visible =
    r.visible.failed > 0
      ? 'missed'
      : !Number.isFinite(r.visible.p99)
        ? 'not measured'
        : r.visible.p99 < TARGET_MS
          ? 'met'
          : 'missed';
  const ratio = !Number.isFinite(r.ratio) ? 'not measured' : r.ratio >= TARGET_RATIO ? 'met' : 'missed';
  return `< ${TARGET_MS / 1000} s (${visible}); ≥ ${TARGET_RATIO}× (${ratio})`;
}

export function formatRow5(r: Row5Result): string {
  const counted = r.joins.filter((j) => !j.profiled);
  const med = (k: keyof Row5Join) => {
    const xs = counted.map((j) => j[k]).filter((v): v is number => typeof v === 'number');
    return xs.length === counted.length ? quantile(xs, 0.5) : null;
  };
  const step = (a: keyof Row5Join, b: keyof Row5Join) => {
    const xs = counted
      .map((j) => (typeof j[a] === 'number' && typeof j[b] === 'number' ? (j[b] as number) - (j[a] as number) : null))
      .filter((v): v is number => v !== null);
    return xs.length === counted.length ? quantile(xs, 0.5) : null;
  };
  const ratio = Number.isFinite(r.ratio) ? `${r.ratio.toFixed(1)}×` : '—';
  const line = (j: Row5Join) =>
    `| ${j.profiled ? 'profiled (not counted)' : 'join'} | ${s1(j.networkStartMs)} | ${s1(j.relayLinkMs)} | ${s1(j.firstDirectLinkMs)} | ${s1(j.askedMs)} | ${s1(j.agreedMs)} | ${s1(j.downloadedMs)} | ${s1(j.installedMs)} | ${s1(j.visibleMs)} | ${s1(j.verifiedMs)} | ${j.state}, ${j.agreeing}/${j.peersAsked} agreeing, ${j.entries} entries, ${(j.snapshotBytes / 2 ** 20).toFixed(1)} MiB |`;
  return [
    `## Row 5 (browser), cold join of a light replica: a network of ${r.entries} entries (issue: 100k)`,
    `- network: a full replica in Chromium filled through window.tabula.put in ${s1(r.fillMs)}, the relay's archive replica (caught up ${s1(r.archiveCaughtUpMs)} after the fill) and the comparator device below: 3 keys`,
    `- comparator: a fresh device at \`?role=full\` replaying every entry through sync: ${r.replay.caughtUp ? 'caught up' : `did NOT catch up (${r.replay.entries} entries)`} in ${s1(r.replay.ms)} from page open`,
    `- ours: a fresh device at \`/\` (a light replica: it joins), from page open; ${r.visible.samples} joins (p99 of so few samples is their largest), each a new profile`,
    `- verified: only the first join waits for it (the others close once the state is visible: their "verified" is "—" unless already verified by then)`,
    ...r.failures.map((f) => `- NOT MEASURED: ${f}`),
    `- steps (median): network started (page loaded, worker and store open) ${s1(med('networkStartMs'))}; relay link ${s1(med('relayLinkMs'))}; first direct link ${s1(med('firstDirectLinkMs'))}; asked ${s1(med('askedMs'))}; votes ${s1(step('askedMs', 'agreedMs'))}; download ${s1(step('agreedMs', 'downloadedMs'))}; verify + install ${s1(step('downloadedMs', 'installedMs'))}; installed → visible ${s1(step('installedMs', 'visibleMs'))}; verified at ${s1(med('verifiedMs'))}`,
    '',
    '| # | measures | ours median | ours p99 | comparator (same run) | ratio | target |',
    '|---|---|---|---|---|---|---|',
    `| 5 (browser) | page open → state visible | ${s1(r.visible.median)} | ${s1(r.visible.p99)} | replay every entry: ${r.replay.caughtUp ? s1(r.replay.ms) : `did NOT catch up in ${s1(r.replay.ms)}`} | ${ratio} | ${row5Targets(r)} |`,
    '',
    '| device | network started | relay link | first direct link | asked | votes tallied | downloaded | installed | state visible | verified | join |',
    '|---|---|---|---|---|---|---|---|---|---|---|',
    ...r.joins.map(line),
    ...(r.profileTop
      ? [
          `- the profiled join's node worker was busy ${s1(r.profileBusyMs ?? null)} of the ${s1(r.profileWindowMs ?? null)} from its attach to state visible (CPU profile, 1 ms samples)`,
          `- CPU profile of the profiled join's node worker, from page.goto's return (~0.7 s after page open) → state visible (${r.profileFile}); self: share of its busy samples (idle left out), total: share of all samples:`,
          ...r.profileTop.map((t) => `  - ${t}`)
        ]
      : [])
  ].join('\n');
}
