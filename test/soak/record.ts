// One fault scenario's outcome: figures, the checks its criterion is made of, and checks that are
// not built yet (pending hooks). Both the fast CI variants and `npm run soak` record outcomes this
// way; the soak runner (test/soak/run.ts) collects them into its JSON report.
import { mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * `pass`: every check ran and held. `partial`: every check that ran held, but some are not built
 * (the criterion is not fully proven). `fail`: a check failed. `not-built`: nothing could run.
 * `error`: the scenario crashed or timed out before recording.
 */
export type ScenarioStatus = 'pass' | 'partial' | 'fail' | 'not-built' | 'error';

export type Figure = number | string | boolean | null;

export interface Check {
  name: string;
  /** null: not built yet (a hook for work in progress); never counted as held. */
  ok: boolean | null;
  detail: string;
}

export interface ScenarioOutcome {
  /** Row of issue 12's table (S1..S11), or S12: issue 10's scale test. */
  id: string;
  title: string;
  /** The "must hold" column, verbatim in spirit. */
  criterion: string;
  /** Where it ran: real Chromium tabs, the seeded simulation, or both. */
  level: 'browser' | 'simulation' | 'browser+simulation';
  /** `soak` (npm run soak) or `ci` (the fast variant in npm test). */
  scale: 'soak' | 'ci';
  status: ScenarioStatus;
  figures: Record<string, Figure>;
  checks: Check[];
  /** How this run differs from the wording (smaller machine, parts not built), if at all. */
  deviation?: string;
  durationMs: number;
}

/** True when running under `npm run soak` (the long numbers). */
export const SOAK = process.env.SOAK === '1';

/** Picks the soak or the CI number. */
export function scaled<T>(soak: T, ci: T): T {
  return SOAK ? soak : ci;
}

/** Directory the outcomes are written to (the runner sets SOAK_OUT; CI runs use a temp dir). */
export function outcomeDir(): string {
  return process.env.SOAK_OUT ?? join(tmpdir(), 'tabula-soak-outcomes');
}

export function statusOf(checks: readonly Check[]): ScenarioStatus {
  if (checks.length === 0) return 'error';
  if (checks.some((c) => c.ok === false)) return 'fail';
  if (checks.every((c) => c.ok === null)) return 'not-built';
  if (checks.some((c) => c.ok === null)) return 'partial';
  return 'pass';
}

/** Collects one scenario's figures and checks; `save()` writes `<outcomeDir>/<id>.json`. */
export class ScenarioRecorder {
  readonly figures: Record<string, Figure> = {};
  readonly checks: Check[] = [];
  deviation: string | undefined;
  private readonly t0 = Date.now();

  constructor(
    readonly id: string,
    readonly title: string,
    readonly criterion: string,
    readonly level: ScenarioOutcome['level']
  ) {}

  figure(name: string, value: Figure): this {
    this.figures[name] = value;
    return this;
  }

  check(name: string, ok: boolean, detail = ''): boolean {
    this.checks.push({ name, ok, detail });
    return ok;
  }

  /** A part of the criterion that the current code cannot show yet: reported as not built. */
  pending(name: string, why: string): void {
    this.checks.push({ name, ok: null, detail: `not built: ${why}` });
  }

  outcome(): ScenarioOutcome {
    return {
      id: this.id,
      title: this.title,
      criterion: this.criterion,
      level: this.level,
      scale: SOAK ? 'soak' : 'ci',
      status: statusOf(this.checks),
      figures: this.figures,
      checks: this.checks,
      ...(this.deviation ? { deviation: this.deviation } : {}),
      durationMs: Date.now() - this.t0
    };
  }

  /** Writes the outcome file and prints a one-line summary; returns the outcome. */
  save(): ScenarioOutcome {
    const o = this.outcome();
    const dir = outcomeDir();
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, `${this.id}.json`), JSON.stringify(o, null, 2));
    console.log(`[${o.id}] ${o.status}: ${summarize(o.figures)}`);
    for (const c of o.checks)
      if (c.ok !== true) console.log(`[${o.id}]   ${c.ok === null ? 'pending' : 'FAILED'}: ${c.name} (${c.detail})`);
    return o;
  }

  /** Names of the checks that ran and failed, with details (for a test's assertion). */
  failures(): string[] {
    return this.checks.filter((c) => c.ok === false).map((c) => `${c.name}: ${c.detail}`);
  }
}

export function summarize(figures: Record<string, Figure>): string {
  return Object.entries(figures)
    .map(([k, v]) => `${k}=${v}`)
    .join(', ');
}
